"""Vercel and Netlify deployment webhooks: a production deploy raises "Generated code deployed
without human review" when its commit's change had no approving review by someone other than
its author (the SCM webhooks' scm_changes / scm_reviews), or when it did not come from the
project's canonical repository (provenance left the company's git: a CLI or upload deploy, or a
repository a generator such as Lovable or Bolt made on its own).

Verified before anything is parsed:
- Vercel: `x-vercel-signature` is the hex HMAC-SHA1 of the raw body with the webhook's secret
  (vercel.com/docs/webhooks, "Securing webhooks").
- Netlify: `X-Webhook-Signature` is a JWS (HS256) signed with the notification's "JWS secret
  token", whose payload has iss = "netlify" and sha256 = the hex SHA-256 of the raw body
  (docs.netlify.com/site-deploys/notifications, "Payload signature").
Replays are refused (409): a delivery key seen before (Vercel's event id; either provider's
deployment id with its state), a Vercel event whose createdAt is older than 15 minutes, or a
Netlify deploy whose updated_at is older than an hour (Netlify's signature carries no time)."""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import time
from datetime import datetime
from typing import Any

import sqlite_utils
from aiohttp import web

from shadowmap.collector.alerts.ai_authorship import is_ai_login
from shadowmap.collector.alerts.findings import BY_ID
from shadowmap.collector.alerts.raising import Evidence, dedupe_key, open_or_bump
from shadowmap.collector.errors import ApiError
from shadowmap.collector.http import BodyError, read_body
from shadowmap.collector.state import STORE
from shadowmap.collector.store.sqlite import deploys, scm
from shadowmap.collector.timestamps import utc_now
from shadowmap.contract.repo_names import normalise_repo, provider_path

log = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024
MAX_AGE_SECONDS = 15 * 60          # a signed Vercel event older than this is a replay, not a retry
NETLIFY_MAX_AGE_SECONDS = 60 * 60  # Netlify signs no time: the deploy's updated_at, set as its state changed
VERCEL_DEPLOYED = ("deployment.succeeded", "deployment.ready", "deployment.promoted")


def _text(obj: Any, *path: str) -> str:
    for step in path:
        obj = obj.get(step) if isinstance(obj, dict) else None
    return obj[:512] if isinstance(obj, str) else ""


# ---- signatures --------------------------------------------------------------------------------

def vercel_signature_ok(secret: str, raw: bytes, header: str) -> bool:
    expected = hmac.new(secret.encode(), raw, hashlib.sha1).hexdigest()
    return hmac.compare_digest(header.strip().lower().encode("utf-8", "replace"), expected.encode())


