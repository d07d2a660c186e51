"""A pull request CI asks about only after it merged is judged again, over the real server on both
backends: merged with no review and no AI marker it passes at merge time (nothing says AI wrote
it); when `shadowmap provenance` then shows sessions wrote its lines, "generated code deployed
without human review" is raised on that late answer, linked to the change, once (asking again
does not count it twice). A change approved by an independent reviewer still passes; one approved
only by the user of a session that wrote its lines does not; one whose lines no session wrote
passes. On GitLab (a self-managed host, subgroups) an approval by the author named only by id is
not independent either."""
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

HASHES = [f"{i:032x}" for i in range(1, 5)]
UNKNOWN = [f"{i:032x}" for i in range(90, 93)]


def _seed(db):
    ai_sessions.upsert(db, [
        ("dev-1", "claude-code", "s-late-1", "dana@acme.test", "dana", "2.1.0", '["claude-sonnet-4-5"]',
         "github.com/acme/shop", "feature-21", "2026-12-05T09:00:00Z", "2026-12-05T09:30:00Z", 3, 5,
         "acceptEdits", "{}", 3, "[]", "ev-1", "2026-12-05T09:30:00Z"),
        ("dev-2", "codex-cli", "cx-late", "lee@acme.test", "lee", "0.46.0", '["gpt-5-codex"]', "github.com/acme/shop",
         "feature-21", "2026-12-05T10:00:00Z", "2026-12-05T11:00:00Z", 1, 2, "on-request", "{}", 1, "[]",
         "ev-2", "2026-12-05T11:00:00Z")])
    ai_sessions.add_lines(db, [(h, "dev-1", "claude-code", "s-late-1", "app/cart.py") for h in HASHES[:3]]
                          + [(HASHES[3], "dev-2", "codex-cli", "cx-late", "app/cart.py")])


async def _ask(client, token: str, number: int, hashes: list[str]) -> None:
    response = await client.post("/api/v1/provenance", headers={"Authorization": f"Bearer {token}"}, json={
        "repo": "https://github.com/Acme/Shop.git", "number": number,
        "files": [{"path": "app/cart.py", "hashes": hashes}]})
    assert response.status == 200, await response.text()


async def _deliver(client, secret: str, event: str, payload: dict) -> dict:
    body = json.dumps(payload).encode()
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    response = await client.post("/api/v1/scm/github", data=body, headers={
        "X-GitHub-Event": event, "X-Hub-Signature-256": signature, "Content-Type": "application/json"})
    assert response.status == 200, await response.text()
    return await response.json()


async def _merge(client, secret: str, number: int, reviewers: tuple[str, ...] = ()) -> dict:
    for reviewer in reviewers:
        await _deliver(client, secret, "pull_request_review", {
            "action": "submitted", "repository": {"full_name": "Acme/Shop"}, "pull_request": {"number": number},
            "review": {"user": {"login": reviewer}, "state": "approved"}})
    return await _deliver(client, secret, "pull_request", {
        "action": "closed", "repository": {"full_name": "Acme/Shop", "html_url": "https://github.com/Acme/Shop"},
        "pull_request": {"number": number, "title": "Cart", "body": "", "user": {"login": "dana"}, "merged": True,
                         "merged_by": {"login": "dana"}, "merged_at": "2026-12-05T12:00:00Z",
                         "merge_commit_sha": f"m{number:039d}", "head": {"sha": f"h{number:039d}", "ref": "feature-21"},
                         "html_url": f"https://github.com/Acme/Shop/pull/{number}"}})


def _alerts(make, config) -> list[dict]:
    return make.select_rows(config.db_path, "SELECT id, count, facts, users FROM alerts "
                                            "WHERE finding_id = 'unreviewed_ai_code' ORDER BY id")


