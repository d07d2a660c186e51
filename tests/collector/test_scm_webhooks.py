"""GitHub / GitLab webhooks over the real server: signatures verified, and "Generated code
deployed without human review" raised exactly when an AI-marked merge had no approval by
someone other than its author."""
from __future__ import annotations

import hashlib
import hmac
import json
import uuid

import pytest
from support.db_rows import rows

from shadowmap import contract
from shadowmap.collector.state import STORE
from shadowmap.collector.store.sqlite.org import set_scm_secret

REPO = "acme/shop"
CLAUDE_TRAILER = "Fix the cart\n\n🤖 Generated with [Claude Code](https://claude.com/claude-code)\n\nCo-Authored-By: Claude <noreply@anthropic.com>"


@pytest.fixture
async def secrets_(client) -> dict:
    github = await client.app[STORE].write(lambda db: set_scm_secret(db, "github", "gh-shared-secret-0123456789"))
    gitlab = await client.app[STORE].write(lambda db: set_scm_secret(db, "gitlab", "gl-shared-token-0123456789"))
    return {"github": github, "gitlab": gitlab}


async def github(client, secret: str, event: str, payload: dict, signature: str | None = None,
                 delivery: str | None = None):
    body = json.dumps(payload).encode()
    sig = signature if signature is not None else "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return await client.post("/api/v1/scm/github", data=body, headers={
        "X-GitHub-Event": event, "X-Hub-Signature-256": sig, "Content-Type": "application/json",
        **({"X-GitHub-Delivery": delivery} if delivery else {})})


def pr_payload(number: int, author: str, body: str = "", merged_by: str = "maria", action: str = "closed",
               merged: bool = True) -> dict:
    return {"action": action, "repository": {"full_name": REPO}, "pull_request": {
        "number": number, "title": f"change {number}", "body": body, "user": {"login": author}, "merged": merged,
        "merged_by": {"login": merged_by}, "merged_at": "2026-03-10T12:00:00Z", "merge_commit_sha": f"m{number:039d}",
        "head": {"sha": f"h{number:039d}", "ref": f"feature-{number}"},
        "html_url": f"https://github.com/{REPO}/pull/{number}"}}


def review_payload(number: int, reviewer: str, state: str = "approved") -> dict:
    return {"action": "submitted", "repository": {"full_name": REPO}, "pull_request": {"number": number},
            "review": {"user": {"login": reviewer}, "state": state}}


def alerts(config) -> list[dict]:
    return rows(config.db_path, "SELECT * FROM alerts WHERE finding_id = 'unreviewed_ai_code' ORDER BY id")


async def test_github_signature_is_verified_before_anything_else(client, config, secrets_):
    payload = pr_payload(1, "dev", CLAUDE_TRAILER)
    for signature in ("", "sha256=" + "0" * 64, "sha1=abc", "sha256=" + hmac.new(b"other", json.dumps(payload).encode(),
                                                                                hashlib.sha256).hexdigest()):
        response = await github(client, secrets_["github"], "pull_request", payload, signature=signature)
        assert response.status == 401
    assert alerts(config) == []
    response = await github(client, secrets_["github"], "ping", {"zen": "hi"})
    assert response.status == 200
    # a correctly signed but malformed delivery is a clear 400, not a crash
    assert (await github(client, secrets_["github"], "pull_request", {"repository": {}})).status == 400
    body = b"{not json"
    sig = "sha256=" + hmac.new(secrets_["github"].encode(), body, hashlib.sha256).hexdigest()
    response = await client.post("/api/v1/scm/github", data=body, headers={"X-GitHub-Event": "push",
                                                                            "X-Hub-Signature-256": sig})
    assert response.status == 400


