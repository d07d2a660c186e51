"""Vercel and Netlify deployment webhooks over the real server, with their real signature schemes:
a bad signature is refused, a replayed or stale delivery is refused, and a production deploy
raises "Generated code deployed without human review" exactly when its change had no approval by
someone other than its author or it left the canonical repository, with the AI sessions recorded
on that repository as evidence."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid

import pytest

from shadowmap.collector import record
from shadowmap.collector.state import STORE
from shadowmap.collector.store.sqlite import ai_sessions, deploys, scm

pytestmark = pytest.mark.both_backends

VERCEL_SECRET = "vercel-webhook-secret-0123456789"
NETLIFY_SECRET = "netlify-jws-secret-0123456789abcdef"


@pytest.fixture
async def store(client):
    store = client.app[STORE]
    await store.write(lambda db: deploys.set_deploy_secret(db, "vercel", VERCEL_SECRET))
    await store.write(lambda db: deploys.set_deploy_secret(db, "netlify", NETLIFY_SECRET))

    def changes(db):
        for number, author in ((11, "dana"), (12, "dana")):
            scm.save_merged_change(db, {
                "provider": "github", "repo": "acme/shop", "number": number, "title": f"change {number}",
                "author": author, "merged_by": author, "merged_at": "2026-12-05T10:00:00Z",
                "merge_sha": f"m{number:039d}", "head_sha": f"h{number:039d}", "ai_agents": "[]",
                "url": f"https://github.com/acme/shop/pull/{number}"})
        scm.save_review(db, "github", "acme/shop", 11, "maria", "approved")     # 11: approved by someone else
        scm.save_review(db, "github", "acme/shop", 12, "dana", "approved")      # 12: only by its author
        ai_sessions.upsert(db, [("dev-1", "claude-code", "s-shop-1", "dana@acme.test", "dana", "2.1.0",
                                 '["claude-sonnet-4-5"]', "github.com/acme/shop", "feature/pay",
                                 "2026-12-05T09:00:00Z", "2026-12-05T09:30:00Z", 3, 5, "acceptEdits", "{}", 40,
                                 "[]", "ev-1", "2026-12-05T09:30:00Z")])
    await store.write(changes)
    # CI asked `shadowmap provenance` about #12 (collector/api/sessions.py keeps the answer in the record)
    await store.write(lambda db: record.append(db, "read", "provenance:github.com/acme/shop#12", "token:ci", {
        "lines": 6, "ai_lines": 4, "ai_share": 0.6667, "by_tool": {"claude-code": 4}, "approved_by": ["dana"]}))
    return store


def vercel_event(sha: str, *, target: str = "production", org: str = "acme", repo: str = "shop",
                 created_ms: int | None = None, event_id: str | None = None, deploy_id: str | None = None) -> dict:
    return {"id": event_id or f"evt_{uuid.uuid4().hex}", "type": "deployment.succeeded",
            "createdAt": created_ms if created_ms is not None else int(time.time() * 1000),
            "payload": {"target": target, "project": {"id": "prj_shop"},
                        "deployment": {"id": deploy_id or f"dpl_{uuid.uuid4().hex[:12]}", "url": "shop.vercel.app",
                                       "meta": {"githubCommitSha": sha, "githubCommitRef": "main",
                                                "githubCommitOrg": org, "githubCommitRepo": repo,
                                                "githubCommitAuthorLogin": "dana"}}}}


async def post_vercel(client, event: dict, secret: str = VERCEL_SECRET, signature: str | None = None):
    body = json.dumps(event).encode()
    sig = signature if signature is not None else hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()
    return await client.post("/api/v1/deploys/vercel", data=body,
                             headers={"x-vercel-signature": sig, "Content-Type": "application/json"})


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jws(body: bytes, secret: str = NETLIFY_SECRET, alg: str = "HS256", iss: str = "netlify") -> str:
    head = b64url(json.dumps({"alg": alg, "typ": "JWT"}).encode())
    claims = b64url(json.dumps({"iss": iss, "sha256": hashlib.sha256(body).hexdigest()}).encode())
    signature = hmac.new(secret.encode(), f"{head}.{claims}".encode(), hashlib.sha256).digest()
    return f"{head}.{claims}.{b64url(signature) if alg == 'HS256' else ''}"


def netlify_deploy(commit_url: str | None, *, context: str = "production", state: str = "ready",
                   deploy_id: str | None = None, updated_at: str | None = None) -> dict:
    sha = commit_url.rsplit("/", 1)[-1] if commit_url else None
    return {"id": deploy_id or uuid.uuid4().hex[:24], "site_id": "site-shop", "state": state, "context": context,
            "branch": "main", "commit_ref": sha, "commit_url": commit_url, "ssl_url": "https://shop.netlify.app",
            "updated_at": updated_at or time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())}


async def post_netlify(client, deploy: dict, signature=None):
    body = json.dumps(deploy).encode()
    return await client.post("/api/v1/deploys/netlify", data=body, headers={
        "X-Webhook-Signature": signature if signature is not None else jws(body), "Content-Type": "application/json"})


def alerts(make, config) -> list[dict]:
    return make.select_rows(config.db_path, "SELECT id, facts, user FROM alerts WHERE finding_id = 'unreviewed_ai_code'")


async def test_signatures_are_verified(client, config, store, make):
    event = vercel_event("m" + "0" * 37 + "12")
    for signature in ("", "0" * 40, hmac.new(b"other", json.dumps(event).encode(), hashlib.sha1).hexdigest()):
        assert (await post_vercel(client, event, signature=signature)).status == 401
    deploy = netlify_deploy("https://github.com/acme/shop/commit/" + "m" + "0" * 37 + "12")
    body = json.dumps(deploy).encode()
    for signature in ("", "a.b.c", jws(body, secret="other-secret-xxxxxxxxxxxxxxxx"), jws(body, alg="none"),
                      jws(body, iss="someone-else"), jws(b"another body")):
        assert (await post_netlify(client, deploy, signature=signature)).status == 401
    assert alerts(make, config) == [] and make.count_rows(config.db_path, "deploy_deliveries") == 0


async def test_an_unreviewed_change_deployed_to_production_raises_the_finding(client, config, store, make):
    reviewed = await post_vercel(client, vercel_event(f"m{11:039d}"))
    assert reviewed.status == 200 and (await reviewed.json())["alert_id"] is None
    preview = await post_vercel(client, vercel_event(f"m{12:039d}", target="preview"))
    assert (await preview.json())["ignored"]

    response = await post_vercel(client, vercel_event(f"m{12:039d}"))
    assert response.status == 200, await response.text()
    result = await response.json()
    assert result["alert_id"] and "acme/shop#12 had no approving review" in result["reasons"][0]
    [alert] = alerts(make, config)
    facts = json.loads(alert["facts"])
    assert alert["user"] == "dana" and facts["deploy"]["repo"] == "github.com/acme/shop"
    assert facts["change"] == "https://github.com/acme/shop/pull/12"
    assert [s["session_id"] for s in facts["sessions"]] == ["s-shop-1"]
    assert facts["provenance"]["ai_lines"] == 4 and facts["provenance"]["by_tool"] == {"claude-code": 4}


async def test_replayed_and_stale_deliveries_are_refused(client, config, store, make):
    event = vercel_event(f"m{11:039d}", deploy_id="dpl_once")
    assert (await post_vercel(client, event)).status == 200
    assert (await post_vercel(client, event)).status == 409                               # same delivery
    again = vercel_event(f"m{11:039d}", deploy_id="dpl_once")                              # new id, same deploy
    assert (await post_vercel(client, again)).status == 409
    stale = vercel_event(f"m{12:039d}", created_ms=int((time.time() - 3600) * 1000))
    assert (await post_vercel(client, stale)).status == 409

    deploy = netlify_deploy(f"https://github.com/acme/shop/commit/m{11:039d}", deploy_id="nf-1")
    assert (await post_netlify(client, deploy)).status == 200
    assert (await post_netlify(client, deploy)).status == 409
    old = netlify_deploy(f"https://github.com/acme/shop/commit/m{12:039d}", updated_at="2026-01-01T00:00:00Z")
    assert (await post_netlify(client, old)).status == 409
    assert alerts(make, config) == []


async def test_a_deploy_from_outside_the_canonical_repository_raises_the_finding(client, config, store, make):
    await store.write(lambda db: deploys.set_canonical_repo(db, "netlify", "site-shop", "github.com/acme/shop"))
    ok = await post_netlify(client, netlify_deploy(f"https://github.com/acme/shop/commit/m{11:039d}"))
    assert ok.status == 200 and (await ok.json())["alert_id"] is None
    assert (await (await post_netlify(client, netlify_deploy(f"https://github.com/acme/shop/commit/m{11:039d}",
                                                             context="deploy-preview"))).json())["ignored"]

    generated = await post_netlify(client, netlify_deploy("https://github.com/lovable-dev/shop-clone/commit/abc1234"))
    result = await generated.json()
    assert result["alert_id"] and "not the project's canonical repository github.com/acme/shop" in result["reasons"][0]
    uploaded = await post_netlify(client, netlify_deploy(None))             # netlify deploy --prod from a laptop
    assert "not deployed from a git repository" in (await uploaded.json())["reasons"][0]
    rows = make.select_rows(config.db_path, "SELECT deploy_id, verdict, alert_id FROM deploys WHERE provider = 'netlify'")
    assert sum(1 for r in rows if r["alert_id"]) == 2 and len(rows) == 3


def test_cli_sets_secrets_sealed_and_canonical_repositories_recorded(tmp_path):
    import sqlite3

    from click.testing import CliRunner

    from shadowmap.cli import main

    db = str(tmp_path / "collector.db")
    (tmp_path / "vercel-secret").write_text(VERCEL_SECRET + "\n")
    runner = CliRunner()
    for args in (["secret", "vercel", "--value-file", str(tmp_path / "vercel-secret")],
                 ["canonical", "netlify", "site-shop", "https://github.com/acme/shop.git"]):
        result = runner.invoke(main, ["collector", "deploys", *args, "--db", db])
        assert result.exit_code == 0, result.output
    assert "deploys from github.com/acme/shop" in result.output
    conn = sqlite3.connect(db)
    try:
        stored = conn.execute("SELECT value FROM org_settings WHERE name = 'deploy_vercel_secret'").fetchone()[0]
        assert VERCEL_SECRET not in stored and stored.startswith("sealed:")
        assert conn.execute("SELECT canonical_repo FROM deploy_projects").fetchall() == [("github.com/acme/shop",)]
        assert [r[0] for r in conn.execute("SELECT subject FROM record_entries WHERE kind = 'admin' ORDER BY seq")] == [
            "deploy_secret:vercel", "deploy_project:netlify:site-shop"]
    finally:
        conn.close()