def _b64url(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def netlify_signature_ok(secret: str, raw: bytes, header: str) -> bool:
    """A compact JWS, HS256 only (the header's alg is checked: no "none", no other key type)."""
    parts = header.strip().split(".")
    if len(parts) != 3 or len(header) > 4096:
        return False
    try:
        head, claims = json.loads(_b64url(parts[0])), json.loads(_b64url(parts[1]))
        signature = _b64url(parts[2])
    except (ValueError, binascii.Error):
        return False
    if not isinstance(head, dict) or head.get("alg") != "HS256" or not isinstance(claims, dict):
        return False
    expected = hmac.new(secret.encode(), f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256).digest()
    if not hmac.compare_digest(signature, expected):
        return False
    return claims.get("iss") == "netlify" and hmac.compare_digest(
        str(claims.get("sha256", "")).lower().encode(), hashlib.sha256(raw).hexdigest().encode())


# ---- what a delivery says ----------------------------------------------------------------------

def vercel_deploy(payload: dict) -> dict[str, Any] | None:
    """The production deployment a Vercel event tells of, or None (another event or target)."""
    body: dict = payload["payload"] if isinstance(payload.get("payload"), dict) else {}
    if payload.get("type") not in VERCEL_DEPLOYED or _text(body, "target") != "production":
        return None
    deployment: dict = body["deployment"] if isinstance(body.get("deployment"), dict) else {}
    meta = deployment.get("meta")
    owner = _text(meta, "githubCommitOrg") or _text(meta, "githubOrg")
    name = _text(meta, "githubCommitRepo") or _text(meta, "githubRepo")
    return {"deploy_id": _text(body, "deployment", "id"), "project": _text(body, "project", "id"),
            "target": "production", "remote": normalise_repo(f"github.com/{owner}/{name}") if owner and name else None,
            "sha": _text(meta, "githubCommitSha"), "branch": _text(meta, "githubCommitRef"),
            "author": _text(meta, "githubCommitAuthorLogin"), "url": _text(body, "deployment", "url")}


def netlify_deploy(payload: dict) -> dict[str, Any] | None:
    """The production deploy a Netlify notification tells of, or None (not a published production deploy)."""
    if _text(payload, "state") != "ready" or _text(payload, "context") != "production":
        return None
    commit_url = _text(payload, "commit_url")
    remote = normalise_repo(commit_url.split("/commit/")[0]) if "/commit/" in commit_url else None
    return {"deploy_id": _text(payload, "id"), "project": _text(payload, "site_id"), "target": "production",
            "remote": remote, "sha": _text(payload, "commit_ref"), "branch": _text(payload, "branch"),
            "author": _text(payload, "committer"), "url": _text(payload, "ssl_url") or _text(payload, "url")}


# ---- judging -----------------------------------------------------------------------------------

def judge(db: sqlite_utils.Database, provider: str, deploy: dict[str, Any]) -> dict[str, Any]:
    """Writer fn: why a production deploy shipped unreviewed or from outside git ([] when it did
    not), the alert it raised, and the deploy kept."""
    remote, sha = deploy["remote"], deploy["sha"]
    reasons: list[str] = []
    canonical = deploys.canonical_repo(db, provider, deploy["project"])
    known = deploys.known_repos(db)
    if remote is None:
        reasons.append("it was not deployed from a git repository (a CLI or upload deploy)")
    elif canonical and remote != canonical:
        reasons.append(f"it was deployed from {remote}, not the project's canonical repository {canonical}")
    elif not canonical and known and provider_path(remote).lower() not in known:
        reasons.append(f"it was deployed from {remote}, a repository the SCM webhooks do not know")
    change = deploys.change_of_commit(db, provider_path(remote), sha) if remote and sha else None
    if change is None and remote is not None:
        reasons.append(f"its commit {sha[:12] or '(none)'} is not in a merged, reviewed change")
    elif change is not None:
        approvers = [r for r in scm.approving_reviewers(db, change["provider"], change["repo"], change["number"])
                     if r.split("|", 1)[-1] != change["author"] and not is_ai_login(r.split("|", 1)[-1])]
        if not approvers:
            reasons.append(f"{change['repo']}#{change['number']} had no approving review by someone other "
                           f"than its author")
    alert_id = _raise(db, provider, deploy, change, reasons) if reasons else None
    deploys.save_deploy(db, {**deploy, "provider": provider, "repo": remote or "", "verdict": "; ".join(reasons)[:2000],
                             "alert_id": alert_id, "received_at": utc_now()})
    return {"reasons": reasons, "alert_id": alert_id}


def _raise(db: sqlite_utils.Database, provider: str, deploy: dict[str, Any], change: dict[str, Any] | None,
           reasons: list[str]) -> int:
    sessions = deploys.sessions_on_repo(db, deploy["remote"]) if deploy["remote"] else []
    user = (change or {}).get("author") or deploy["author"] or f"{provider} project {deploy['project']}"
    tool_id = sessions[0]["tool_id"] if sessions else None
    now = utc_now()
    facts: dict[str, Any] = {
        "reason": f"{provider} production deploy {deploy['deploy_id']}: {'; and '.join(reasons)}",
        "deploy": {"provider": provider, "id": deploy["deploy_id"], "project": deploy["project"],
                   "repo": deploy["remote"], "sha": deploy["sha"], "branch": deploy["branch"], "url": deploy["url"]}}
    if change is not None:
        facts["change"] = change["url"] or f"{change['repo']}#{change['number']}"
        answer = deploys.provenance_answer(db, deploy["remote"], int(change["number"]))
        if answer is not None:       # line-level: the AI-written share of the change's added lines
            facts["provenance"] = answer
    if sessions:          # the AI sessions recorded on that repository (tool, user, times; never their text)
        facts["sessions"] = sessions
    evidence = Evidence(BY_ID["unreviewed_ai_code"], tool_id, None, None, user, now, now, count=1,
                        users={user} | {s["user"] for s in sessions}, facts=facts)
    return open_or_bump(db, dedupe_key("unreviewed_ai_code", tool_id or f"deploy:{provider}", user), evidence)


# ---- handlers ----------------------------------------------------------------------------------

async def _raw(request: web.Request) -> bytes:
    try:
        raw = await read_body(request, MAX_BODY)
    except BodyError:
        raise ApiError(400, "bad_body", "the request body could not be read") from None
    if raw is None:
        raise ApiError(413, "too_large", f"body exceeds {MAX_BODY} bytes")
    return raw


def _json(raw: bytes) -> dict:
    try:
        payload = json.loads(raw)
    except (ValueError, RecursionError):
        raise ApiError(400, "bad_json", "body is not valid JSON") from None
    if not isinstance(payload, dict):
        raise ApiError(400, "bad_request", "body must be a JSON object")
    return payload


def _record(db: sqlite_utils.Database, provider: str, keys: list[str], deploy: dict[str, Any] | None) -> dict:
    """Writer fn: claim the delivery (refused if replayed), then judge a production deploy."""
    if not deploys.take_delivery(db, provider, keys, utc_now()):
        return {"replay": True}
    return judge(db, provider, deploy) if deploy is not None else {"ignored": "not a production deploy"}


async def _deliver(request: web.Request, provider: str, keys: list[str], deploy: dict[str, Any] | None) -> web.Response:
    result = await request.app[STORE].write(_record, provider, [k[:300] for k in keys if k], deploy)
    if result.get("replay"):
        raise ApiError(409, "replay", "this delivery was received before")
    log.info("%s deploy webhook: %s", provider, result)
    return web.json_response({"ok": True, **result})


def _age_seconds(iso: str) -> float:
    try:
        return abs(time.time() - datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp())
    except ValueError:
        return float("inf")


async def vercel_handler(request: web.Request) -> web.Response:
    secret = await request.app[STORE].read(deploys.deploy_secret, "vercel")
    raw = await _raw(request)
    if not secret or not vercel_signature_ok(secret, raw, request.headers.get("x-vercel-signature", "")):
        raise ApiError(401, "bad_signature", "x-vercel-signature does not match the webhook secret")
    payload = _json(raw)
    created = payload.get("createdAt")
    if not isinstance(created, int | float) or abs(time.time() - created / 1000) > MAX_AGE_SECONDS:
        raise ApiError(409, "stale", "the event's createdAt is missing or too old (a replay)")
    deploy = vercel_deploy(payload)
    keys = [f"event:{_text(payload, 'id')}"] if _text(payload, "id") else []
    if deploy is not None and deploy["deploy_id"]:
        keys.append(f"deploy:{deploy['deploy_id']}:{payload.get('type')}")
    if not keys:
        raise ApiError(400, "bad_payload", "the event has no id")
    return await _deliver(request, "vercel", keys, deploy)


async def netlify_handler(request: web.Request) -> web.Response:
    secret = await request.app[STORE].read(deploys.deploy_secret, "netlify")
    raw = await _raw(request)
    if not secret or not netlify_signature_ok(secret, raw, request.headers.get("X-Webhook-Signature", "")):
        raise ApiError(401, "bad_signature", "X-Webhook-Signature is not a JWS of this body with the shared secret")
    payload = _json(raw)
    if _age_seconds(_text(payload, "updated_at")) > NETLIFY_MAX_AGE_SECONDS:
        raise ApiError(409, "stale", "the deploy's updated_at is missing or too old (a replay)")
    deploy_id = _text(payload, "id")
    if not deploy_id:
        raise ApiError(400, "bad_payload", "the deploy has no id")
    return await _deliver(request, "netlify", [f"deploy:{deploy_id}:{_text(payload, 'state')}"], netlify_deploy(payload))


ROUTES = [
    web.post("/api/v1/deploys/vercel", vercel_handler),
    web.post("/api/v1/deploys/netlify", netlify_handler),
]
