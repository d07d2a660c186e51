"""The org's catalog overlay: tools that reviewers added from the unknown-tools queue ("add
to catalog", "approve into the register"), used by the collector as soon as they are added,
with no YAML merge or restart. It only names tools for events the agent could not attribute
(tool_id null): the shipped catalog always wins where it knows the tool."""
from __future__ import annotations

import json
from collections.abc import Iterable

import sqlite_utils

from shadowmap.collector.store.sqlite.usage_rollup import rollup as usage_rollup
from shadowmap.collector.timestamps import utc_now

# Event types whose unattributed events the overlay names (by domain; ai_tool.observed also by process).
ATTRIBUTED_TYPES = ("paste.scanned", "ai_tool.usage", "ai_tool.unknown_signal", "ai_tool.observed")
MAX_BACKFILL = 200_000  # stored events re-counted for the report when an entry is added


def sighting_key(event: dict) -> tuple[str, str] | None:
    """(kind, name) an event names its unattributed tool by: the queue's and the overlay's key."""
    data = event.get("data") or {}
    if data.get("tool_id") is not None or event.get("type") not in ATTRIBUTED_TYPES:
        return None
    if isinstance(data.get("domain"), str) and data["domain"]:
        return "domain", data["domain"].lower().split(":", 1)[0].rstrip(".")
    if isinstance(data.get("process"), str) and data["process"]:
        return "process", data["process"][:256]
    return None


def attribute(db: sqlite_utils.Database, stored: Iterable[tuple[dict, str, str]]) -> int:
    """Writer fn, part of the ingest transaction, before alerts and the report rollup: give
    unattributed events of overlay tools the overlay's tool id (in memory; the stored body
    stays as the laptop sent it). One indexed query, only when such events are present."""
    waiting: dict[tuple[str, str], list[dict]] = {}
    for event, _, _ in stored:
        key = sighting_key(event)
        if key is not None:
            waiting.setdefault(key, []).append(event)
    if not waiting:
        return 0
    named = 0
    for kind, name, tool_id in db.execute(
            "SELECT kind, name, tool_id FROM catalog_overlay WHERE name IN (SELECT value FROM json_each(?))",
            (json.dumps(sorted({name for _, name in waiting})),)).fetchall():
        for event in waiting.get((kind, name), ()):
            event["data"]["tool_id"] = tool_id
            named += 1
    return named


def add(db: sqlite_utils.Database, kind: str, name: str, tool_id: str, vendor: str, actor: str,
        since: str | None = None) -> bool:
    """Writer fn: add (or re-point) an overlay entry. A new entry also counts the events of
    that tool stored since ``since`` into the report rollup. Returns True when it was new."""
    new = not db.execute("SELECT 1 FROM catalog_overlay WHERE kind = ? AND name = ?", (kind, name)).fetchone()
    db.execute("INSERT INTO catalog_overlay (kind, name, tool_id, vendor, added_by, added_at) "
               "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (kind, name) DO UPDATE SET tool_id = excluded.tool_id, "
               "vendor = excluded.vendor, added_by = excluded.added_by, added_at = excluded.added_at",
               (kind, name, tool_id, vendor, actor, utc_now()))
    if new and since:
        _backfill_rollup(db, kind, name, tool_id, since)
    return new


def _backfill_rollup(db: sqlite_utils.Database, kind: str, name: str, tool_id: str, since: str) -> None:
    # Only when the entry is created, so no event is counted twice; bounded by the queue's
    # first sighting of the name (the events index covers type + ts).
    rows = db.execute(
        "SELECT type, device_id, user, ts, body FROM events WHERE type IN (SELECT value FROM json_each(?)) "
        "AND ts >= ? AND instr(body, ?) > 0 LIMIT ?",
        (json.dumps(ATTRIBUTED_TYPES), since, json.dumps(name)[1:-1], MAX_BACKFILL)).fetchall()
    items = []
    for _type, _device, _user, ts, body in rows:
        event = json.loads(body)
        if sighting_key(event) == (kind, name):
            event["data"]["tool_id"] = tool_id
            items.append((event, ts, body))
    usage_rollup(db, items)


def tool_of(db: sqlite_utils.Database, kind: str, name: str) -> str | None:
    row = db.execute("SELECT tool_id FROM catalog_overlay WHERE kind = ? AND name = ?", (kind, name)).fetchone()
    return row[0] if row else None


def entries(db: sqlite_utils.Database) -> list[dict]:
    return list(db.query("SELECT * FROM catalog_overlay ORDER BY tool_id, kind, name"))


def vendors(db: sqlite_utils.Database) -> dict[str, str]:
    """tool id -> vendor of every overlay tool."""
    return {row[0]: row[1] for row in db.execute("SELECT tool_id, vendor FROM catalog_overlay ORDER BY added_at")}