async def test_without_a_configured_secret_every_delivery_is_refused(client):
    response = await client.post("/api/v1/scm/github", data=b"{}", headers={"X-Hub-Signature-256": "sha256=" + hmac.new(
        b"", b"{}", hashlib.sha256).hexdigest(), "X-GitHub-Event": "ping"})
    assert response.status == 401
    assert (await client.post("/api/v1/scm/gitlab", data=b"{}", headers={"X-Gitlab-Token": ""})).status == 401


@pytest.mark.both_backends  # found failing on PostgreSQL only
async def test_ai_marked_merge_without_review_raises_and_deployment_is_added(client, config, secrets_, console):
    response = await github(client, secrets_["github"], "pull_request", pr_payload(7, "dev", CLAUDE_TRAILER))
    assert response.status == 200
    body = await response.json()
    [alert] = alerts(config)
    assert body["alert_id"] == alert["id"]
    assert (alert["severity"], alert["tool_id"], alert["user"], alert["vendor"]) == ("high", "claude-code", "dev",
                                                                                     "Anthropic")
    assert f"{REPO}#7" in json.loads(alert["facts"])["reason"]
    deploy = {"repository": {"full_name": REPO}, "deployment_status": {"state": "success"},
              "deployment": {"sha": f"m{7:039d}", "environment": "production"}}
    assert (await github(client, secrets_["github"], "deployment_status", deploy)).status == 200
    [alert] = alerts(config)
    assert json.loads(alert["facts"])["deployed_to"] == ["production"]
    # the alert page shows the change behind it
    await console.sign_in(client, "admin", console.admin_password)
    html = await (await client.get(f"/alerts/{alert['id']}")).text()
    assert f"github {REPO}#7" in html and '<td data-label="AI markers">claude-code</td><td data-label="Deployed to">production</td>' in html


@pytest.mark.parametrize("reviews, raised", [
    ([("maria", "approved")], False),                      # approved by someone else
    ([("dev", "approved")], True),                         # only the author approved
    ([("maria", "changes_requested")], True),              # no approval
    ([("claude[bot]", "approved")], True),                 # an AI approving is no human review
    ([("maria", "approved"), ("maria", "dismissed")], True),  # the approval was dismissed
])
async def test_only_an_approval_by_another_human_counts(client, config, secrets_, reviews, raised):
    for reviewer, state in reviews:
        payload = review_payload(8, reviewer, state)
        if state == "dismissed":
            payload["action"] = "dismissed"
        assert (await github(client, secrets_["github"], "pull_request_review", payload)).status == 200
    await github(client, secrets_["github"], "pull_request", pr_payload(8, "dev", CLAUDE_TRAILER))
    assert bool(alerts(config)) is raised


async def test_a_replayed_signed_delivery_changes_nothing(client, config, secrets_):
    # issue 16 (suspected): a captured approval, sent again after it was dismissed, must not
    # clear the merge; GitHub keeps X-GitHub-Delivery when it redelivers, so it names the event
    approve, dismiss = review_payload(31, "maria"), review_payload(31, "maria", "dismissed")
    dismiss["action"] = "dismissed"
    assert (await github(client, secrets_["github"], "pull_request_review", approve, delivery="d-approve")).status == 200
    assert (await github(client, secrets_["github"], "pull_request_review", dismiss, delivery="d-dismiss")).status == 200
    replay = await github(client, secrets_["github"], "pull_request_review", approve, delivery="d-approve")
    assert replay.status == 200 and "processed before" in (await replay.json())["ignored"]
    await github(client, secrets_["github"], "pull_request", pr_payload(31, "dev", CLAUDE_TRAILER), delivery="d-merge")
    [alert] = alerts(config)  # the replayed approval did not count
    again = await github(client, secrets_["github"], "pull_request", pr_payload(31, "dev", CLAUDE_TRAILER),
                         delivery="d-merge")
    assert "processed before" in (await again.json())["ignored"]
    assert [row["id"] for row in alerts(config)] == [alert["id"]] and alerts(config)[0]["count"] == alert["count"]


