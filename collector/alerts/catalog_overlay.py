"""The org's catalog overlay: tools that reviewers added from the unknown-tools queue ("add
to catalog", "approve into the register"), used by the collector as soon as they are added,
with no YAML merge or restart. It only names tools for events the agent could not attribute
(tool_id null): the shipped catalog always wins where it knows the tool."""
from __future__ import annotations

import json
from collections.abc import Iterable

import sqlite_utils

from shadowmap.collector.store.sqlite import catalog_overlay as overlay
from shadowmap.collector.store.sqlite.usage_rollup import rollup as usage_rollup

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
    for kind, name, tool_id in overlay.tools_named(db, {name for _, name in waiting}):
        for event in waiting.get((kind, name), ()):
            event["data"]["tool_id"] = tool_id
            named += 1
    return named


def add(db: sqlite_utils.Database, kind: str, name: str, tool_id: str, vendor: str, actor: str,
        since: str | None = None) -> bool:
    """Writer fn: add (or re-point) an overlay entry. A new entry also counts the events of
    that tool stored since ``since`` into the report rollup. Returns True when it was new."""
    new = overlay.save_entry(db, kind, name, tool_id, vendor, actor)
    if new and since:
        _backfill_rollup(db, kind, name, tool_id, since)
    return new


def _backfill_rollup(db: sqlite_utils.Database, kind: str, name: str, tool_id: str, since: str) -> None:
    # Only when the entry is created, so no event is counted twice; bounded by the queue's
    # first sighting of the name (the events index covers type + ts).
    items = []
    for ts, body in overlay.events_mentioning(db, ATTRIBUTED_TYPES, since, name, MAX_BACKFILL):
        event = json.loads(body)
        if sighting_key(event) == (kind, name):
            event["data"]["tool_id"] = tool_id
            items.append((event, ts, body))
    usage_rollup(db, items)
