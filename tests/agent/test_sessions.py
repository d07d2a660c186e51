"""AI coding sessions read from each tool's local store, in files written from the formats'
facts (readers.py says where each comes from): Claude Code (with a subagent's file), Codex CLI,
Gemini CLI, aider. Malformed and truncated lines are counted and skipped. Canaries planted in
prompts, tool output and written code never appear in what `shadowmap agent sessions` prints;
a secret in a prompt is reported by type and count."""
from __future__ import annotations

import json
import subprocess
import sys

from support.processes import REPO

from shadowmap.agent.sessions.collect import collect
from shadowmap.agent.sessions.edits import added_lines, patch_files, search_replace_blocks
from shadowmap.agent.sessions.readers import read_aider, read_claude_code, read_codex, read_gemini
from shadowmap.contract import lines as line_rule

PROMPT_CANARY = "canary-prompt-7f3a"
CODE_CANARY = "canary_code_91bd = compute_total(order)"
OUTPUT_CANARY = "canary-output-c4e2"
AWS_KEY = "AKIAZ3MHQ4WXRT6PLN2B"


def jsonl(path, rows, tail: str = "") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows) + tail)


def claude_home(home, repo):
    project = home / ".claude" / "projects" / "-src-shop"
    base = {"sessionId": "s-claude-1", "cwd": str(repo), "gitBranch": "feature/pay", "version": "2.1.0"}
    jsonl(project / "s-claude-1.jsonl", [
        {**base, "type": "user", "timestamp": "2026-12-01T09:00:00.000Z", "permissionMode": "acceptEdits",
         "message": {"role": "user", "content": f"{PROMPT_CANARY} add totals; key {AWS_KEY}"}},
        {**base, "type": "assistant", "timestamp": "2026-12-01T09:00:05.000Z",
         "message": {"role": "assistant", "model": "claude-sonnet-4-5", "content": [
             {"type": "text", "text": "Writing it."},
             {"type": "tool_use", "name": "Write", "input": {"file_path": f"{repo}/totals.py",
                                                              "content": f"def total():\n    {CODE_CANARY}\n    return 1\n"}},
             {"type": "tool_use", "name": "Edit", "input": {"file_path": f"{repo}/app.py", "old_string": "x = 1",
                                                             "new_string": "x = 1\nimport totals"}},
             {"type": "tool_use", "name": "Bash", "input": {"command": "pytest -q tests/"}},
             {"type": "tool_use", "name": "mcp__github__create_pull_request", "input": {"title": "t"}}]}},
        {**base, "type": "user", "timestamp": "2026-12-01T09:00:09.000Z",
         "message": {"role": "user", "content": [{"type": "tool_result", "content": OUTPUT_CANARY}]}},
        {"type": "some-future-kind", "sessionId": "s-claude-1"},
    ], tail='{"type": "assistant", "sessionId": "s-cl')           # a line cut off mid-write
    jsonl(project / "s-claude-1" / "subagents" / "agent-a1.jsonl", [
        {**base, "type": "assistant", "timestamp": "2026-12-01T09:01:00.000Z",
         "message": {"role": "assistant", "model": "claude-haiku-4-5", "content": [
             {"type": "tool_use", "name": "MultiEdit", "input": {"file_path": f"{repo}/app.py", "edits": [
                 {"old_string": "", "new_string": "print('hello there')"}]}}]}}])