async def test_markers_from_bot_authors_and_pushed_commits(client, config, secrets_):
    # no markers at all: nothing
    await github(client, secrets_["github"], "pull_request", pr_payload(1, "dev", "plain human change"))
    # not merged: nothing
    await github(client, secrets_["github"], "pull_request", pr_payload(2, "dev", CLAUDE_TRAILER, merged=False))
    assert alerts(config) == []
    # a bot author (Devin) merged by maria: the merger is accountable
    await github(client, secrets_["github"], "pull_request", pr_payload(3, "devin-ai-integration[bot]", merged_by="maria"))
    # a commit pushed to the PR's branch carried a Cursor co-author trailer
    push = {"ref": "refs/heads/feature-4", "repository": {"full_name": REPO}, "commits": [
        {"id": "c" * 40, "message": "wip\n\nCo-authored-by: Cursor Agent <cursoragent@cursor.com>",
         "author": {"name": "Dev", "email": "dev@acme.com", "username": "dev"}},
        {"id": "d" * 40, "message": "human commit", "author": {"name": "Dev", "email": "dev@acme.com"}}]}
    assert (await (await github(client, secrets_["github"], "push", push)).json())["commits_marked"] == 1
    await github(client, secrets_["github"], "pull_request", pr_payload(4, "dev", "looks human"))
    found = {(a["tool_id"], a["user"]) for a in alerts(config)}
    assert found == {("devin", "maria"), ("cursor", "dev")}


async def gitlab(client, token: str, event: str, payload: dict):
    return await client.post("/api/v1/scm/gitlab", json=payload, headers={"X-Gitlab-Event": event,
                                                                          "X-Gitlab-Token": token})


def mr_payload(action: str, actor_id: int, actor: str, iid: int = 5, author_id: int = 11, message: str = "") -> dict:
    return {"object_kind": "merge_request", "user": {"id": actor_id, "username": actor},
            "project": {"path_with_namespace": "acme/api"},
            "object_attributes": {"iid": iid, "action": action, "author_id": author_id, "title": "MR",
                                  "description": "", "source_branch": "feat", "merge_commit_sha": "e" * 40,
                                  "updated_at": "2026-03-11 09:30:00 UTC", "url": "https://gitlab.example/acme/api/-/merge_requests/5",
                                  "last_commit": {"id": "f" * 40, "message": message,
                                                  "author": {"name": "Dev", "email": "dev@acme.com"}}}}


async def test_gitlab_token_and_merge_flow(client, config, secrets_):
    codex = "Add endpoint\n\nCo-authored-by: Codex <codex@openai.com>"
    assert (await gitlab(client, "wrong", "Merge Request Hook", mr_payload("merge", 12, "lead", message=codex))).status == 401
    assert alerts(config) == []
    token = secrets_["gitlab"]
    # the author (id 11) approving their own MR does not count; lead (12) merges it
    assert (await gitlab(client, token, "Merge Request Hook", mr_payload("approved", 11, "dev"))).status == 200
    response = await gitlab(client, token, "Merge Request Hook", mr_payload("merge", 12, "lead", message=codex))
    assert response.status == 200
    [alert] = alerts(config)
    assert (alert["tool_id"], alert["first_seen"]) == ("codex-cli", "2026-03-11T09:30:00.000000Z")
    deploy = {"object_kind": "deployment", "status": "success", "sha": "e" * 40, "environment": "prod",
              "project": {"path_with_namespace": "acme/api"}}
    assert (await gitlab(client, token, "Deployment Hook", deploy)).status == 200
    assert json.loads(alerts(config)[0]["facts"])["deployed_to"] == ["prod"]
    # another MR approved by someone else passes
    await gitlab(client, token, "Merge Request Hook", mr_payload("approved", 13, "reviewer", iid=6))
    response = await gitlab(client, token, "Merge Request Hook", mr_payload("merge", 11, "dev", iid=6, message=codex))
    assert (await response.json())["alert_id"] is None
    assert (await gitlab(client, token, "Merge Request Hook", {"project": {"path_with_namespace": "x"}})).status == 400


