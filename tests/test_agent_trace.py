"""Agent Trace export: the schema written from the published spec (0.1.0) takes a record shaped as the
spec describes and refuses what it forbids; a change's lines become ranges per writer, with a human's
edit inside an AI session's lines as a `mixed` range, and every record made validates."""
from __future__ import annotations

import copy

import pytest

from shadowmap import agent_trace as export
from shadowmap.contract import ContractError, agent_trace
from shadowmap.contract import lines as line_rule

KEY = line_rule.line_key(b"org key for tests")

SPEC_SHAPED = {
    "version": "0.1.0", "id": "0f8fad5b-d9cb-469f-a165-70867728950e", "timestamp": "2026-12-05T09:00:00Z",
    "vcs": {"type": "git", "revision": "4b825dc642cb6eb9a060e54bf8d69288fbee4904"},
    "tool": {"name": "claude-code", "version": "2.1.0"},
    "files": [{"path": "payments/charge.py", "conversations": [{
        "url": "https://shadowmap.acme.test/sessions/d/claude-code/s-1",
        "contributor": {"type": "ai", "model_id": "anthropic/claude-sonnet-4-5"},
        "ranges": [{"start_line": 3, "end_line": 9, "content_hash": "sha256:00"},
                   {"start_line": 12, "end_line": 12, "contributor": {"type": "mixed"}}],
        "related": [{"type": "session", "url": "https://shadowmap.acme.test/sessions/d/claude-code/s-1"}]}]}],
    "metadata": {"dev.shadowmap": {"repo": "github.com/acme/shop"}},
}


def test_the_schema_takes_a_record_shaped_as_the_spec_describes():
    agent_trace.validate(SPEC_SHAPED)
    minimal = {k: SPEC_SHAPED[k] for k in ("version", "id", "timestamp")} | {
        "files": [{"path": "a.py", "conversations": [{"ranges": [{"start_line": 1, "end_line": 1}]}]}]}
    agent_trace.validate(minimal)
    assert agent_trace.VERSION == "0.1.0" and agent_trace.CONTRIBUTOR_TYPES == ("human", "ai", "mixed", "unknown")
    assert agent_trace.MIME_TYPE == "application/vnd.agent-trace.record+json"


@pytest.mark.parametrize("where, value", [
    (("version",), "1.0"),                                    # MAJOR.MINOR.PATCH
    (("id",), "not-a-uuid"),
    (("timestamp",), "2026-12-05 09:00:00"),
    (("vcs", "type"), "cvs"),
    (("tool",), {"name": "claude-code"}),                     # a tool names its version
    (("files", 0, "conversations", 0, "contributor", "type"), "bot"),
    (("files", 0, "conversations", 0, "contributor", "model_id"), "x" * 251),
    (("files", 0, "conversations", 0, "ranges", 0, "start_line"), 0),
    (("files", 0, "conversations", 0, "ranges", 0, "lines"), 3),       # closed objects
    (("extra",), True),
])
def test_the_schema_refuses_what_the_spec_forbids(where, value):
    record = copy.deepcopy(SPEC_SHAPED)
    node = record
    for step in where[:-1]:
        node = node[step]
    node[where[-1]] = value
    with pytest.raises(ContractError):
        agent_trace.validate(record)
    del record["files"]
    with pytest.raises(ContractError, match="files"):
        agent_trace.validate(record)


def test_model_ids_follow_the_models_dev_convention():
    assert agent_trace.model_id("claude-opus-4-5") == "anthropic/claude-opus-4-5"
    assert agent_trace.model_id("gpt-5-codex") == "openai/gpt-5-codex"
    assert agent_trace.model_id("gemini-2.5-pro") == "google/gemini-2.5-pro"
    assert agent_trace.model_id("openrouter/x") == "openrouter/x" and agent_trace.model_id("llama3") == "llama3"