async def test_a_pull_request_asked_about_after_its_merge_is_judged_on_the_late_answer(client, config, make):
    store = client.app[STORE]
    await store.write(_seed)
    token = await store.write(lambda db: create_api_token(db, "ci", "viewer"))
    secret = await store.write(lambda db: set_scm_secret(db, "github", "gh-shared-secret-0123456789"))

    # merged before CI asked, nothing marks it as AI's: it passes at merge time
    assert (await _merge(client, secret, 21))["alert_id"] is None
    assert _alerts(make, config) == []

    await _ask(client, token, 21, HASHES + UNKNOWN)                # the late answer: 4 of 7 lines by AI sessions
    [alert] = _alerts(make, config)
    facts = json.loads(alert["facts"])
    assert "4 of its 7 added lines written in AI sessions (claude-code, codex-cli, line provenance)" in facts["reason"]
    assert facts["provenance"]["by_tool"] == {"claude-code": 3, "codex-cli": 1}
    assert {s["session_id"] for s in facts["provenance"]["sessions"]} == {"s-late-1", "cx-late"}
    assert {"dana", "dana@acme.test", "lee@acme.test"} <= set(json.loads(alert["users"]))
    [change] = make.select_rows(config.db_path, "SELECT alert_id, ai_agents FROM scm_changes WHERE number = 21")
    assert change["alert_id"] == alert["id"] and json.loads(change["ai_agents"]) == ["claude-code", "codex-cli"]

    await _ask(client, token, 21, HASHES + UNKNOWN)                # asked again: the same merge, not counted twice
    assert [a["count"] for a in _alerts(make, config)] == [1]

    # approved by someone independent: the late answer does not change the verdict
    await _merge(client, secret, 22, reviewers=("rosa",))
    await _ask(client, token, 22, HASHES)
    assert [a["count"] for a in _alerts(make, config)] == [1]
    assert make.select_rows(config.db_path, "SELECT alert_id FROM scm_changes WHERE number = 22") == [{"alert_id": None}]

    # approved only by lee, whose session wrote one of its lines: not independent, known only from the late answer
    assert (await _merge(client, secret, 23, reviewers=("lee@acme.test",)))["alert_id"] is None
    await _ask(client, token, 23, HASHES[3:] + UNKNOWN)
    first, second = _alerts(make, config)
    assert (first["count"], second["count"]) == (1, 1)             # another tool (codex-cli's line): its own alert
    assert "1 of its 4 added lines written in AI sessions (codex-cli" in json.loads(second["facts"])["reason"]
    assert make.select_rows(config.db_path, "SELECT alert_id FROM scm_changes WHERE number = 23"
                            ) == [{"alert_id": second["id"]}]

    # asked after the merge, but no session wrote its lines: it passes
    await _merge(client, secret, 24)
    await _ask(client, token, 24, UNKNOWN)
    assert [a["count"] for a in _alerts(make, config)] == [1, 1]
    assert make.select_rows(config.db_path, "SELECT alert_id FROM scm_changes WHERE number = 24") == [{"alert_id": None}]

    # CI asks about a pull request that has not merged: kept, nothing judged until the merge
    await _ask(client, token, 25, HASHES)
    assert [a["count"] for a in _alerts(make, config)] == [1, 1]
    assert (await _merge(client, secret, 25))["alert_id"] == first["id"]
    assert [a["count"] for a in _alerts(make, config)] == [2, 1]


def _gitlab_merge_request(action: str, actor_id: int, actor: str, iid: int) -> dict:
    return {"object_kind": "merge_request", "user": {"id": actor_id, "username": actor},
            "project": {"path_with_namespace": "Acme/Platform/API", "web_url": "https://gitlab.example.com/Acme/Platform/API"},
            "object_attributes": {"iid": iid, "action": action, "author_id": 11, "title": "MR", "description": "",
                                  "source_branch": "feat", "merge_commit_sha": "e" * 40,
                                  "updated_at": "2026-12-05 12:00:00 UTC",
                                  "url": f"https://gitlab.example.com/acme/platform/api/-/merge_requests/{iid}",
                                  "last_commit": {"id": "f" * 40, "message": "", "author": {"name": "Dev",
                                                                                         "email": "dev@acme.test"}}}}


async def test_a_gitlab_merge_request_asked_about_after_its_merge_on_a_self_managed_host(client, config, make):
    store = client.app[STORE]
    await store.write(_seed)
    token = await store.write(lambda db: create_api_token(db, "ci", "viewer"))
    secret = await store.write(lambda db: set_scm_secret(db, "gitlab", "gl-shared-token-0123456789"))

    async def hook(payload: dict) -> dict:
        response = await client.post("/api/v1/scm/gitlab", json=payload, headers={
            "X-Gitlab-Event": "Merge Request Hook", "X-Gitlab-Token": secret})
        assert response.status == 200, await response.text()
        return await response.json()

    async def ask(number: int) -> None:
        response = await client.post("/api/v1/provenance", headers={"Authorization": f"Bearer {token}"}, json={
            "repo": "gitlab.example.com/acme/platform/api", "number": number,
            "files": [{"path": "app/cart.py", "hashes": HASHES}]})
        assert response.status == 200, await response.text()

    # !41: approved only by its author (id 11, named "user #11" as someone else merged it): not independent
    await hook(_gitlab_merge_request("approved", 11, "dev", 41))
    assert (await hook(_gitlab_merge_request("merge", 12, "lead", 41)))["alert_id"] is None
    await ask(41)
    [alert] = _alerts(make, config)
    assert "Acme/Platform/API#41 merged with 4 of its 4 added lines written in AI sessions" in \
        json.loads(alert["facts"])["reason"]
    assert make.select_rows(config.db_path, "SELECT alert_id FROM scm_changes WHERE number = 41"
                            ) == [{"alert_id": alert["id"]}]
    # !42: approved by someone else: passes on the late answer too
    await hook(_gitlab_merge_request("approved", 13, "rosa", 42))
    await hook(_gitlab_merge_request("merge", 12, "lead", 42))
    await ask(42)
    assert [a["count"] for a in _alerts(make, config)] == [1]
