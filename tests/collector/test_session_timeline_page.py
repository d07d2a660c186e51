"""A session's timeline in the console, over the real server on both backends: a session read by
the agent's own reader from a Claude Code file arrives as an ai_session.recorded event with its
steps (validated at ingest), and its page shows, in time order, its start, prompts, shell
programs, edits, MCP calls, its end, the alert its merged pull request raised and the pull
request CI asked about; names and counts only. An event without steps (an older agent) leaves
the timeline as it was."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import uuid

import pytest

from shadowmap.agent.sessions.collect import collect
from shadowmap.collector.state import STORE
from shadowmap.collector.store.sqlite import org
from shadowmap.collector.store.sqlite.accounts import create_api_token
from shadowmap.collector.store.sqlite.org import set_scm_secret

pytestmark = pytest.mark.both_backends

PROMPT_CANARY = "canary-prompt-61f0"
CODE_CANARY = "canary_code_3c2d = refund(order)"


def _write_session(home) -> None:
    def line(kind: str, at: str, content) -> dict:
        return {"type": kind, "sessionId": "s-tl-1", "cwd": "/nowhere", "version": "2.1.0", "timestamp": at,
                "message": {"role": "user" if kind == "user" else "assistant", "model": "claude-sonnet-4-5",
                            "content": content}}
    path = home / ".claude" / "projects" / "-w" / "s-tl-1.jsonl"
    path.parent.mkdir(parents=True)
    path.write_text("".join(json.dumps(item) + "\n" for item in [
        line("user", "2026-12-05T09:00:00.000Z", f"{PROMPT_CANARY} refunds please"),
        line("assistant", "2026-12-05T09:01:00.000Z", [
            {"type": "tool_use", "name": "Bash", "input": {"command": "pytest -q"}},
            {"type": "tool_use", "name": "Write", "input": {"file_path": "app/refund.py",
                                                            "content": f"def refund():\n    {CODE_CANARY}\n"}}]),
        line("assistant", "2026-12-05T09:03:00.000Z", [
            {"type": "tool_use", "name": "mcp__linear__create_issue", "input": {"title": "t"}}]),
        line("user", "2026-12-05T09:04:00.000Z", "thanks"),
    ]))


def _event(device: dict, data: dict) -> dict:
    return {"schema": "shadowmap.event/1", "id": str(uuid.uuid4()), "type": "ai_session.recorded",
            "device_id": device["device_id"], "user": "dana", "ts": "2026-12-05T09:05:00Z", "data": data}


async def _merge(client, secret: str, number: int) -> None:
    body = json.dumps({"action": "closed", "repository": {"full_name": "acme/shop"}, "pull_request": {
        "number": number, "title": "Refunds", "body": "", "user": {"login": "dana"}, "merged": True,
        "merged_by": {"login": "dana"}, "merged_at": "2026-12-05T12:00:00Z", "merge_commit_sha": "m" * 40,
        "head": {"sha": "h" * 40, "ref": "refunds"}, "html_url": f"https://github.com/acme/shop/pull/{number}"}}).encode()
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    response = await client.post("/api/v1/scm/github", data=body, headers={
        "X-GitHub-Event": "pull_request", "X-Hub-Signature-256": signature, "Content-Type": "application/json"})
    assert response.status == 200, await response.text()


def _timeline_rows(page: str) -> list[str]:
    table = page.split('<table id="timeline">', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr class=\"step-([a-z]+)\">(.*?)</tr>", table, re.S)
    return [kind + " " + re.sub(r"<[^>]+>|\s+", " ", cells).strip() for kind, cells in rows]


async def test_a_sessions_page_shows_its_timeline_in_time_order(client, config, device, console, make, tmp_path):
    store = client.app[STORE]
    org_key = base64.b64decode(await store.read(org.org_key_b64))
    home = tmp_path / "home"
    _write_session(home)
    [found] = collect([home])
    data = found.record.as_event_data(org_key, "github.com/acme/shop", [], "dana")
    await console.post_events(client, device, [_event(device, data)])
    [kept] = make.select_rows(config.db_path, "SELECT steps, steps_not_sent FROM ai_session_steps")
    assert [s["kind"] for s in json.loads(kept["steps"])] == ["prompt", "shell", "edit", "mcp", "prompt"]

    token = await store.write(lambda db: create_api_token(db, "ci", "viewer"))
    secret = await store.write(lambda db: set_scm_secret(db, "github", "gh-shared-secret-0123456789"))
    await _merge(client, secret, 31)                                # merged first, no review
    asked = await client.post("/api/v1/provenance", headers={"Authorization": f"Bearer {token}"}, json={
        "repo": "github.com/acme/shop", "number": 31, "files": data["lines"]})
    assert (await asked.json())["ai_lines"] == 2                     # the late answer raises the finding

    older = {k: v for k, v in data.items() if k not in ("steps", "steps_not_sent")} | {"prompts": 3}
    await console.post_events(client, device, [_event(device, older)])   # an older agent: no steps sent
    assert len(json.loads(make.select_rows(config.db_path, "SELECT steps FROM ai_session_steps")[0]["steps"])) == 5

    await console.add_account(client, "vera", "viewer")
    await console.sign_in(client, "vera")
    page = await (await client.get(f"/sessions/{device['device_id']}/claude-code/s-tl-1")).text()
    rows = _timeline_rows(page)
    assert [row.split(" ", 1)[0] for row in rows] == [
        "started", "prompt", "shell", "edit", "mcp", "prompt", "ended", "alert", "pull"], rows
    assert "pytest" in rows[2] and "app/refund.py , 2 lines written" in rows[3] and "linear" in rows[4]
    assert "Generated code deployed without human review" in rows[7]
    assert "github.com/acme/shop#31 , 2 of this session's lines" in rows[8]
    for canary in (PROMPT_CANARY, CODE_CANARY, "refunds please", "thanks"):
        assert canary not in page