def codex_home(home, repo):
    patch = ("*** Begin Patch\n*** Add File: billing.py\n+def bill(order):\n+    return order.total\n"
             "*** Update File: app.py\n@@\n-x = 1\n+x = 2\n*** End Patch")
    jsonl(home / ".codex" / "sessions" / "2026" / "12" / "02" / "rollout-2026-12-02T10-00-00-abc.jsonl", [
        {"timestamp": "2026-12-02T10:00:00Z", "type": "session_meta",
         "payload": {"id": "codex-abc", "cwd": str(repo), "cli_version": "0.71.0", "git": {"branch": "main"}}},
        {"timestamp": "2026-12-02T10:00:01Z", "type": "turn_context",
         "payload": {"model": "gpt-5-codex", "approval_policy": "never", "sandbox_policy": {"mode": "danger-full-access"}}},
        {"timestamp": "2026-12-02T10:00:02Z", "type": "event_msg", "payload": {"type": "user_message", "message": PROMPT_CANARY}},
        {"timestamp": "2026-12-02T10:00:03Z", "type": "response_item",
         "payload": {"type": "custom_tool_call", "name": "apply_patch", "input": patch}},
        {"timestamp": "2026-12-02T10:00:04Z", "type": "response_item",
         "payload": {"type": "function_call", "name": "shell", "arguments": json.dumps({"command": ["bash", "-lc", "npm test"]})}},
        {"timestamp": "2026-12-02T10:00:05Z", "type": "response_item",
         "payload": {"type": "function_call_output", "output": OUTPUT_CANARY}},
        {"timestamp": "2026-12-02T10:00:06Z", "type": "response_item",
         "payload": {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "done"}]}},
    ])


def gemini_home(home):
    chats = home / ".gemini" / "tmp" / "9f1c2e" / "chats"
    chats.mkdir(parents=True)
    (chats / "session-2026-12-03T08-00-g1.json").write_text(json.dumps({
        "sessionId": "gem-1", "startTime": "2026-12-03T08:00:00.000Z", "lastUpdated": "2026-12-03T08:05:00.000Z",
        "messages": [
            {"type": "user", "timestamp": "2026-12-03T08:00:00.000Z", "content": PROMPT_CANARY},
            {"type": "gemini", "timestamp": "2026-12-03T08:01:00.000Z", "model": "gemini-2.5-pro", "content": "ok",
             "toolCalls": [{"name": "write_file", "args": {"file_path": "/w/report.md", "content": "# Weekly report\nAll green.\n"}},
                           {"name": "run_shell_command", "args": {"command": "make lint"}}]},
            "not a message"]}))


def aider_repo(repo):
    (repo / ".aider.chat.history.md").write_text(
        "\n# aider chat started at 2026-12-04 11:00:00\n\n> Aider v0.86.1\n> Model: gpt-4.1 with diff edit format\n\n"
        f"#### {PROMPT_CANARY} rename the helper\n\n"
        "util.py\n```python\n<<<<<<< SEARCH\ndef helper():\n=======\ndef renamed_helper():\n>>>>>>> REPLACE\n```\n")


def make_home(tmp_path):
    home = tmp_path / "home" / "dana"
    repo = home / "src" / "shop"
    (repo / ".git").mkdir(parents=True)
    (repo / ".git" / "HEAD").write_text("ref: refs/heads/feature/pay\n")
    (repo / ".git" / "config").write_text('[remote "origin"]\n\turl = git@github.com:acme/shop.git\n')
    claude_home(home, repo)
    codex_home(home, repo)
    gemini_home(home)
    aider_repo(repo)
    return home, repo


def test_each_reader_on_its_format(tmp_path):
    home, repo = make_home(tmp_path)
    claude = read_claude_code(home / ".claude" / "projects" / "-src-shop" / "s-claude-1.jsonl")
    assert (claude.prompts, claude.turns, claude.permission_mode) == (1, 1, "acceptEdits")
    assert claude.models == {"claude-sonnet-4-5"} and claude.versions == {"2.1.0"}
    assert claude.unknown_lines == 2                                # the future kind, the cut-off line
    assert claude.written[f"{repo}/app.py"] == ["import totals"]
    assert (dict(claude.shell), dict(claude.mcp)) == ({"pytest": 1}, {"github": 1})
    codex = read_codex(next((home / ".codex").rglob("rollout-*.jsonl")))
    assert (codex.session_id, codex.branch, codex.permission_mode) == ("codex-abc", "main", "never/danger-full-access")
    assert codex.written == {"billing.py": ["def bill(order):", "    return order.total"], "app.py": ["x = 2"]}
    assert dict(codex.shell) == {"npm": 1} and codex.models == {"gpt-5-codex"}
    gemini = read_gemini(next((home / ".gemini").rglob("*.json")))
    assert (gemini.session_id, gemini.prompts, gemini.unknown_lines) == ("gem-1", 1, 1)
    assert gemini.written == {"/w/report.md": ["# Weekly report", "All green."]} and dict(gemini.shell) == {"make": 1}
    [aider] = read_aider(repo / ".aider.chat.history.md")
    assert (aider.prompts, aider.models, aider.versions) == (1, {"gpt-4.1"}, {"0.86.1"})
    assert aider.written == {"util.py": ["def renamed_helper():"]}


