"""A pull request's provenance kept with it, over the real server on both backends: CI's answer
(POST /api/v1/provenance with a number) is stored with the pull request and its sessions; the
console lists pull requests, shows one (AI share per tool, model and user, the sessions, the
approvers) and a session's page lists the pull requests its lines reached, each read recorded;
a merge with no independent approval raises "generated code deployed without human review" on
line-level evidence alone (no AI marker, no agent seen on the repository), with the sessions as
evidence, and a session's own user approving is not independent."""
from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from shadowmap.collector.state import STORE
from shadowmap.collector.store.sqlite import ai_sessions
from shadowmap.collector.store.sqlite.accounts import create_api_token
from shadowmap.collector.store.sqlite.org import set_scm_secret

pytestmark = pytest.mark.both_backends

HASHES = [f"{i:032x}" for i in range(6)]


def _seed(db):
    ai_sessions.upsert(db, [
        ("dev-1", "claude-code", "s-pay-1", "dana@acme.test", "dana", "2.1.0", '["claude-sonnet-4-5"]',
         "github.com/acme/shop", "feature-12", "2026-12-05T09:00:00Z", "2026-12-05T09:30:00Z", 3, 5,
         "acceptEdits", "{}", 4, "[]", "ev-1", "2026-12-05T09:30:00Z"),
        ("dev-2", "codex-cli", "cx-7", "lee@acme.test", "lee", "0.46.0", '["gpt-5-codex"]', "github.com/acme/shop",
         "feature-12", "2026-12-05T10:00:00Z", "2026-12-05T11:00:00Z", 1, 2, "on-request", "{}", 1, "[]",
         "ev-2", "2026-12-05T11:00:00Z")])
    ai_sessions.add_lines(db, [(h, "dev-1", "claude-code", "s-pay-1", "payments/charge.py") for h in HASHES[:4]]
                          + [(HASHES[4], "dev-2", "codex-cli", "cx-7", "payments/refund.py")])


async def _ask(client, token: str, number: object) -> dict:
    response = await client.post("/api/v1/provenance", headers={"Authorization": f"Bearer {token}"}, json={
        "repo": "https://github.com/Acme/Shop.git", "number": number,
        "files": [{"path": "payments/charge.py", "hashes": HASHES[:4] + [f"{99:032x}"]},
                  {"path": "payments/refund.py", "hashes": [HASHES[4], f"{98:032x}"]}]})
    assert response.status == 200, await response.text()
    return await response.json()


async def _merge(client, secret: str, number: int, reviewers: tuple[str, ...] = ()) -> None:
    async def deliver(event: str, payload: dict) -> None:
        body = json.dumps(payload).encode()
        signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        response = await client.post("/api/v1/scm/github", data=body, headers={
            "X-GitHub-Event": event, "X-Hub-Signature-256": signature, "Content-Type": "application/json"})
        assert response.status == 200, await response.text()
    for reviewer in reviewers:
        await deliver("pull_request_review", {"action": "submitted", "repository": {"full_name": "acme/shop"},
                                              "pull_request": {"number": number},
                                              "review": {"user": {"login": reviewer}, "state": "approved"}})
    await deliver("pull_request", {"action": "closed", "repository": {"full_name": "acme/shop"}, "pull_request": {
        "number": number, "title": "Add charge", "body": "", "user": {"login": "dana"}, "merged": True,
        "merged_by": {"login": "dana"}, "merged_at": "2026-12-05T12:00:00Z", "merge_commit_sha": f"m{number:039d}",
        "head": {"sha": f"h{number:039d}", "ref": "feature-12"},
        "html_url": f"https://github.com/acme/shop/pull/{number}"}})


