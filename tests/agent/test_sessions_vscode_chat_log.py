"""Copilot chat in VS Code 1.109+ (Copilot Chat 0.37+): chatSessions/<id>.jsonl, the append log of
mutations VS Code's source defines (objectMutationLog.ts: {kind 0, v} the initial document,
{kind 1, k, v} set at a path, {kind 2, k, v?, i?} cut a list at i and push, {kind 3, k} delete;
the document is chatSessionOperationLog.ts's format 3). Written here from those facts: a session
streamed the way VS Code logs it (a response rewritten from its first changed part, a result set
whole, the response's state set when done) is read to the same counts, names and hashes as the
older .json; lines that do not fit (not JSON, not an object, an unknown kind, a path to nowhere,
a push onto a value that is not a list, a mutation before the initial line) are counted and
skipped; a line being written is read once complete; compaction and restarts read it whole again
without counting twice; the .jsonl wins over a .json of the same session; no prompt, draft, code
or output text reaches the event, the saved offsets or the spool (its WAL included)."""
from __future__ import annotations

import json
import uuid

import pytest

from shadowmap.agent.sessions import offsets
from shadowmap.agent.sessions import tail as tail_module
from shadowmap.agent.sessions.collect import collect
from shadowmap.agent.sessions.record import SessionRecord
from shadowmap.agent.sessions.tail import SessionTail
from shadowmap.agent.sessions.vscode_chat_log import replay
from shadowmap.agent.sessions.vscode_copilot import files, read
from shadowmap.agent.spool import Spool
from shadowmap.contract import lines as line_rule
from shadowmap.contract import validate_event

ORG_KEY = b"l" * 32
SID = "0c5e7a51-2b8d-4f0e-9a63-7d1c2e4b9f10"
PROMPT_CANARY = "canary-log-prompt-4c2e"
DRAFT_CANARY = "canary-log-draft-77b1"
CODE_CANARY = "canary_log_code = settle(batch)"
OUTPUT_CANARY = "canary-log-output-e5a0"
AWS_KEY = "AKIAZ3MHQ4WXRT6PLN2B"
CANARIES = (PROMPT_CANARY, DRAFT_CANARY, CODE_CANARY, OUTPUT_CANARY, AWS_KEY, "settle the batch")
T0 = 1_796_461_200_000                       # 2026-12-05T09:00:00Z in Unix milliseconds


def _initial() -> dict:
    return {"kind": 0, "v": {
        "version": 3, "creationDate": T0 - 30_000, "initialLocation": "panel", "responderUsername": "GitHub Copilot",
        "sessionId": SID, "requests": [], "pendingRequests": [], "hasPendingEdits": False,
        "inputState": {"attachments": [], "mode": {"id": "agent", "kind": "agent"}, "inputText": "",
                       "selectedModel": {"identifier": "copilot/claude-sonnet-4.5"}, "selections": []}}}


def _request(minute: int, text: str, model: str) -> dict:
    return {"requestId": f"request_{minute}", "timestamp": T0 + minute * 60_000,
            "message": {"text": text, "parts": [{"kind": "text", "text": text}]}, "modelId": model,
            "agent": {"id": "github.copilot.editsAgent", "extensionVersion": "0.37.4"},
            "variableData": {"variables": []}, "editedFileEvents": [], "response": [],
            "modelState": {"value": 0}}


def _terminal(done: bool) -> dict:
    return {"kind": "toolInvocationSerialized", "toolId": "run_in_terminal", "toolCallId": "t1",
            "isConfirmed": {"type": 4}, "isComplete": done, "source": {"type": "internal", "label": "Built-In"},
            "toolSpecificData": {"kind": "terminal", "commandLine": {"original": "npm test -- --ci"}}}