# ---- AI agents the devices saw working on the repository (ai_agent.repo_activity) ------------

def repo_activity(device_id: str, repo: str, branch: str | None, tool_id: str = "claude-code", user: str = "alice",
                  first_seen: str = "2026-03-02T08:00:00Z", last_seen: str = "2026-03-09T17:00:00Z") -> dict:
    event = {"schema": "shadowmap.event/1", "id": str(uuid.uuid4()), "type": "ai_agent.repo_activity",
             "device_id": device_id, "user": user, "ts": "2026-03-09T17:00:01Z",
             "data": {"tool_id": tool_id, "repo": repo, "process_user": user, "change": "new",
                      "first_seen": first_seen, "last_seen": last_seen, **({"branch": branch} if branch else {})}}
    contract.validate_event(event)
    return event


async def test_agent_activity_on_the_branch_makes_an_unmarked_merge_ai_authored(client, config, secrets_, device,
                                                                                console):
    # the agent saw Claude Code working on github.com/acme/shop, branch feature-21, on this laptop
    await console.post_events(client, device, [repo_activity(device["device_id"], "github.com/acme/shop", "feature-21")])
    # a merged PR with no AI marker anywhere and no review at all
    response = await github(client, secrets_["github"], "pull_request", pr_payload(21, "alice", "plain change"))
    assert response.status == 200
    [alert] = alerts(config)
    assert (await response.json())["alert_id"] == alert["id"]
    assert (alert["tool_id"], alert["user"], alert["severity"]) == ("claude-code", "alice", "high")
    assert json.loads(alert["device_ids"]) == [device["device_id"]]
    facts = json.loads(alert["facts"])
    [seen] = facts["agent_activity"]
    assert (seen["device_id"], seen["hostname"], seen["tool_id"], seen["user"]) == (
        device["device_id"], "laptop-1", "claude-code", "alice")
    assert "laptop-1 (claude-code, alice)" in facts["reason"] and "github.com/acme/shop" in facts["reason"]
    assert "markers" not in facts["reason"]
    # the alert page lists the device x tool seen
    await console.sign_in(client, "admin", console.admin_password)
    html = await (await client.get(f"/alerts/{alert['id']}")).text()
    assert ('<tr><td data-label="Device">laptop-1</td><td data-label="Tool">claude-code</td><td data-label="User">alice</td>'
            '<td data-label="OS user">alice</td>') in html
    # another branch of the same repository, with no activity seen: passes
    response = await github(client, secrets_["github"], "pull_request", pr_payload(22, "alice", "plain change"))
    assert (await response.json())["alert_id"] is None
    assert len(alerts(config)) == 1


async def test_an_approving_review_by_someone_else_clears_agent_activity(client, config, secrets_, device, console):
    await console.post_events(client, device, [repo_activity(device["device_id"], "github.com/acme/shop", "feature-23")])
    assert (await github(client, secrets_["github"], "pull_request_review", review_payload(23, "maria"))).status == 200
    response = await github(client, secrets_["github"], "pull_request", pr_payload(23, "alice", "plain change"))
    assert (await response.json())["alert_id"] is None
    assert alerts(config) == []


@pytest.mark.parametrize("activity_repo, branch, last_seen, raised", [
    ("github.com/acme/shop", "feature-24", "2026-02-20T00:00:00Z", True),    # within 30 days before the merge
    ("github.com/acme/shop", "feature-24", "2026-02-01T00:00:00Z", False),   # more than 30 days before
    ("github.com/acme/other", "feature-24", "2026-03-09T00:00:00Z", False),  # another repository
    ("github.com/acme/shop", None, "2026-03-09T00:00:00Z", False),           # detached HEAD: no branch to match
])
async def test_activity_must_match_repository_branch_and_window(client, config, secrets_, device, console,
                                                                activity_repo, branch, last_seen, raised):
    await console.post_events(client, device, [repo_activity(device["device_id"], activity_repo, branch,
                                                             first_seen="2026-01-15T00:00:00Z", last_seen=last_seen)])
    await github(client, secrets_["github"], "pull_request", pr_payload(24, "alice", "plain change"))
    assert bool(alerts(config)) is raised


