"""AI coding sessions' timelines (table ai_session_steps: migration 0220). Portable SQL (SQLite and
PostgreSQL).

- Agent-read sessions: the newest steps each session's ai_session.recorded event carried (`save`;
  the agent bounds them itself).
- Sessions told by OpenTelemetry: each request holds a slice of the session, so its steps are
  added to the ones kept (`add`), in time order and bounded the agent's way: past MAX_STEPS the
  first half stays and the newest replace the middle (`steps_not_sent` counts what went)."""
from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import sqlite_utils

MAX_STEPS = 300             # as the agent keeps (agent/sessions/record.py)

SAVE = ("INSERT INTO ai_session_steps (device_id, tool_id, session_id, steps, steps_not_sent) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (device_id, tool_id, session_id) DO UPDATE SET steps = excluded.steps, "
        "steps_not_sent = excluded.steps_not_sent")


def save(db: sqlite_utils.Database, rows: Sequence[tuple[str, str, str, list[dict[str, Any]], int]]) -> None:
    """Writer fn: (device, tool, session, steps, steps not sent); the newest event's timeline wins."""
    if rows:
        db.conn.executemany(SAVE, [(device, tool, session, json.dumps(steps), int(not_sent))
                                   for device, tool, session, steps, not_sent in rows])


def of_session(db: sqlite_utils.Database, device_id: str, tool_id: str, session_id: str) -> tuple[list[dict[str, Any]], int]:
    """A session's steps and how many were left out; ([], 0) when none were told."""
    for row in db.query("SELECT steps, steps_not_sent FROM ai_session_steps WHERE device_id = ? AND tool_id = ? "
                        "AND session_id = ?", (device_id, tool_id, session_id)):
        return json.loads(row["steps"] or "[]"), int(row["steps_not_sent"] or 0)
    return [], 0


def bounded(steps: list[dict[str, Any]], not_sent: int) -> tuple[list[dict[str, Any]], int]:
    """Steps in time order (stable), equal neighbours at one time as one step with a count, a
    `model` step only where the model changes (OpenTelemetry tells it with every API request), at
    most MAX_STEPS: the first half and the newest; with how many were left out in all."""
    merged: list[dict[str, Any]] = []
    model = None
    for step in sorted(steps, key=lambda s: str(s["at"])):
        if step["kind"] == "model":
            if not step.get("name") or step.get("name") == model:
                continue
            model = step.get("name")
        last = merged[-1] if merged else None
        if last is not None and all(last.get(k) == step.get(k) for k in ("at", "kind", "name")):
            last["count"] += step["count"]
        else:
            merged.append(dict(step))
    over = max(0, len(merged) - MAX_STEPS)
    return merged[:MAX_STEPS // 2] + merged[MAX_STEPS // 2 + over:], not_sent + over


def add(db: sqlite_utils.Database, device_id: str, tool_id: str, session_id: str, steps: list[dict[str, Any]],
        not_sent: int) -> None:
    """Writer fn: a slice's steps (and how many it left out) added to the session's timeline."""
    if not steps and not not_sent:
        return
    old, old_not_sent = of_session(db, device_id, tool_id, session_id)
    kept, left_out = bounded([*old, *steps], old_not_sent + not_sent)
    save(db, [(device_id, tool_id, session_id, kept, left_out)])