def _answer(writers: dict[str, str]) -> dict:
    sessions = [{"ref": "codex:s-9", "device_id": "dev 1", "tool_id": "codex", "tool_version": "0.50.0",
                 "session_id": "s-9", "user": "ana@acme.test", "models": ["gpt-5-codex"], "started": "", "ended": "",
                 "permission_mode": "on-request"}]
    return {"sessions": sessions, "writers": writers, "approved_by": ["bo"]}


def test_a_human_edit_inside_a_sessions_lines_is_one_mixed_range_and_the_rest_is_unknown():
    ai_lines = ["def total(items):", "    subtotal = sum(i.price for i in items)", "    tax = subtotal * RATE",
                "    return subtotal + tax", "def empty(items):", "    return not items"]
    human = "    tax = round(subtotal * RATE, 2)"
    writers = {line_rule.line_hash(KEY, text): "codex:s-9" for text in ai_lines}
    file_lines = [ai_lines[0], ai_lines[1], human, ai_lines[3], "", "}", ai_lines[4], ai_lines[5],
                  "", "# hand-written note", "MAX_ITEMS = 100"]
    added = {"shop/cart.py": list(enumerate(file_lines, start=10)),
             "shop/other.py": [(1, "print('only a human here')"), (5, ai_lines[4])]}
    ai, unknown = export.records(added, KEY, _answer(writers), revision="a" * 40, collector="https://sm.test/",
                                 repo="github.com/acme/shop", number=7)
    for record in (ai, unknown):
        agent_trace.validate(record)
    assert ai["tool"] == {"name": "codex", "version": "0.50.0"}
    cart, other = ai["files"]
    [conversation] = cart["conversations"]
    assert conversation["url"] == "https://sm.test/sessions/dev%201/codex/s-9"
    assert conversation["contributor"] == {"type": "ai", "model_id": "openai/gpt-5-codex"}
    spans = [(r["start_line"], r["end_line"], r.get("contributor", {}).get("type")) for r in conversation["ranges"]]
    # 12: a human's one-line edit between the session's lines; the blank line and the brace between two of the
    # session's lines are its too; 18 (blank) sits between the session and an unattributed line: nobody's
    assert spans == [(10, 11, None), (12, 12, "mixed"), (13, 17, None)]
    assert conversation["ranges"][1]["contributor"] == {"type": "mixed", "model_id": "openai/gpt-5-codex"}
    assert [(r["start_line"], r["end_line"]) for r in other["conversations"][0]["ranges"]] == [(5, 5)]
    assert ai["metadata"]["dev.shadowmap"]["pull_request"] == 7
    assert ai["metadata"]["dev.shadowmap"]["session"]["user"] == "ana@acme.test"
    assert unknown["files"][0]["path"] == "shop/cart.py" and "tool" not in unknown
    assert [(r["start_line"], r["end_line"]) for r in unknown["files"][0]["conversations"][0]["ranges"]] == [(19, 20)]
    assert [f["path"] for f in unknown["files"]] == ["shop/cart.py", "shop/other.py"]


def test_a_longer_human_run_splits_the_sessions_range_and_no_lines_no_records():
    ai_lines = ["first = compute_first()", "second = compute_second()"]
    writers = {line_rule.line_hash(KEY, text): "codex:s-9" for text in ai_lines}
    added = {"a.py": list(enumerate([ai_lines[0], "human_one = 1", "human_two = 2", "human_three = 3",
                                     ai_lines[1]], start=1))}
    ai, unknown = export.records(added, KEY, _answer(writers), revision=None, collector="https://sm.test",
                                 repo="r", number=None)
    assert "vcs" not in ai
    ranges = ai["files"][0]["conversations"][0]["ranges"]
    assert [(r["start_line"], r["end_line"], "contributor" in r) for r in ranges] == [(1, 1, False), (5, 5, False)]
    assert export.records({}, KEY, _answer({}), revision=None, collector="x", repo="r", number=None) == []