async def test_activity_seen_only_after_the_merge_does_not_count(client, config, secrets_, device, console):
    await console.post_events(client, device, [repo_activity(device["device_id"], "github.com/acme/shop", "feature-25",
                                                             first_seen="2026-03-11T00:00:00Z",
                                                             last_seen="2026-03-12T00:00:00Z")])
    await github(client, secrets_["github"], "pull_request", pr_payload(25, "alice", "plain change"))
    assert alerts(config) == []


async def test_repo_activity_is_one_row_per_device_tool_repo_branch(client, config, device, console):
    events = [repo_activity(device["device_id"], "github.com/Acme/Shop", "main", first_seen="2026-03-01T00:00:00Z",
                            last_seen="2026-03-01T10:00:00Z"),
              repo_activity(device["device_id"], "github.com/acme/shop", "main", first_seen="2026-03-01T00:00:00Z",
                            last_seen="2026-03-04T10:00:00Z"),
              repo_activity(device["device_id"], "github.com/acme/shop", "main", tool_id="codex-cli")]
    await console.post_events(client, device, events[:1])
    await console.post_events(client, device, events[1:])
    assert rows(config.db_path, "SELECT tool_id, repo, branch, first_seen, last_seen FROM agent_repo_activity "
                                "ORDER BY tool_id") == [
        {"tool_id": "claude-code", "repo": "github.com/acme/shop", "branch": "main",
         "first_seen": "2026-03-01T00:00:00Z", "last_seen": "2026-03-04T10:00:00Z"},
        {"tool_id": "codex-cli", "repo": "github.com/acme/shop", "branch": "main",
         "first_seen": "2026-03-02T08:00:00Z", "last_seen": "2026-03-09T17:00:00Z"}]


async def test_gitlab_merge_request_with_agent_activity_and_subgroups(client, config, secrets_, device, console):
    token = secrets_["gitlab"]
    await console.post_events(client, device, [repo_activity(device["device_id"],
                                                             "gitlab.example.com/acme/platform/api", "feat",
                                                             tool_id="aider", user="dev")])

    def merge_request(action: str, actor_id: int, actor: str, iid: int) -> dict:
        payload = mr_payload(action, actor_id, actor, iid=iid)
        payload["project"] = {"path_with_namespace": "Acme/Platform/API",
                              "web_url": "https://gitlab.example.com/Acme/Platform/API"}
        payload["object_attributes"]["updated_at"] = "2026-03-10 09:30:00 UTC"
        return payload

    # MR 31: merged by its author (id 11), nobody approved -> raised, naming the laptop
    response = await gitlab(client, token, "Merge Request Hook", merge_request("merge", 11, "dev", 31))
    [alert] = alerts(config)
    assert (await response.json())["alert_id"] == alert["id"]
    assert (alert["tool_id"], alert["user"]) == ("aider", "dev")
    assert json.loads(alert["device_ids"]) == [device["device_id"]]
    assert json.loads(alert["facts"])["agent_activity"][0]["hostname"] == "laptop-1"
    # MR 32 on the same branch, approved by another user (id 13) -> passes
    await gitlab(client, token, "Merge Request Hook", merge_request("approved", 13, "reviewer", 32))
    response = await gitlab(client, token, "Merge Request Hook", merge_request("merge", 11, "dev", 32))
    assert (await response.json())["alert_id"] is None
    assert len(alerts(config)) == 1
