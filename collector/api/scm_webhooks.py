"""GitHub and GitLab webhooks: raise "Generated code deployed without human review" when a
merged change carrying AI-authorship markers had no approving review by someone other than
its author; a later successful deployment of that change is added to the alert.

Deliveries are verified before anything is parsed: GitHub's X-Hub-Signature-256 (HMAC-SHA256
of the raw body with the shared secret), GitLab's X-Gitlab-Token (the shared token)."""
from __future__ import annotations

import hashlib
import hmac
import json
import logging

import sqlite_utils
from aiohttp import web

from shadowmap.collector.alerts.ai_authorship import agents_for_login, agents_for_person, agents_in_text
from shadowmap.collector.alerts.code_review import record_merge
from shadowmap.collector.errors import ApiError
from shadowmap.collector.http import BodyError, read_body
from shadowmap.collector.state import STORE
from shadowmap.collector.store.sqlite import deploys, org, scm
from shadowmap.collector.store.sqlite.scm import MAX_TEXT
from shadowmap.collector.timestamps import normalise_ts, utc_now
from shadowmap.contract.repo_names import normalise_repo

log = logging.getLogger(__name__)

MAX_BODY = 5 * 1024 * 1024


class PayloadError(ValueError):
    """The delivery is signed correctly but its JSON is not the shape the event promises."""


def _get(obj: object, *path: str | int, kind: type | tuple = str, default=None):
    for step in path:
        if isinstance(step, int) and isinstance(obj, list) and -len(obj) <= step < len(obj):
            obj = obj[step]
        elif isinstance(step, str) and isinstance(obj, dict):
            obj = obj.get(step)
        else:
            return default
    if kind is bool:
        return obj if isinstance(obj, bool) else default
    return obj if isinstance(obj, kind) and not isinstance(obj, bool) else default


def _need(value, what: str):
    if value is None:
        raise PayloadError(f"{what} is missing or has the wrong type")
    if isinstance(value, str):
        return value[:1024]
    if isinstance(value, int) and not 0 <= value < 2**53:  # what SQLite and every SCM can hold
        raise PayloadError(f"{what} is out of range")
    return value


# ---- parsing deliveries ------------------------------------------------------------------------

def record_commits(db: sqlite_utils.Database, provider: str, repo: str, ref: str, commits: list[dict]) -> int:
    """Writer fn: remember pushed commits that carry AI markers (by branch)."""
    rows = []
    for commit in commits[:2000]:
        if not isinstance(commit, dict):
            continue
        sha = _get(commit, "id")
        agents = agents_in_text(_get(commit, "message"))
        agents |= agents_for_person(_get(commit, "author", "name"), _get(commit, "author", "email"))
        agents |= agents_for_login(_get(commit, "author", "username"))
        if sha and agents:
            rows.append((provider, repo, sha[:64], ref[:256], json.dumps(sorted(agents))))
    return scm.save_ai_commits(db, rows)


# ---- the repository's name as agents report it (shadowmap.contract.repo_names) ----------------------

def _host_of(url: str, default: str) -> str:
    named = normalise_repo(url)
    return named.split("/", 1)[0] if named else default


def github_remote(payload: dict) -> str | None:
    """host/owner/name, the host taken from the repository's URL (GitHub Enterprise has its own)."""
    host = _host_of(_get(payload, "repository", "html_url") or "", "github.com")
    return normalise_repo(f"{host}/{_get(payload, 'repository', 'full_name') or ''}")


def gitlab_remote(payload: dict) -> str | None:
    """host/group/.../project, the host taken from the project's URL (self-managed GitLab)."""
    url = _get(payload, "project", "web_url") or _get(payload, "project", "git_http_url") or ""
    return normalise_repo(f"{_host_of(url, 'gitlab.com')}/{_get(payload, 'project', 'path_with_namespace') or ''}")


# ---- GitHub ------------------------------------------------------------------------------------

