"""GitHub Copilot CLI's session-state events and Cursor's agent transcripts, in files written from
the formats' facts (agent/sessions/copilot_cli.py, cursor_agent.py say where they come from):
read one-shot and as they are written, malformed, unknown and cut-off lines counted and skipped,
and no prompt, code or tool output in what `shadowmap agent sessions` prints."""
from __future__ import annotations

import json
import subprocess
import sys

from support.processes import REPO

from shadowmap.agent.sessions import copilot_cli, cursor_agent
from shadowmap.agent.sessions.collect import collect
from shadowmap.agent.sessions.tail import SessionTail

PROMPT_CANARY = "canary-copilot-prompt-5d1e"
CODE_CANARY = "canary_copilot_code = settle(invoice)"
OUTPUT_CANARY = "canary-copilot-output-a0b9"
CURSOR_CANARY = "canary-cursor-prompt-77c3"


def event(kind: str, ts: str, **data) -> str:
    return json.dumps({"type": kind, "id": f"e-{kind}-{ts}", "timestamp": ts, "parentId": None, "data": data}) + "\n"


def copilot_home(home, repo) -> None:
    folder = home / ".copilot" / "session-state" / "c0p1-5e55"
    folder.mkdir(parents=True)
    (folder / "events.jsonl").write_text(
        event("session.start", "2026-12-04T08:00:00.000Z", sessionId="c0p1-5e55", version=1, producer="copilot-agent",
              copilotVersion="0.0.407-1", startTime="2026-12-04T08:00:00.000Z",
              context={"cwd": str(repo), "gitRoot": str(repo), "branch": "fix/invoices", "repository": "acme/shop"})
        + event("session.model_change", "2026-12-04T08:00:01.000Z", newModel="claude-sonnet-4.5")
        + event("user.message", "2026-12-04T08:00:02.000Z", content=f"{PROMPT_CANARY} settle invoices", attachments=[])
        + event("assistant.turn_start", "2026-12-04T08:00:03.000Z", turnId="0")
        + event("assistant.message", "2026-12-04T08:00:04.000Z", messageId="m1", content="", toolRequests=[
            {"toolCallId": "t1", "name": "create", "arguments": {"path": f"{repo}/invoices.py"}, "type": "function"}])
        + event("tool.execution_start", "2026-12-04T08:00:05.000Z", toolCallId="t1", toolName="create",
                arguments={"path": f"{repo}/invoices.py", "file_text": f"def settle_all():\n    {CODE_CANARY}\n"})
        + event("tool.execution_start", "2026-12-04T08:00:06.000Z", toolCallId="t2", toolName="edit",
                arguments=json.dumps({"path": f"{repo}/app.py", "old_str": "x = 1", "new_str": "x = 1\nimport invoices"}))
        + event("tool.execution_start", "2026-12-04T08:00:07.000Z", toolCallId="t3", toolName="bash",
                arguments={"command": "pytest -q tests/"})
        + event("tool.execution_complete", "2026-12-04T08:00:08.000Z", toolCallId="t3", success=True,
                result={"content": OUTPUT_CANARY})
        + event("assistant.turn_end", "2026-12-04T08:00:09.000Z", turnId="0")
        + event("session.something_new", "2026-12-04T08:00:10.000Z")
        + "not json at all\n"
        + event("user.message", "2026-12-04T08:05:00.000Z", content="more")[:40])     # cut off mid-write


def cursor_home(home) -> None:
    folder = home / ".cursor" / "projects" / "home-dana-src-shop" / "agent-transcripts" / "cu-42"
    folder.mkdir(parents=True)
    rows = [{"role": "user", "message": {"content": [{"type": "text",
                                                      "text": f"<user_query>{CURSOR_CANARY} fix it</user_query>"}]}},
            {"role": "assistant", "message": {"content": [{"type": "text", "text": "Done."}]}},
            {"role": "system", "message": {}}]
    (folder / "cu-42.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (folder.parent / "old-9.txt").write_text("user:\nlegacy transcript\n")                # the older layout: not read


def make_home(tmp_path):
    home, repo = tmp_path / "home", tmp_path / "src" / "shop"
    (repo / ".git").mkdir(parents=True)
    (repo / ".git" / "HEAD").write_text("ref: refs/heads/fix/invoices\n")
    (repo / ".git" / "config").write_text('[remote "origin"]\n\turl = git@github.com:acme/shop.git\n')
    copilot_home(home, repo)
    cursor_home(home)
    return home, repo


def test_copilot_cli_events_are_read(tmp_path):
    home, repo = make_home(tmp_path)
    [path] = copilot_cli.files(home)
    record = copilot_cli.read(path)
    assert (record.session_id, record.versions, record.models) == ("c0p1-5e55", {"0.0.407-1"}, {"claude-sonnet-4.5"})
    assert (record.prompts, record.turns, record.cwd, record.branch) == (1, 1, str(repo), "fix/invoices")
    assert record.written == {f"{repo}/invoices.py": ["def settle_all():", f"    {CODE_CANARY}"],
                              f"{repo}/app.py": ["import invoices"]}                # create, then edit (JSON text)
    assert dict(record.shell) == {"pytest": 1}
    assert record.unknown_lines == 3                      # the new event type, the bad line, the cut-off line
    assert (record.started, record.ended) == ("2026-12-04T08:00:00.000Z", "2026-12-04T08:00:10.000Z")


def test_cursor_transcripts_are_read_without_lines(tmp_path):
    home, _ = make_home(tmp_path)
    [path] = cursor_agent.files(home)
    record = cursor_agent.read(path)
    assert (record.session_id, record.prompts, record.turns, record.unknown_lines) == ("cu-42", 1, 1, 1)
    assert record.written == {} and record.ended and record.ended.endswith("Z")


def test_both_join_the_one_shot_pass_and_the_tail(tmp_path):
    home, _ = make_home(tmp_path)
    by_tool = {c.record.tool_id: c for c in collect([home])}
    assert set(by_tool) == {"copilot-cli", "cursor"}
    assert by_tool["copilot-cli"].repo == "github.com/acme/shop"

    tail = SessionTail(lambda: [("dana", home)])
    assert {s.record.tool_id for s in tail.poll()} == {"copilot-cli", "cursor"}
    events = home / ".copilot" / "session-state" / "c0p1-5e55" / "events.jsonl"
    with open(events, "a") as fh:                         # the cut-off line completed
        fh.write(event("user.message", "2026-12-04T08:05:00.000Z", content="more")[40:])
    [session] = tail.poll()
    assert (session.record.tool_id, session.record.prompts) == ("copilot-cli", 2)


def test_sessions_cli_prints_them_without_text(tmp_path):
    home, _ = make_home(tmp_path)
    done = subprocess.run([sys.executable, "-m", "shadowmap.cli", "agent", "sessions", "--home", str(home), "--json",
                           "--no-scan"], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    by_tool = {r["tool"]: r for r in map(json.loads, done.stdout.splitlines())}
    assert by_tool["copilot-cli"]["lines_written"] == 3 and by_tool["cursor"]["prompts"] == 1
    for canary in (PROMPT_CANARY, CODE_CANARY, OUTPUT_CANARY, CURSOR_CANARY, "settle_all"):
        assert canary not in done.stdout and canary not in done.stderr