def _log() -> list:
    """A session as VS Code logs it, with the lines a reader must not trip over in between."""
    calls = [{"name": "create_file", "id": "toolu_1", "arguments": json.dumps(
                 {"filePath": "/src/shop/batch.py", "content": f"def settle():\n    {CODE_CANARY}\n"})},
             {"name": "replace_string_in_file", "id": "toolu_2", "arguments": json.dumps(
                 {"filePath": "/src/shop/app.py", "oldString": "x = 1", "newString": "x = 1\nimport batch"})}]
    response = ["requests", 0, "response"]
    return [
        _initial(),
        {"kind": 2, "k": ["requests"], "v": [_request(0, f"{PROMPT_CANARY} settle the batch",
                                                      "copilot/claude-sonnet-4.5")]},
        {"kind": 2, "k": response, "v": [{"value": "Working", "supportThemeIcons": False}]},
        # streaming: the text part changed, so the response is written again from it on
        {"kind": 2, "k": response, "i": 0, "v": [{"value": f"Working on it. {OUTPUT_CANARY}"}, _terminal(False)]},
        # the terminal call completed: written again from its index (one call, not two)
        {"kind": 2, "k": response, "i": 1, "v": [_terminal(True)]},
        {"kind": 2, "k": response, "v": [{"kind": "toolInvocationSerialized", "toolId": "create_issue",
                                          "toolCallId": "t2", "isConfirmed": {"type": 1}, "isComplete": True,
                                          "source": {"type": "mcp", "label": "github"}}]},
        {"kind": 1, "k": ["requests", 0, "result"], "v": {"timings": {"totalElapsed": 9000}, "metadata": {
            "toolCallRounds": [{"response": "", "toolCalls": calls, "id": "r1"}],
            "toolCallResults": {"toolu_3": {"content": [{"value": f"env: {AWS_KEY}"}]}}}}},
        {"kind": 1, "k": ["requests", 0, "modelState"], "v": {"value": 1, "completedAt": T0 + 60_000}},
        "not json {",                                                     # counted: not JSON
        [1, 2],                                                           # counted: not an object
        {"kind": 7, "k": ["requests"], "v": []},                          # counted: an unknown kind
        {"kind": 1, "k": ["requests", 9, "modelState"], "v": {}},         # counted: a path to nowhere
        {"kind": 2, "k": ["creationDate"], "v": [1]},                     # counted: not a list
        {"kind": 1, "k": ["inputState", "inputText"], "v": f"{DRAFT_CANARY} unsent draft"},
        {"kind": 2, "k": ["requests"], "v": [_request(5, "stop", "copilot/gpt-4.1")]},
        {"kind": 3, "k": ["requests", 1, "editedFileEvents"]},
        {"kind": 1, "k": ["requests", 1, "modelState"], "v": {"value": 2, "completedAt": T0 + 5 * 60_000 + 2_000}},
    ]


def _lines(items: list) -> str:
    return "".join((item if isinstance(item, str) else json.dumps(item)) + "\n" for item in items)


def _home(tmp_path, items: list | None = None):
    home, repo = tmp_path / "home", tmp_path / "src" / "shop"
    (repo / ".git").mkdir(parents=True)
    (repo / ".git" / "HEAD").write_text("ref: refs/heads/batch\n")
    (repo / ".git" / "config").write_text('[remote "origin"]\n\turl = git@github.com:acme/shop.git\n')
    workspace = home / ".config" / "Code" / "User" / "workspaceStorage" / "4f1a9c0e2d7b6a85"
    (workspace / "chatSessions").mkdir(parents=True)
    (workspace / "workspace.json").write_text(json.dumps({"folder": repo.as_uri()}))
    path = workspace / "chatSessions" / f"{SID}.jsonl"
    path.write_text(_lines(_log() if items is None else items))
    # the same session's older .json beside it: VS Code reads the log, so do we
    (workspace / "chatSessions" / f"{SID}.json").write_text(json.dumps(
        {"version": 3, "sessionId": SID, "requests": [_request(0, "old", "copilot/gpt-4o")]}))
    return home, path