async def test_a_pull_requests_provenance_is_kept_shown_and_raises_the_finding(client, config, console, make):
    store = client.app[STORE]
    await store.write(_seed)
    token = await store.write(lambda db: create_api_token(db, "ci", "viewer"))
    answer = await _ask(client, token, 12)
    assert (answer["ai_lines"], answer["lines"]) == (5, 7)
    assert answer["writers"][HASHES[0]] == "claude-code:s-pay-1" and answer["writers"][HASHES[4]] == "codex-cli:cx-7"
    await _ask(client, token, 12)                                # asked again: the newest answer replaces it
    await _ask(client, token, 13)
    for number in (10**30, -1, True, "12"):                       # not a pull request's number: answered, not kept
        await _ask(client, token, number)
    bad = await client.post("/api/v1/provenance", headers={"Authorization": f"Bearer {token}"},
                            json={"repo": "r", "files": ["not an object"]})
    assert bad.status == 400
    assert len(make.select_rows(config.db_path, "SELECT number FROM pr_provenance")) == 2

    [kept] = make.select_rows(config.db_path, "SELECT * FROM pr_provenance WHERE number = 12")
    assert kept["repo"] == "github.com/acme/shop" and (kept["lines"], kept["ai_lines"]) == (7, 5)
    assert json.loads(kept["by_writer"])["tool"] == {"claude-code": 4, "codex-cli": 1} and kept["asked_by"] == "token:ci"
    entry = make.select_rows(config.db_path, "SELECT kind, subject FROM record_entries WHERE seq = ?",
                             (kept["record_seq"],))
    assert entry == [{"kind": "read", "subject": "provenance:github.com/acme/shop#12"}]
    sessions = make.select_rows(config.db_path, "SELECT session_id, ai_lines FROM pr_provenance_sessions "
                                                "WHERE number = 12 ORDER BY session_id")
    assert [(s["session_id"], s["ai_lines"]) for s in sessions] == [("cx-7", 1), ("s-pay-1", 4)]

    await console.add_account(client, "vera", "viewer")
    await console.sign_in(client, "vera")
    listing = await (await client.get("/sessions/pulls")).text()
    assert "github.com/acme/shop#12" in listing and "github.com/acme/shop#13" in listing and "71 %" in listing
    pull = await client.get("/sessions/pulls/12", params={"repo": "github.com/acme/shop"})
    text = await pull.text()
    assert pull.status == 200
    for expected in ("claude-sonnet-4-5", "gpt-5-codex", "dana@acme.test", "lee@acme.test", "s-pay-1", "cx-7",
                     "payments/charge.py", "nobody yet", "/sessions/dev-1/claude-code/s-pay-1"):
        assert expected in text, expected
    assert (await client.get("/sessions/pulls/14", params={"repo": "github.com/acme/shop"})).status == 404
    for odd in ("x1", "%C2%B2", "1" * 40):
        assert (await client.get(f"/sessions/pulls/{odd}", params={"repo": "github.com/acme/shop"})).status == 404
    session_page = await (await client.get("/sessions/dev-1/claude-code/s-pay-1")).text()
    assert "/sessions/pulls/12?repo=github.com/acme/shop" in session_page
    assert "/sessions/pulls/13?repo=github.com/acme/shop" in session_page
    reads = [r["subject"] for r in make.select_rows(
        config.db_path, "SELECT subject FROM record_entries WHERE kind = 'read' AND actor = 'vera' ORDER BY seq")]
    assert "pulls" in reads and "pull:github.com/acme/shop#12" in reads

    # merged with no approval: the finding, on the kept line-level evidence alone
    secret = await store.write(lambda db: set_scm_secret(db, "github", "gh-shared-secret-0123456789"))
    await _merge(client, secret, 12)
    [alert] = make.select_rows(config.db_path, "SELECT * FROM alerts WHERE finding_id = 'unreviewed_ai_code'")
    facts = json.loads(alert["facts"])
    assert "5 of its 7 added lines written in AI sessions" in facts["reason"]
    assert facts["provenance"]["by_tool"] == {"claude-code": 4, "codex-cli": 1}
    assert {s["session_id"] for s in facts["provenance"]["sessions"]} == {"s-pay-1", "cx-7"}
    assert {"dana@acme.test", "lee@acme.test"} <= set(json.loads(alert["users"]))
    alert_page = await (await client.get(f"/alerts/{alert['id']}")).text()
    assert "s-pay-1" in alert_page and "by tool: claude-code: 4; codex-cli: 1" in alert_page, alert_page

    # #13: approved only by the user of a session that wrote some of its lines (matched by name as the SCM
    # reports it): still not independent
    await _merge(client, secret, 13, reviewers=("lee@acme.test",))
    assert len(make.select_rows(config.db_path, "SELECT id FROM alerts WHERE finding_id = 'unreviewed_ai_code'")) == 1
    rows = make.select_rows(config.db_path, "SELECT count FROM alerts WHERE finding_id = 'unreviewed_ai_code'")
    assert rows[0]["count"] == 2                                   # the same tool and user: bumped
    # #14 was never asked about and carries no other evidence: no finding
    await _merge(client, secret, 14)
    assert make.select_rows(config.db_path, "SELECT count FROM alerts WHERE finding_id = 'unreviewed_ai_code'"
                            )[0]["count"] == 2
