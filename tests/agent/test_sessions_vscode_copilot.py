"""GitHub Copilot chat in VS Code (workspaceStorage/<hash>/chatSessions/<id>.json), read from a
session written in the shape the stored public specification gives (extension 0.33, format 3):
prompts, models, the extension's version, terminal commands by program, MCP calls by server,
auto-approved tools as the permission mode, edits as keyed line hashes, findings in the answer and
tool output; the folder from workspace.json names the repository; the timeline has the requests'
times. A malformed request is counted, a truncated file is not fatal, and no prompt, code or
output text reaches the event."""
from __future__ import annotations

import json
import uuid

from shadowmap.agent.sessions.collect import collect
from shadowmap.agent.sessions.tail import SessionTail
from shadowmap.agent.sessions.vscode_copilot import read
from shadowmap.contract import lines as line_rule
from shadowmap.contract import validate_event

ORG_KEY = b"v" * 32
PROMPT_CANARY = "canary-prompt-a81c"
CODE_CANARY = "canary_code_5e0f = reconcile(ledger)"
OUTPUT_CANARY = "canary-output-93d7"
AWS_KEY = "AKIAZ3MHQ4WXRT6PLN2B"
T0 = 1_796_461_200_000                       # 2026-12-05T09:00:00Z in Unix milliseconds


def _request(minute: int, text: str, model: str, **extra) -> dict:
    return {"requestId": f"request_{minute}", "message": {"text": text, "parts": []},
            "variableData": {"variables": []}, "timestamp": T0 + minute * 60_000, "modelId": model,
            "agent": {"extensionVersion": "0.33.5", "id": "github.copilot.editsAgent"}, "isCanceled": False,
            "response": [], "result": {"timings": {"totalElapsed": 3000}, "metadata": {}}, **extra}


def _session() -> dict:
    tool_calls = [
        {"name": "create_file", "id": "toolu_1", "arguments": json.dumps(
            {"filePath": "/src/shop/ledger.py", "content": f"def reconcile():\n    {CODE_CANARY}\n"})},
        {"name": "replace_string_in_file", "id": "toolu_2", "arguments": json.dumps(
            {"filePath": "/src/shop/app.py", "oldString": "x = 1", "newString": "x = 1\nimport ledger"})},
        {"name": "run_in_terminal", "id": "toolu_3", "arguments": json.dumps({"command": "npm test"})},
        {"name": "replace_string_in_file", "id": "toolu_4", "arguments": "{not json"},
    ]
    first = _request(0, f"{PROMPT_CANARY} reconcile the ledger", "copilot/claude-opus-4.5", response=[
        {"kind": "mcpServersStarting", "didStartServerIds": []},
        {"kind": "prepareToolInvocation", "toolName": "run_in_terminal"},
        {"kind": "toolInvocationSerialized", "invocationMessage": "Using \"Run in Terminal\"", "isConfirmed": {"type": 4},
         "isComplete": True, "source": {"type": "internal", "label": "Built-In"}, "toolCallId": "t1",
         "toolId": "run_in_terminal", "toolSpecificData": {"kind": "terminal", "commandLine": {"original": "npm test"},
                                                           "language": "sh"}},
        {"kind": "toolInvocationSerialized", "invocationMessage": "Using \"create_issue\"", "isConfirmed": {"type": 1},
         "isComplete": True, "source": {"type": "mcp", "label": "github"}, "toolCallId": "t2",
         "toolId": "create_issue"},
        {"value": f"Done. {OUTPUT_CANARY}", "supportThemeIcons": False, "supportHtml": False},
    ], result={"timings": {"totalElapsed": 9000}, "metadata": {
        "toolCallRounds": [{"response": "", "toolCalls": tool_calls, "toolInputRetry": 0, "id": "r1"}],
        "toolCallResults": {"toolu_3": {"$mid": 20, "content": [{"$mid": 21, "value": f"env: {AWS_KEY}"}]}}}})
    second = _request(5, "stop", "copilot/gpt-4.1", isCanceled=True)
    return {"version": 3, "requesterUsername": "dana", "responderUsername": "GitHub Copilot",
            "initialLocation": "panel", "requests": [first, "not a request", second],
            "sessionId": "5eba223c-15f9-4aea-855d-b7894480893a", "creationDate": T0 - 30_000,
            "lastMessageDate": T0 + 5 * 60_000, "isImported": False}