def github_delivery(db: sqlite_utils.Database, event: str, payload: dict) -> dict:
    repo = _need(_get(payload, "repository", "full_name"), "repository.full_name")
    if event == "push":
        ref = _get(payload, "ref", default="")
        commits = _get(payload, "commits", kind=list, default=[])
        return {"commits_marked": record_commits(db, "github", repo, ref.removeprefix("refs/heads/"), commits)}
    if event == "pull_request_review":
        number = _need(_get(payload, "pull_request", "number", kind=int), "pull_request.number")
        reviewer = _need(_get(payload, "review", "user", "login"), "review.user.login")
        state = (_get(payload, "review", "state", default="") or "").lower()
        if _get(payload, "action") == "dismissed":
            state = "dismissed"
        scm.save_review(db, "github", repo, number, reviewer, state)
        return {"review": state}
    if event == "pull_request":
        pr = _need(_get(payload, "pull_request", kind=dict), "pull_request")
        if _get(payload, "action") != "closed" or not _get(pr, "merged", kind=bool, default=False):
            return {"ignored": "not a merge"}
        author = _need(_get(pr, "user", "login"), "pull_request.user.login")
        agents = agents_for_login(author) | agents_in_text(_get(pr, "body")) | agents_in_text(_get(pr, "title"))
        change = {"provider": "github", "repo": repo, "number": _need(_get(pr, "number", kind=int), "number"),
                  "title": (_get(pr, "title") or "")[:MAX_TEXT], "author": author,
                  "merged_by": _get(pr, "merged_by", "login") or "",
                  "merged_at": _ts(_get(pr, "merged_at")), "merge_sha": (_get(pr, "merge_commit_sha") or "")[:64],
                  "head_sha": (_get(pr, "head", "sha") or "")[:64], "ai_agents": sorted(agents),
                  "url": (_get(pr, "html_url") or "")[:MAX_TEXT]}
        return {"alert_id": record_merge(db, change, _get(pr, "head", "ref") or "", author, github_remote(payload))}
    if event == "deployment_status":
        if (_get(payload, "deployment_status", "state") or "").lower() != "success":
            return {"ignored": "deployment not successful"}
        sha = _need(_get(payload, "deployment", "sha"), "deployment.sha")
        environment = _get(payload, "deployment", "environment") or "unknown"
        return {"alerts": scm.record_deployment(db, "github", repo, sha, environment[:MAX_TEXT])}
    return {"ignored": f"event {event[:40]!r} is not used"}


# ---- GitLab ------------------------------------------------------------------------------------

def gitlab_delivery(db: sqlite_utils.Database, event: str, payload: dict) -> dict:
    repo = _need(_get(payload, "project", "path_with_namespace"), "project.path_with_namespace")
    if event == "Push Hook":
        ref = _get(payload, "ref", default="")
        commits = _get(payload, "commits", kind=list, default=[])
        return {"commits_marked": record_commits(db, "gitlab", repo, ref.removeprefix("refs/heads/"), commits)}
    if event == "Merge Request Hook":
        attrs = _need(_get(payload, "object_attributes", kind=dict), "object_attributes")
        action = _get(attrs, "action") or ""
        number = _need(_get(attrs, "iid", kind=int), "object_attributes.iid")
        actor_id = _get(payload, "user", "id", kind=int)
        actor = _get(payload, "user", "username") or ""
        # Reviewers are keyed "id|username": GitLab names the author only by id.
        actor_key = f"{actor_id}|{actor}"
        if action in ("approved", "approval", "unapproved", "unapproval"):
            state = "approved" if action in ("approved", "approval") else "unapproved"
            scm.save_review(db, "gitlab", repo, number, actor_key, state)
            return {"review": state}
        if action != "merge":
            return {"ignored": "not a merge"}
        author_id = _get(attrs, "author_id", kind=int)
        commit_author = _get(attrs, "last_commit", "author", kind=dict, default={})
        agents = (agents_in_text(_get(attrs, "description")) | agents_in_text(_get(attrs, "title"))
                  | agents_in_text(_get(attrs, "last_commit", "message"))
                  | agents_for_person(_get(commit_author, "name"), _get(commit_author, "email")))
        author_login = actor if author_id == actor_id else f"user #{author_id}"
        change = {"provider": "gitlab", "repo": repo, "number": number, "title": (_get(attrs, "title") or "")[:MAX_TEXT],
                  "author": author_login, "merged_by": actor, "merged_at": _ts(_get(attrs, "updated_at")),
                  "merge_sha": (_get(attrs, "merge_commit_sha") or "")[:64],
                  "head_sha": (_get(attrs, "last_commit", "id") or "")[:64], "ai_agents": sorted(agents),
                  "url": (_get(attrs, "url") or "")[:MAX_TEXT]}
        author_key = scm.gitlab_reviewer_key(db, repo, number, author_id)
        return {"alert_id": record_merge(db, change, _get(attrs, "source_branch") or "", author_key,
                                         gitlab_remote(payload))}
    if event == "Deployment Hook":
        if (_get(payload, "status") or "").lower() != "success":
            return {"ignored": "deployment not successful"}
        sha = _need(_get(payload, "sha"), "sha")
        return {"alerts": scm.record_deployment(db, "gitlab", repo, sha, (_get(payload, "environment") or "unknown")[:MAX_TEXT])}
    return {"ignored": f"event {event[:40]!r} is not used"}


