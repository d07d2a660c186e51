"""Sessions told by OpenTelemetry (collector/api/otlp.py), kept in ai_sessions beside the ones the
agent reads from disk. Portable SQL (SQLite and PostgreSQL).

An OTLP request holds a slice of a session (the events since the last export), so each is added
to the session's row: counts summed, models and tool calls merged, times widened. The row's
device_id is `otlp:<sender>` (the device that sent it, or the API token's name), so a session the
agent also reads from disk keeps its own row and the two never overwrite each other's counts.
A slice's timeline steps are added to the session's (session_steps.add), bounded as the agent's are."""
from __future__ import annotations

import json
from collections import Counter
from typing import Any

import sqlite_utils

from shadowmap.collector.store.sqlite import ai_sessions, session_steps

SOURCE_PREFIX = "otlp:"


def _existing(db: sqlite_utils.Database, device_id: str, tool_id: str, session_id: str) -> dict[str, Any] | None:
    rows = list(db.query("SELECT user, tool_version, models, started, ended, prompts, turns, permission_mode, "
                         "tools, lines_written FROM ai_sessions WHERE device_id = ? AND tool_id = ? AND session_id = ?",
                         (device_id, tool_id, session_id)))
    return dict(rows[0]) if rows else None


def _widen(old: str, new: str, pick: Any) -> str:
    return pick(v for v in (old, new) if v) if (old or new) else ""


def add_slices(db: sqlite_utils.Database, sender: str, os_user: str, slices: list[dict[str, Any]],
               event_id: str, now: str) -> int:
    """Writer fn: add each session slice ({tool_id, session_id, user, version, models, started,
    ended, prompts, turns, calls, mcp, rejected, permission_mode, lines_added, lines_added_total, steps,
    steps_dropped}) to its row and its steps to its timeline; returns how many sessions were touched."""
    device_id = f"{SOURCE_PREFIX}{sender}"[:256]
    rows = []
    for item in slices:
        old = _existing(db, device_id, item["tool_id"], item["session_id"]) or {}
        tools = json.loads(old.get("tools") or "{}")
        calls = Counter(tools.get("calls", {})) + Counter(item["calls"])
        mcp = Counter(tools.get("mcp", {})) + Counter(item["mcp"])
        merged_tools = {"shell": tools.get("shell", {}), "edits": tools.get("edits", {}),
                        "mcp": dict(mcp.most_common(100)), "calls": dict(calls.most_common(100)),
                        "rejected": int(tools.get("rejected", 0)) + item["rejected"]}
        models = sorted(set(json.loads(old.get("models") or "[]")) | set(item["models"]))[:20]
        lines = max(int(old.get("lines_written") or 0) + item["lines_added"], item["lines_added_total"])
        rows.append((device_id, item["tool_id"], item["session_id"], item["user"] or old.get("user") or "",
                     os_user, item["version"] or old.get("tool_version") or "", json.dumps(models), "", "",
                     _widen(old.get("started", ""), item["started"], min),
                     _widen(old.get("ended", ""), item["ended"], max),
                     int(old.get("prompts") or 0) + item["prompts"], int(old.get("turns") or 0) + item["turns"],
                     item["permission_mode"] or old.get("permission_mode") or "",
                     json.dumps(merged_tools, sort_keys=True), lines, "[]", event_id, now))
        session_steps.add(db, device_id, item["tool_id"], item["session_id"], item.get("steps") or [],
                          int(item.get("steps_dropped") or 0))
    ai_sessions.upsert(db, rows)
    return len(rows)
