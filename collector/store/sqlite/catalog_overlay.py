"""The org's catalog overlay: tools reviewers added from the unknown-tools queue, keyed by
(kind, name): a lowercase domain or a process name."""
from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import sqlite_utils

from shadowmap.collector.timestamps import utc_now


def tools_named(db: sqlite_utils.Database, names: Iterable[str]) -> list[tuple[str, str, str]]:
    """(kind, name, tool_id) of the overlay entries with these names."""
    return [(str(kind), str(name), str(tool_id)) for kind, name, tool_id in db.execute(
        "SELECT kind, name, tool_id FROM catalog_overlay WHERE name IN (SELECT value FROM json_each(?))",
        (json.dumps(sorted(names)),)).fetchall()]


def tool_of(db: sqlite_utils.Database, kind: str, name: str) -> str | None:
    row = db.execute("SELECT tool_id FROM catalog_overlay WHERE kind = ? AND name = ?", (kind, name)).fetchone()
    return str(row[0]) if row else None


def save_entry(db: sqlite_utils.Database, kind: str, name: str, tool_id: str, vendor: str, actor: str) -> bool:
    """Writer fn: add (or re-point) an entry. Returns True when it was new."""
    new = not db.execute("SELECT 1 FROM catalog_overlay WHERE kind = ? AND name = ?", (kind, name)).fetchone()
    db.execute("INSERT INTO catalog_overlay (kind, name, tool_id, vendor, added_by, added_at) "
               "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (kind, name) DO UPDATE SET tool_id = excluded.tool_id, "
               "vendor = excluded.vendor, added_by = excluded.added_by, added_at = excluded.added_at",
               (kind, name, tool_id, vendor, actor, utc_now()))
    return new


def entries(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    return list(db.query("SELECT * FROM catalog_overlay ORDER BY tool_id, kind, name"))


def vendors(db: sqlite_utils.Database) -> dict[str, str]:
    """tool id -> vendor of every overlay tool."""
    return {str(row[0]): str(row[1]) for row in db.execute("SELECT tool_id, vendor FROM catalog_overlay ORDER BY added_at")}


def events_mentioning(db: sqlite_utils.Database, types: Iterable[str], since: str, text: str,
                      limit: int) -> list[tuple[str, str]]:
    """(ts, body) of stored events of these types since ``since`` whose body holds ``text``
    (as it appears inside a JSON string), at most ``limit``."""
    return [(str(ts), str(body)) for ts, body in db.execute(
        "SELECT ts, body FROM events WHERE type IN (SELECT value FROM json_each(?)) "
        "AND ts >= ? AND instr(body, ?) > 0 LIMIT ?",
        (json.dumps(list(types)), since, json.dumps(text)[1:-1], limit)).fetchall()]