def _ts(value: str | None) -> str:
    if value:
        try:
            return normalise_ts(value.replace(" UTC", "Z").replace(" ", "T", 1) if " UTC" in value else value)
        except ValueError:
            pass
    return utc_now()


# ---- handlers ----------------------------------------------------------------------------------

async def _read(request: web.Request) -> bytes:
    try:
        raw = await read_body(request, MAX_BODY)
    except BodyError:
        raise ApiError(400, "bad_body", "the request body could not be read") from None
    if raw is None:
        raise ApiError(413, "too_large", f"body exceeds {MAX_BODY} bytes")
    return raw


# A delivery's ids, kept once it is processed: GitHub's X-GitHub-Delivery names the event and
# stays the same when it is redelivered; GitLab's Idempotency-Key stays the same across its
# retries. A signed delivery sent again (a replay, or a redelivery of one already processed)
# changes nothing. Without these headers a delivery is processed as before.
DELIVERY_HEADERS = {"github": ("X-GitHub-Delivery",), "gitlab": ("Idempotency-Key", "X-Gitlab-Webhook-UUID")}


def _once(db: sqlite_utils.Database, provider: str, keys: list[str], handle, event: str, payload: dict) -> dict:
    """Writer fn: the delivery's handler, unless a delivery with one of these ids was processed."""
    if keys and not deploys.take_delivery(db, provider, keys, utc_now()):
        return {"ignored": "this delivery was processed before (a replay or a redelivery)"}
    return handle(db, event, payload)


async def _deliver(request: web.Request, provider: str, event: str, raw: bytes) -> web.Response:
    keys = [request.headers[name][:300] for name in DELIVERY_HEADERS[provider] if request.headers.get(name)]
    try:
        payload = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise ApiError(400, "bad_json", "body is not valid JSON") from None
    if not isinstance(payload, dict):
        raise ApiError(400, "bad_request", "body must be a JSON object")
    handle = github_delivery if provider == "github" else gitlab_delivery
    try:
        result = await request.app[STORE].write(_once, provider, keys, handle, event, payload)
    except PayloadError as exc:
        raise ApiError(400, "bad_payload", str(exc)) from None
    log.info("%s webhook %s: %s", provider, event[:40], result)
    return web.json_response({"ok": True, **result})


async def github_handler(request: web.Request) -> web.Response:
    secret = await request.app[STORE].read(org.scm_secret, "github")
    raw = await _read(request)
    signature = request.headers.get("X-Hub-Signature-256", "")
    expected = "sha256=" + hmac.new((secret or "").encode(), raw, hashlib.sha256).hexdigest()
    if not secret or not hmac.compare_digest(signature.encode("utf-8", "replace"), expected.encode()):
        raise ApiError(401, "bad_signature", "X-Hub-Signature-256 does not match the shared secret")
    event = request.headers.get("X-GitHub-Event", "")
    if event == "ping":
        return web.json_response({"ok": True, "pong": True})
    return await _deliver(request, "github", event, raw)


async def gitlab_handler(request: web.Request) -> web.Response:
    secret = await request.app[STORE].read(org.scm_secret, "gitlab")
    token = request.headers.get("X-Gitlab-Token", "")
    if not secret or not hmac.compare_digest(token.encode("utf-8", "replace"), secret.encode()):
        raise ApiError(401, "bad_token", "X-Gitlab-Token does not match the shared token")
    raw = await _read(request)
    return await _deliver(request, "gitlab", request.headers.get("X-Gitlab-Event", ""), raw)


ROUTES = [
    web.post("/api/v1/scm/github", github_handler),
    web.post("/api/v1/scm/gitlab", gitlab_handler),
]