def _checked(record: SessionRecord) -> None:
    assert (record.tool_id, record.session_id, record.prompts, record.turns) == ("github-copilot", SID, 2, 1)
    assert record.models == {"claude-sonnet-4.5", "gpt-4.1"} and record.versions == {"0.37.4"}
    assert dict(record.shell) == {"npm": 1} and dict(record.mcp) == {"github": 1}
    assert record.permission_mode == "auto-approved tools" and record.unknown_lines == 5
    assert (record.started, record.ended) == ("2026-12-05T08:59:30.000Z", "2026-12-05T09:05:02.000Z")


def test_a_chat_log_is_replayed_to_counts_names_and_hashes(tmp_path, engine, summarize):
    home, path = _home(tmp_path)
    assert files(home) == [path]                                       # not the .json beside it
    [chat] = collect([home], lambda text: summarize(engine.scan(text), text, ORG_KEY))
    _checked(chat.record)
    assert (chat.repo, chat.record.branch) == ("github.com/acme/shop", "batch")
    assert [f["entity_type"] for f in chat.findings] == ["AWS_ACCESS_KEY"]

    data = chat.record.as_event_data(ORG_KEY, chat.repo, chat.findings, "dana")
    validate_event({"schema": "shadowmap.event/1", "id": str(uuid.uuid4()), "type": "ai_session.recorded",
                    "device_id": "dev-1", "user": "dana", "ts": "2026-12-05T09:06:00Z", "data": data})
    key = line_rule.line_key(ORG_KEY)
    written = {f["path"]: f["hashes"] for f in data["lines"]}
    assert written["/src/shop/app.py"] == [line_rule.line_hash(key, "import batch")]
    assert written["/src/shop/batch.py"] == list(line_rule.hashes(key, ["def settle():", f"    {CODE_CANARY}"]))
    assert [(s["at"][11:19], s["kind"], s.get("name")) for s in data["steps"]] == [
        ("09:00:00", "prompt", None), ("09:00:00", "shell", "npm"), ("09:00:00", "mcp", "github"),
        ("09:00:00", "edit", "/src/shop/batch.py"), ("09:00:00", "edit", "/src/shop/app.py"),
        ("09:00:00", "finding", "AWS_ACCESS_KEY"), ("09:05:00", "prompt", None)]
    text = json.dumps(data)
    for canary in CANARIES:
        assert canary not in text


def test_lines_that_do_not_fit_are_counted_and_a_line_being_written_waits(tmp_path):
    record = SessionRecord("github-copilot", "x", "x")
    early = [{"kind": 1, "k": ["requests"], "v": []}, {"kind": 0, "v": "not a document"}]
    doc = replay(_lines([*early, *_log()]).encode() + json.dumps(_request(9, "half", "m"))[:40].encode(), record)
    assert record.unknown_lines == 2 + 5                         # the half line is not counted: not complete yet
    assert doc is not None and len(doc["requests"]) == 2 and doc["requests"][1]["modelState"]["value"] == 2
    assert doc["requests"][0]["response"][1]["isComplete"] is True and len(doc["requests"][0]["response"]) == 3
    assert "editedFileEvents" not in doc["requests"][1]
    assert replay(b'{"kind": 1, "k": ["requests"], "v": []}\n', SessionRecord("t", "s", "p")) is None
    for junk in (b"", b"\n\n", b"\x00\xff\n", b'{"kind": 0, "v": {}}'):   # none of these is fatal
        replay(junk, SessionRecord("t", "s", "p"))

    _home_dir, path = _home(tmp_path, _log()[:8])
    with open(path, "a") as fh:                                  # a request pushed in two writes
        fh.write(json.dumps({"kind": 2, "k": ["requests"], "v": [_request(5, "next", "copilot/gpt-4.1")]})[:50])
    assert (read(path).prompts, read(path).unknown_lines) == (1, 0)
    with open(path, "a") as fh:
        fh.write(json.dumps({"kind": 2, "k": ["requests"], "v": [_request(5, "next", "copilot/gpt-4.1")]})[50:] + "\n")
    assert (read(path).prompts, read(path).turns) == (2, 2)
    path.write_bytes(b"")                                        # emptied: a session with nothing in it
    assert read(path).prompts == 0