def test_a_subagents_file_joins_its_session_and_the_repository_is_named(tmp_path):
    home, repo = make_home(tmp_path)
    by_tool = {c.record.tool_id: c for c in collect([home])}
    claude = by_tool["claude-code"]
    assert claude.record.models == {"claude-sonnet-4-5", "claude-haiku-4-5"}
    assert claude.record.written[f"{repo}/app.py"] == ["import totals", "print('hello there')"]
    assert claude.repo == "github.com/acme/shop" and claude.record.branch == "feature/pay"
    assert set(by_tool) == {"claude-code", "codex-cli", "gemini-cli", "aider"}


def test_sessions_cli_prints_counts_never_text(tmp_path):
    home, _ = make_home(tmp_path)
    done = subprocess.run([sys.executable, "-m", "shadowmap.cli", "agent", "sessions", "--home", str(home), "--json"],
                          cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    by_tool = {r["tool"]: r for r in rows}
    claude = by_tool["claude-code"]
    assert set(claude) >= {"tool", "session_id", "models", "repo", "started", "ended", "prompts", "files_written",
                           "lines_written", "permission_mode", "findings"}
    assert claude["lines_written"] == 5 and claude["started"] == "2026-12-01T09:00:00.000Z"
    assert {"entity_type": "AWS_ACCESS_KEY", "data_class": "secret", "count": 1} in claude["findings"]
    for canary in (PROMPT_CANARY, CODE_CANARY, OUTPUT_CANARY, AWS_KEY, "compute_total"):
        assert canary not in done.stdout and canary not in done.stderr


def test_edits_add_only_new_lines():
    assert added_lines("a\nb\nb", "a\nb\nc\nb\nb") == ["c", "b"]
    assert list(patch_files("*** Begin Patch\n*** Delete File: x.py\n*** Add File: y.py\n+new\n*** End Patch")) == \
        [("y.py", ["new"])]
    cut = "f.py\n<<<<<<< SEARCH\nold\n=======\nnew"          # a block cut off: nothing, no error
    assert list(search_replace_blocks(cut)) == []


def test_line_hashes_skip_trivial_lines_and_ignore_indentation():
    key = line_rule.line_key(b"k" * 32)
    assert line_rule.line_hash(key, "   return order.total  ") == line_rule.line_hash(key, "return order.total")
    assert line_rule.line_hash(key, "  }  ") is None and line_rule.line_hash(key, "") is None
    assert line_rule.line_key(b"k" * 32) != line_rule.line_key(b"j" * 32)


def test_the_tail_reads_new_lines_where_it_stopped(tmp_path):
    from shadowmap.agent.sessions.tail import SessionTail

    home = tmp_path / "home"
    path = home / ".claude" / "projects" / "-w" / "s-tail.jsonl"
    base = {"sessionId": "s-tail", "cwd": "/w", "version": "2.1.0"}
    jsonl(path, [{**base, "type": "user", "timestamp": "2026-12-05T10:00:00Z", "message": {"content": "one"}}])
    tail = SessionTail(lambda: [("dana", home)])
    [first] = tail.poll()
    assert (first.record.prompts, first.user) == (1, "dana")
    assert tail.poll() == []                                        # nothing new: nothing returned
    with open(path, "a") as fh:                                     # a line written in two parts
        fh.write(json.dumps({**base, "type": "user", "timestamp": "2026-12-05T10:01:00Z",
                             "message": {"content": "two"}})[:20])
    assert [s.record.prompts for s in tail.poll()] in ([], [1])    # half a line is not read yet
    with open(path, "a") as fh:
        fh.write(json.dumps({**base, "type": "user", "timestamp": "2026-12-05T10:01:00Z",
                             "message": {"content": "two"}})[20:] + "\n")
    [second] = tail.poll()
    assert second.record.prompts == 2 and second.record.ended == "2026-12-05T10:01:00Z"
    jsonl(path, [{**base, "type": "user", "timestamp": "2026-12-05T11:00:00Z", "message": {"content": "x"}}])
    [rewritten] = tail.poll()                                       # shorter: read again from the start
    assert rewritten.record.prompts == 1


def test_sessions_reach_a_real_collector_as_line_hashes_only(tmp_path, engine, catalog, summarize, collector):
    import sqlite3

    from shadowmap.agent.config import load_config
    from shadowmap.agent.daemon import AgentDaemon
    from shadowmap.agent.enroll import enroll, load_enrollment, read_secret

    from .conftest import wait_until

    db, url, secret_file = collector
    home, repo = make_home(tmp_path)
    state = tmp_path / "state"
    enroll(url, read_secret(secret_file), state)
    config = load_config(state_dir=state, socket_path=tmp_path / "run" / "agent.sock", collector_url=url,
                         mode="user", env={"SHADOWMAP_AGENT_CONFIG": ""}, upload_interval=0.2,
                         heartbeat_interval=3600, policy_refresh_interval=3600, process_interval=3600,
                         network_interval=3600, extension_interval=3600, config_rescan_interval=3600,
                         session_interval=0.2)
    daemon = AgentDaemon(config, engine, catalog, summarize, homes=[("dana", home)], resolver=lambda h: [])
    daemon.start()

    def stored() -> list[dict]:
        conn = sqlite3.connect(db, timeout=10)
        try:
            cols = [r[1] for r in conn.execute("PRAGMA table_info(events)")]
            column = "body" if "body" in cols else "data"
            return [json.loads(r[0]) for r in conn.execute(f"SELECT {column} FROM events WHERE type = 'ai_session.recorded'")]
        finally:
            conn.close()
    try:
        found = wait_until(lambda: len({e["data"]["tool_id"] for e in stored()}) == 4 and stored(), 60, "4 sessions")
        claude = next(e["data"] for e in found if e["data"]["tool_id"] == "claude-code")
        key = line_rule.line_key(load_enrollment(state).org_key_bytes)
        written = {f["path"]: f["hashes"] for f in claude["lines"]}
        assert written[f"{repo}/app.py"] == [line_rule.line_hash(key, "import totals"),
                                             line_rule.line_hash(key, "print('hello there')")]
        assert claude["repo"] == "github.com/acme/shop" and claude["tools"]["mcp"] == {"github": 1}
        assert [f["entity_type"] for f in claude["findings"]] == ["AWS_ACCESS_KEY"]
        # a new prompt in the running session reaches the collector as an update
        with open(home / ".claude" / "projects" / "-src-shop" / "s-claude-1.jsonl", "a") as fh:
            fh.write("\n" + json.dumps({"type": "user", "sessionId": "s-claude-1", "timestamp": "2026-12-01T10:00:00.000Z",
                                        "message": {"content": "one more"}}) + "\n")
        wait_until(lambda: any(e["data"]["tool_id"] == "claude-code" and e["data"]["prompts"] == 2 for e in stored()),
                   30, "the session's update")
    finally:
        daemon.stop(flush_timeout=2.0)
    files = [p for base in (db, config.spool_path) for p in base.parent.glob(base.name + "*") if p.is_file()]
    assert config.spool_path in files and db in files
    raw = b"".join(p.read_bytes() for p in files)
    for canary in (PROMPT_CANARY, CODE_CANARY, OUTPUT_CANARY, AWS_KEY, "compute_total"):
        assert canary.encode() not in raw