def _home(tmp_path):
    home, repo = tmp_path / "home", tmp_path / "src" / "shop"
    (repo / ".git").mkdir(parents=True)
    (repo / ".git" / "HEAD").write_text("ref: refs/heads/ledger\n")
    (repo / ".git" / "config").write_text('[remote "origin"]\n\turl = git@github.com:acme/shop.git\n')
    workspace = home / ".config" / "Code" / "User" / "workspaceStorage" / "9d3d359e87669fb4"
    (workspace / "chatSessions").mkdir(parents=True)
    (workspace / "workspace.json").write_text(json.dumps({"folder": repo.as_uri()}))
    path = workspace / "chatSessions" / "5eba223c-15f9-4aea-855d-b7894480893a.json"
    path.write_text(json.dumps(_session()))
    broken = home / "Library" / "Application Support" / "Code - Insiders" / "User" / "workspaceStorage" / "x1"
    (broken / "chatSessions").mkdir(parents=True)
    (broken / "chatSessions" / "cut.json").write_text(json.dumps(_session())[:500])     # being rewritten
    return home, path


def test_a_vscode_copilot_chat_session_is_read_to_counts_names_and_hashes(tmp_path, engine, summarize):
    home, _path = _home(tmp_path)
    found = collect([home], lambda text: summarize(engine.scan(text), text, ORG_KEY))
    chat = next(c for c in found if c.record.session_id == "5eba223c-15f9-4aea-855d-b7894480893a")
    cut = next(c for c in found if c.record.session_id == "cut")
    assert len(found) == 2 and cut.record.unknown_lines == 1 and cut.record.prompts == 0
    record = chat.record
    assert (record.tool_id, record.prompts, record.turns) == ("github-copilot", 2, 1)
    assert record.models == {"claude-opus-4.5", "gpt-4.1"} and record.versions == {"0.33.5"}
    assert (chat.repo, record.branch) == ("github.com/acme/shop", "ledger")
    assert dict(record.shell) == {"npm": 1} and dict(record.mcp) == {"github": 1}
    assert record.permission_mode == "auto-approved tools"
    assert record.unknown_lines == 2                                  # the string request, the broken arguments
    assert [f["entity_type"] for f in chat.findings] == ["AWS_ACCESS_KEY"]

    data = record.as_event_data(ORG_KEY, chat.repo, chat.findings, "dana")
    validate_event({"schema": "shadowmap.event/1", "id": str(uuid.uuid4()), "type": "ai_session.recorded",
                    "device_id": "dev-1", "user": "dana", "ts": "2026-12-05T09:06:00Z", "data": data})
    key = line_rule.line_key(ORG_KEY)
    written = {f["path"]: f["hashes"] for f in data["lines"]}
    assert written["/src/shop/app.py"] == [line_rule.line_hash(key, "import ledger")]
    assert written["/src/shop/ledger.py"] == list(line_rule.hashes(key, ["def reconcile():", f"    {CODE_CANARY}"]))
    assert (data["started"], data["ended"]) == ("2026-12-05T08:59:30.000Z", "2026-12-05T09:05:00.000Z")
    assert [(s["at"][11:16], s["kind"], s.get("name")) for s in data["steps"]] == [
        ("09:00", "prompt", None), ("09:00", "shell", "npm"), ("09:00", "mcp", "github"),
        ("09:00", "edit", "/src/shop/ledger.py"), ("09:00", "edit", "/src/shop/app.py"),
        ("09:00", "finding", "AWS_ACCESS_KEY"), ("09:05", "prompt", None)]
    text = json.dumps(data)
    for canary in (PROMPT_CANARY, CODE_CANARY, OUTPUT_CANARY, AWS_KEY, "reconcile the ledger"):
        assert canary not in text


def test_the_tail_reads_a_vscode_chat_again_when_it_is_rewritten(tmp_path):
    home, path = _home(tmp_path)
    tail = SessionTail(lambda: [("dana", home)])
    sessions = {s.record.session_id: s for s in tail.poll()}
    assert sessions["5eba223c-15f9-4aea-855d-b7894480893a"].record.prompts == 2
    assert tail.poll() == []
    grown = _session()
    grown["requests"].append(_request(9, "one more", "copilot/gpt-4.1"))
    path.write_text(json.dumps(grown))
    [again] = tail.poll()
    assert again.record.prompts == 3 and again.record.tool_id == "github-copilot"
    assert read(path).ended == "2026-12-05T09:09:00.000Z"                # the new request's time