def test_the_tail_follows_the_log_through_compaction_and_restarts(tmp_path, monkeypatch):
    monkeypatch.setattr(tail_module, "SAVE_SECONDS", 0.0)
    home, path = _home(tmp_path, _log()[:8])
    state_file = tmp_path / "state" / offsets.STATE_FILE

    def started() -> SessionTail:
        tail = SessionTail(lambda: [("dana", home)])
        tail.keep_offsets(state_file, lambda: ORG_KEY)
        return tail

    first = started()
    [session] = first.poll()
    assert (session.record.prompts, dict(session.record.shell)) == (1, {"npm": 1})
    assert first.poll() == []                                    # unchanged: not read; the offsets saved
    with open(path, "a") as fh:
        fh.write(_lines(_log()[8:]))
    [grown] = first.poll()
    _checked(grown.record)                                       # the whole log again: nothing counted twice

    # compaction: VS Code rewrites the file as one initial line holding the document so far
    document = replay(path.read_bytes(), SessionRecord("t", "s", "p"))
    path.write_text(json.dumps({"kind": 0, "v": document}) + "\n")
    [compacted] = first.poll()
    assert (compacted.record.prompts, compacted.record.turns, dict(compacted.record.shell)) == (2, 1, {"npm": 1})
    assert compacted.record.unknown_lines == 0
    first.poll()                                                 # saved

    restarted = started()
    assert restarted.poll() == []                                # unchanged since the save: not read again
    with open(path, "a") as fh:
        fh.write(_lines([{"kind": 2, "k": ["requests"], "v": [_request(9, "one more", "copilot/gpt-4.1")]}]))
    [resumed] = restarted.poll()
    assert (resumed.record.prompts, resumed.record.ended) == (3, "2026-12-05T09:09:00.000Z")


def test_chats_of_windows_without_a_folder_are_read(tmp_path):
    home = tmp_path / "home"
    folder = home / "Library" / "Application Support" / "Code - Insiders" / "User" / "globalStorage" / \
        "emptyWindowChatSessions"
    folder.mkdir(parents=True)
    (folder / "e1.jsonl").write_text(_lines([_initial(), {"kind": 2, "k": ["requests"], "v": [
        _request(1, "hello", "copilot/gpt-4.1")]}]))
    [path] = files(home)
    record = read(path)
    assert (record.session_id, record.prompts, record.cwd) == (SID, 1, None)


@pytest.fixture
def spool(tmp_path):
    (tmp_path / "spool").mkdir()
    spool = Spool(tmp_path / "spool" / "outbox.db")
    yield spool
    spool.close()


def test_no_text_of_the_chat_reaches_the_spool_or_the_saved_offsets(tmp_path, engine, summarize, spool, monkeypatch):
    monkeypatch.setattr(tail_module, "SAVE_SECONDS", 0.0)
    home, _path = _home(tmp_path)
    state_file = tmp_path / "state" / offsets.STATE_FILE
    tail = SessionTail(lambda: [("dana", home)], lambda text: summarize(engine.scan(text), text, ORG_KEY))
    tail.keep_offsets(state_file, lambda: ORG_KEY)
    [session] = tail.poll()
    findings = sorted(session.findings.values(), key=lambda f: f["entity_type"])
    assert [f["entity_type"] for f in findings] == ["AWS_ACCESS_KEY"]
    spool.put({"schema": "shadowmap.event/1", "id": str(uuid.uuid4()), "type": "ai_session.recorded",
               "device_id": "dev-1", "user": "dana", "ts": "2026-12-05T09:06:00Z",
               "data": session.record.as_event_data(ORG_KEY, None, findings, "dana")})
    tail.poll()                                                  # the offsets saved
    stored = [p for p in (tmp_path / "spool").iterdir() if p.is_file()] + [state_file]
    assert any(p.name.endswith("-wal") for p in stored) and state_file.exists()
    raw = b"".join(p.read_bytes() for p in stored)
    assert b"ai_session.recorded" in raw and b"github-copilot" in raw
    for canary in CANARIES:
        assert canary.encode() not in raw
