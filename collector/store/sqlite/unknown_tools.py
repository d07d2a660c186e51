"""The unknown-tools queue: domains and processes that look like AI tools and are in no
catalog, with their sightings, signals, score and the reviewer's decision."""
from __future__ import annotations

import json
from typing import Any

import sqlite_utils

from shadowmap.collector.timestamps import utc_now


def queued_tool(db: sqlite_utils.Database, kind: str, name: str) -> dict[str, Any] | None:
    """The queue row of (kind, name), its JSON columns as stored."""
    rows = list(db.query("SELECT * FROM unknown_tools WHERE kind = ? AND name = ?", (kind, name)))
    return rows[0] if rows else None


def save_sighting(db: sqlite_utils.Database, kind: str, name: str, first: str, last: str, count: int,
                  devices: list[str], users: list[str], signals: list[str], score: float) -> None:
    """Writer fn: the queue row of (kind, name) with these totals (the decision is kept)."""
    db.execute(
        "INSERT INTO unknown_tools (kind, name, first_seen, last_seen, count, devices, users, signals, score) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (kind, name) DO UPDATE SET first_seen = excluded.first_seen, "
        "last_seen = excluded.last_seen, count = excluded.count, devices = excluded.devices, "
        "users = excluded.users, signals = excluded.signals, score = excluded.score",
        (kind, name, first, last, count, json.dumps(devices), json.dumps(users), json.dumps(signals), score))


def queue(db: sqlite_utils.Database, status: str = "new", limit: int = 500) -> list[dict[str, Any]]:
    """Queue rows with this status, highest score first, JSON columns decoded."""
    rows = db.query("SELECT * FROM unknown_tools WHERE status = ? ORDER BY score DESC, count DESC, name LIMIT ?",
                    (status, limit))
    return [{**row, "devices": json.loads(row["devices"]), "users": json.loads(row["users"]),
             "signals": json.loads(row["signals"])} for row in rows]


def save_decision(db: sqlite_utils.Database, kind: str, name: str, status: str, actor: str,
                  tool_id: str | None, vendor: str | None) -> bool:
    """Writer fn: a review decision. Returns False when there is no such entry."""
    cursor = db.execute(
        "UPDATE unknown_tools SET status = ?, tool_id = ?, vendor = ?, decided_by = ?, decided_at = ? "
        "WHERE kind = ? AND name = ?", (status, tool_id, vendor, actor, utc_now(), kind, name))
    return bool(cursor.rowcount == 1)
