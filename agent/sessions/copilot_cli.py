"""GitHub Copilot CLI's sessions: ~/.copilot/session-state/<session id>/events.jsonl (and the older
layout, ~/.copilot/session-state/<session id>.jsonl).

The format is not documented by GitHub. What this reader relies on, as public readers of these
files describe it (facts, not code, taken; docs/sessions.md says which were checked):
- each line is an event {type, id, timestamp, parentId, data};
- `session.start` data {sessionId, copilotVersion, startTime, context {cwd, gitRoot, branch,
  repository}} (context optional); `session.model_change` data {newModel};
- `user.message` data {content} (a prompt); `assistant.turn_start` (a turn);
- `tool.execution_start` data {toolName, arguments}: `bash` {command}, `create` {path, file_text},
  `edit` {path, old_str, new_str} (the tool names and arguments Copilot CLI's hooks also show);
  `tool.execution_complete` data {result {content}} (tool output: scanned, never kept).
Tool calls are taken from `tool.execution_start` only (what ran); `assistant.message`'s
toolRequests repeat them. Other event types are known and skipped; unknown ones are counted."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from shadowmap.agent.sessions.edits import added_lines
from shadowmap.agent.sessions.formats import as_dict, json_lines
from shadowmap.agent.sessions.record import SessionRecord

TOOL_ID = "copilot-cli"
KNOWN = frozenset({"session.resume", "session.info", "session.error", "session.truncation", "session.idle",
                   "session.compaction_start", "session.compaction_complete", "session.handoff", "assistant.message",
                   "assistant.message_delta", "assistant.reasoning", "assistant.turn_end", "abort"})
MAX_OUTPUT_CHARS = 100_000


def files(home: Path) -> list[Path]:
    root = home / ".copilot" / "session-state"
    return sorted(root.glob("*/events.jsonl")) + sorted(root.glob("*.jsonl"))


def session_of(path: Path) -> str:
    return path.parent.name if path.name == "events.jsonl" else path.stem


def _arguments(value: Any) -> dict[str, Any]:
    if isinstance(value, str):               # some producers hand the arguments over as JSON text
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    return as_dict(value)


def _tool(record: SessionRecord, name: str, args: dict[str, Any]) -> None:
    record.called(name)
    if name == "create":
        record.wrote(args.get("path"), str(args.get("file_text") or "").splitlines())
    elif name == "edit":
        record.wrote(args.get("path"), added_lines(str(args.get("old_str") or ""), str(args.get("new_str") or "")))
    elif name == "bash":
        record.ran(args.get("command"))


def feed(record: SessionRecord, item: dict[str, Any]) -> None:
    kind, data = item.get("type"), as_dict(item.get("data"))
    record.seen(item.get("timestamp"))
    if kind == "session.start":
        record.session_id = str(data.get("sessionId") or record.session_id)[:128]
        record.seen(data.get("startTime"))
        if isinstance(data.get("copilotVersion"), str):
            record.versions.add(data["copilotVersion"][:32])
        context = as_dict(data.get("context"))
        record.cwd = context.get("cwd") if isinstance(context.get("cwd"), str) else record.cwd
        record.branch = context.get("branch") if isinstance(context.get("branch"), str) else record.branch
    elif kind == "session.model_change":
        if isinstance(data.get("newModel"), str) and data["newModel"]:
            record.models.add(data["newModel"][:64])
    elif kind == "user.message":
        record.prompts += 1
        record.step("prompt")
        record.heard(str(data.get("content") or ""))
    elif kind == "assistant.turn_start":
        record.turns += 1
    elif kind == "tool.execution_start":
        _tool(record, str(data.get("toolName") or ""), _arguments(data.get("arguments")))
    elif kind == "tool.execution_complete":
        record.heard(str(as_dict(data.get("result")).get("content") or "")[:MAX_OUTPUT_CHARS])
    elif kind not in KNOWN:
        record.unknown_lines += 1


def read(path: Path) -> SessionRecord:
    record = SessionRecord(TOOL_ID, session_of(path), str(path))
    for item in json_lines(path, record):
        feed(record, item)
    return record
