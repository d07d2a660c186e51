"""AI coding sessions' timelines (table ai_session_steps: migration 0220): the newest steps each
session's ai_session.recorded event carried. Portable SQL (SQLite and PostgreSQL)."""
from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import sqlite_utils

SAVE = ("INSERT INTO ai_session_steps (device_id, tool_id, session_id, steps, steps_not_sent) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (device_id, tool_id, session_id) DO UPDATE SET steps = excluded.steps, "
        "steps_not_sent = excluded.steps_not_sent")


def save(db: sqlite_utils.Database, rows: Sequence[tuple[str, str, str, list[dict[str, Any]], int]]) -> None:
    """Writer fn: (device, tool, session, steps, steps not sent); the newest event's timeline wins."""
    if rows:
        db.conn.executemany(SAVE, [(device, tool, session, json.dumps(steps), int(not_sent))
                                   for device, tool, session, steps, not_sent in rows])


def of_session(db: sqlite_utils.Database, device_id: str, tool_id: str, session_id: str) -> tuple[list[dict[str, Any]], int]:
    """A session's steps and how many the agent left out; ([], 0) when its events carried none."""
    for row in db.query("SELECT steps, steps_not_sent FROM ai_session_steps WHERE device_id = ? AND tool_id = ? "
                        "AND session_id = ?", (device_id, tool_id, session_id)):
        return json.loads(row["steps"] or "[]"), int(row["steps_not_sent"] or 0)
    return [], 0
