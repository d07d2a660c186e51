"""A session's timeline on the agent: each prompt, shell program, file edit and MCP call at the time
of the line it was read from, and each finding at the time it was first found, ordered; names
and counts only (no prompt, code or output text); bounded (the start and the newest kept, the
rest counted); kept across a restart with the resumable offsets; and the event carrying it is
valid against the contract."""
from __future__ import annotations

import json
import uuid

from shadowmap.agent.sessions import tail as tail_module
from shadowmap.agent.sessions.collect import collect
from shadowmap.agent.sessions.record import MAX_STEPS
from shadowmap.agent.sessions.tail import SessionTail
from shadowmap.contract import validate_event

ORG_KEY = b"k" * 32
PROMPT_CANARY = "canary-prompt-5d1e"
CODE_CANARY = "canary_code_77aa = settle(order)"
OUTPUT_CANARY = "canary-output-0b3c"
AWS_KEY = "AKIAZ3MHQ4WXRT6PLN2B"


def _jsonl(path, items) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(item) + "\n" for item in items))


def _line(kind: str, at: str, content, **extra) -> dict:
    role = "user" if kind == "user" else "assistant"
    return {"type": kind, "sessionId": "s-time-1", "cwd": "/nowhere", "version": "2.1.0", "timestamp": at,
            "message": {"role": role, "model": "claude-sonnet-4-5", "content": content}, **extra}


def _tool(name: str, args: dict) -> dict:
    return {"type": "tool_use", "name": name, "input": args}


def _session_lines() -> list[dict]:
    return [
        _line("user", "2026-12-05T09:00:00.000Z", f"{PROMPT_CANARY} settle orders"),
        _line("assistant", "2026-12-05T09:01:00.000Z", [_tool("Bash", {"command": "pytest -q tests/test_pay.py"}),
                                                        _tool("Write", {"file_path": "/w/pay.py",
                                                                        "content": f"def pay():\n    {CODE_CANARY}\n"})]),
        _line("user", "2026-12-05T09:02:00.000Z", [{"type": "tool_result", "content": f"{OUTPUT_CANARY} {AWS_KEY}"}]),
        _line("assistant", "2026-12-05T09:03:00.000Z", [_tool("mcp__github__create_pull_request", {"title": "x"}),
                                                        _tool("mcp__github__create_pull_request", {"title": "y"})]),
        _line("user", "2026-12-05T09:04:00.000Z", "now the refunds"),
    ]


def _event(data: dict) -> dict:
    return {"schema": "shadowmap.event/1", "id": str(uuid.uuid4()), "type": "ai_session.recorded",
            "device_id": "dev-1", "user": "dana", "ts": "2026-12-05T09:05:00Z", "data": data}


def _scanner(engine, summarize):
    return lambda text: summarize(engine.scan(text), text, ORG_KEY)


def test_the_timeline_orders_steps_and_findings_by_time_without_text(tmp_path, engine, summarize):
    home = tmp_path / "home"
    _jsonl(home / ".claude" / "projects" / "-w" / "s-time-1.jsonl", _session_lines())
    [found] = collect([home], _scanner(engine, summarize))
    data = found.record.as_event_data(ORG_KEY, None, found.findings, "dana")
    validate_event(_event(data))
    assert [(s["at"][11:16], s["kind"], s.get("name"), s["count"]) for s in data["steps"]] == [
        ("09:00", "prompt", None, 1),
        ("09:01", "shell", "pytest", 1),
        ("09:01", "edit", "/w/pay.py", 2),
        ("09:02", "finding", "AWS_ACCESS_KEY", 1),           # first found in the tool output read at 09:02
        ("09:03", "mcp", "github", 2),                       # two calls at one time: one step counted twice
        ("09:04", "prompt", None, 1),
    ]
    assert data["steps_not_sent"] == 0 and "first_at" not in json.dumps(data["findings"])
    text = json.dumps(data)
    for canary in (PROMPT_CANARY, CODE_CANARY, OUTPUT_CANARY, AWS_KEY, "settle orders", "refunds"):
        assert canary not in text


def test_the_timeline_is_bounded_keeping_the_start_and_the_newest(tmp_path):
    home = tmp_path / "home"
    commands = [_line("assistant", f"2026-12-05T{10 + i // 3600:02d}:{i // 60 % 60:02d}:{i % 60:02d}Z",
                      [_tool("Bash", {"command": f"tool{i} --flag"})]) for i in range(1000)]
    _jsonl(home / ".claude" / "projects" / "-w" / "s-time-1.jsonl", [_session_lines()[0], *commands])
    [found] = collect([home])
    data = found.record.as_event_data(ORG_KEY, None, [], "dana")
    validate_event(_event(data))
    names = [s.get("name") for s in data["steps"]]
    assert len(names) == MAX_STEPS and data["steps_not_sent"] == 1001 - MAX_STEPS
    assert data["steps"][0]["kind"] == "prompt" and names[1] == "tool0"                # the start
    assert names[-1] == "tool999" and names[MAX_STEPS // 2] == f"tool{1000 - MAX_STEPS // 2}"   # the newest


def test_the_timeline_survives_a_restart_of_the_tail(tmp_path, engine, summarize, monkeypatch):
    monkeypatch.setattr(tail_module, "SAVE_SECONDS", 0.0)
    home, state = tmp_path / "home", tmp_path / "state" / "sessions.json"
    path = home / ".claude" / "projects" / "-w" / "s-time-1.jsonl"
    lines = _session_lines()
    _jsonl(path, lines[:3])
    first = SessionTail(lambda: [("dana", home)], _scanner(engine, summarize))
    first.keep_offsets(state, lambda: ORG_KEY)
    [seen] = first.poll()
    assert [s[1] for s in seen.record.steps] == ["prompt", "shell", "edit"]
    first.poll()                                                    # saves what the first poll read
    saved = state.read_text()
    for canary in (PROMPT_CANARY, CODE_CANARY, OUTPUT_CANARY, AWS_KEY):
        assert canary not in saved

    with open(path, "a") as fh:
        fh.write("".join(json.dumps(item) + "\n" for item in lines[3:]))
    resumed = SessionTail(lambda: [("dana", home)], _scanner(engine, summarize))
    resumed.keep_offsets(state, lambda: ORG_KEY)
    [session] = resumed.poll()
    assert session.record.prompts == 2                              # resumed, not read again from the start
    findings = sorted(session.findings.values(), key=lambda f: f["entity_type"])
    data = session.record.as_event_data(ORG_KEY, None, findings, "dana")
    validate_event(_event(data))
    assert [(s["at"][11:16], s["kind"]) for s in data["steps"]] == [
        ("09:00", "prompt"), ("09:01", "shell"), ("09:01", "edit"), ("09:02", "finding"), ("09:03", "mcp"),
        ("09:04", "prompt")]
