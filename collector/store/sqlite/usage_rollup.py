"""Daily usage rollup, kept at ingest so reports never scan event bodies: per day x tool x
device x user x data class, how many events (data_class '' counts every event of the tool;
a class row counts events that carried it). `blocked` separates data that policy kept from
the tool (block, redact) from data that reached it."""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from shadowmap.collector.store.sqlite.sql_rows import execute_rows, insert_sql
from shadowmap.contract import enums

if TYPE_CHECKING:
    import sqlite_utils

# the actions that keep data from the tool: redact and anything stricter (block)
KEPT_BACK_ACTIONS = frozenset(a for a in enums.ACTIONS if enums.ACTION_RANK[a] >= enums.ACTION_RANK["redact"])
EVERY_EVENT = ("", 0)  # (data_class, blocked) of the row that counts every event of the tool
UPSERT = insert_sql("INSERT INTO usage_daily (day, tool_id, device_id, user, data_class, blocked, events)", 7,
                    "ON CONFLICT(day, tool_id, device_id, user, data_class, blocked)"
                    " DO UPDATE SET events = usage_daily.events + excluded.events")
FIRST_SEEN = insert_sql("INSERT INTO usage_first_seen (tool_id, first_day)", 2,
                        "ON CONFLICT(tool_id) DO UPDATE SET first_day = min(usage_first_seen.first_day, excluded.first_day)")


def event_classes(data: dict[str, Any]) -> set[str]:
    classes: set[str] = set()
    # plain loops: cheaper than a comprehension or a generator for the usual one or two
    for data_class in data.get("data_classes") or ():
        if isinstance(data_class, str):
            classes.add(data_class)
    for f in data.get("findings") or ():
        if isinstance(f, dict):
            data_class = f.get("data_class")
            if isinstance(data_class, str):
                classes.add(data_class)
    return classes


RollupKey = tuple[str, str, str, str, str, int]  # day, tool, device, user, data class, blocked
Counts = dict[RollupKey, int]  # -> events
Stored = Iterable[tuple[dict[str, Any], str, str]]  # ingest's (event, normalised ts, body) items


def rollup(db: sqlite_utils.Database, stored: Stored, counts: Counts | None = None) -> None:
    """Writer fn, part of the ingest transaction: count ingest's (event, normalised ts, body)
    items that name a tool. ``counts``: count(stored), when already computed."""
    counts = count(stored) if counts is None else counts
    if counts:
        execute_rows(db.conn, UPSERT, [key + (n,) for key, n in counts.items()])
        first: dict[str, str] = {}
        for day, tool, *_ in counts:
            first[tool] = min(first.get(tool, day), day)
        execute_rows(db.conn, FIRST_SEEN, list(first.items()))


def count(stored: Stored) -> Counts:
    """The rollup rows these items add (pure: ingest counts a batch off the writer)."""
    keys: list[RollupKey] = []  # the key of each row, once per item it counts: Counter counts them in C, in this order
    add = keys.append
    for event, ts, _ in stored:
        data = event.get("data")
        if not isinstance(data, dict):
            continue
        tool = data.get("tool_id")
        if not isinstance(tool, str) or not tool:
            continue
        day, device, user = ts[:10], event["device_id"], event["user"]
        add((day, tool, device, user, "", 0))  # the EVERY_EVENT row
        if "data_classes" not in data and "findings" not in data:
            continue  # most events (tool sightings) carry no data class
        classes = event_classes(data)
        if classes:
            blocked = 1 if data.get("action") in KEPT_BACK_ACTIONS else 0
            for data_class in classes:
                add((day, tool, device, user, data_class, blocked))
    return dict(Counter(keys))
