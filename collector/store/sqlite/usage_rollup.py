"""Daily usage rollup, kept at ingest so reports never scan event bodies: per day x tool x
device x user x data class, how many events (data_class '' counts every event of the tool;
a class row counts events that carried it). `blocked` separates data that did not leave the
laptop (blocked, redacted, warned and not sent) from data that reached the tool (allowed, or
sent anyway after a warning: the user's decision moves it)."""
from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from shadowmap.collector.store.sqlite.sql_rows import execute_rows, insert_sql
from shadowmap.contract import enums

if TYPE_CHECKING:
    import sqlite_utils

# the actions after which the data has not reached the tool: a warning (until the user sends
# it anyway: then `rollup` moves it to reached), redact and anything stricter (block)
KEPT_BACK_ACTIONS = frozenset(a for a in enums.ACTIONS if enums.ACTION_RANK[a] > enums.ACTION_RANK["allow"])
WARN_ACTION = "warn"
DECISION_EVENT, SEND_ANYWAY = "paste.override", "send_anyway"
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
    sent_anyway = [event for event, _, _ in stored if event.get("type") == DECISION_EVENT
                   and isinstance(event.get("data"), dict) and event["data"].get("decision") == SEND_ANYWAY]
    if sent_anyway:
        _sent_after_warning(db, sent_anyway)


def _sent_after_warning(db: sqlite_utils.Database, decisions: list[dict[str, Any]]) -> None:
    """Warned pastes the user sent anyway: their classes move from kept back to reached, on the
    paste's own day. Only a decision from the paste's own device and user counts."""
    scan_ids = [d["data"].get("scan_id") for d in decisions if isinstance(d["data"].get("scan_id"), str)]
    scans = {row[0]: (row[1], json.loads(row[2])) for row in db.execute(
        "SELECT id, ts, body FROM events WHERE type = 'paste.scanned' AND id IN (SELECT value FROM json_each(?))",
        (json.dumps(scan_ids),))}
    moves: Counter[RollupKey] = Counter()
    for decision in decisions:
        found = scans.pop(decision["data"].get("scan_id"), None)  # popped: one decision per paste
        if found is None:
            continue
        ts, scan = found
        data = scan.get("data") or {}
        if (scan.get("device_id"), scan.get("user")) != (decision["device_id"], decision["user"]) \
                or data.get("action") != WARN_ACTION or not isinstance(data.get("tool_id"), str):
            continue
        for data_class in event_classes(data):
            key = (ts[:10], data["tool_id"], decision["device_id"], decision["user"], data_class)
            moves[(*key, 0)] += 1
            moves[(*key, 1)] -= 1
    if moves:
        execute_rows(db.conn, UPSERT, [key + (n,) for key, n in moves.items()])


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
