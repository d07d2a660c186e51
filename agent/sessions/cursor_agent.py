"""Cursor's agent transcripts: ~/.cursor/projects/<project slug>/agent-transcripts/<id>/<id>.jsonl
(the current layout; older Cursor wrote agent-transcripts/<id>.txt, which is not read).

The format is not documented by Cursor. What this reader relies on, as public readers of these
files describe it (facts, not code, taken; docs/sessions.md says what is missing): one JSON
object a line, {role: user|assistant, message: {content: [{type: text, text}]}}, the user's text
wrapped in <user_query> tags. Nothing else is known: no model, no time, no working folder (the
project slug is the folder's path with separators replaced, which cannot be undone reliably) and
no file edits, so a Cursor session gives its prompts and turns, the transcript's modification
time as its last activity, and its text for the detectors; it writes no line hashes (provenance
cannot attribute Cursor's lines yet)."""
from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from shadowmap.agent.sessions.formats import as_dict, json_lines, text_of
from shadowmap.agent.sessions.record import SessionRecord

TOOL_ID = "cursor"


def files(home: Path) -> list[Path]:
    return sorted(path for path in (home / ".cursor" / "projects").glob("*/agent-transcripts/*/*.jsonl")
                  if path.stem == path.parent.name)


def session_of(path: Path) -> str:
    return path.stem


_STATTED: dict[str, float] = {}          # transcript -> when its time was last taken (one stat a second at most)


def _modified(record: SessionRecord) -> None:
    now = time.monotonic()
    if now - _STATTED.get(record.source, -1.0) < 1.0:
        return
    _STATTED[record.source] = now
    try:
        stamp = datetime.fromtimestamp(os.stat(record.source).st_mtime, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    except OSError:
        return
    record.seen(stamp)


def feed(record: SessionRecord, item: dict[str, Any]) -> None:
    role, content = item.get("role"), as_dict(item.get("message")).get("content")
    if role == "user":
        record.prompts += 1
        record.step("prompt")
        record.heard(text_of(content))
    elif role == "assistant":
        record.turns += 1
        record.heard(text_of(content))      # may quote code or tool output: scanned, never kept
    else:
        record.unknown_lines += 1
    if record.source:
        _modified(record)


def read(path: Path) -> SessionRecord:
    record = SessionRecord(TOOL_ID, session_of(path), str(path))
    for item in json_lines(path, record):
        feed(record, item)
    _STATTED.pop(record.source, None)
    _modified(record)                          # the time after the last line
    return record
