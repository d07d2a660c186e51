"""Stored events: a batch inserted in one statement (idempotent by event id), and the
events it added read back."""
from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import sqlite_utils

from shadowmap.collector.store.backend import is_postgres

EVENT_COLUMNS = "id, type, device_id, user, ts, received_at, body"  # ts normalised, body as stored

# One statement per batch (see shadowmap.collector.store.sqlite.sql_rows for why); the bodies travel as one blob
# and are cut out of it by byte offset, so they are never escaped into JSON and parsed again.
# Parameters: the rows as JSON ([id, type, user, ts, offset, length] each), the bodies end to end, the
# device id, when they were received (shadowmap.collector.api.ingest_parse.Batch).
INSERT_EVENTS = (f"INSERT OR IGNORE INTO events ({EVENT_COLUMNS}) SELECT value->>0, value->>1, ?3, value->>2, "
                 "value->>3, ?4, CAST(substr(?2, value->>4, value->>5) AS TEXT) FROM json_each(?1)")


def insert_batch(db: sqlite_utils.Database, rows_json: bytes, bodies: bytes, device_id: str,
                 received_at: str) -> tuple[Any, int]:
    """Writer fn: insert the events not stored before. Returns the largest rowid before the
    insert (the rows it added are those past it) and how many it added. On PostgreSQL
    (no rowid) the mark is the ids it added; ids_after and stored_after take either."""
    if is_postgres(db):
        from shadowmap.collector.store.postgres import events as pg_events
        return pg_events.insert_batch(db, rows_json, bodies, device_id, received_at)
    # A new row gets a rowid above the largest in use, so the rows this statement added are
    # those past the top one.
    top = int(db.conn.execute("SELECT max(rowid) FROM events").fetchone()[0] or 0)
    changes = db.conn.total_changes
    db.conn.execute(INSERT_EVENTS, (rows_json, bodies, device_id, received_at))
    return top, db.conn.total_changes - changes


def ids_after(db: sqlite_utils.Database, top: Any) -> set[str]:
    """The ids of the events stored past rowid ``top``."""
    if is_postgres(db):
        return set(top)
    return {str(row[0]) for row in db.conn.execute("SELECT id FROM events WHERE rowid > ?", (top,))}


def stored_after(db: sqlite_utils.Database, top: Any) -> Iterator[tuple[str, str, str]]:
    """(id, ts, body) of the events stored past rowid ``top``."""
    if is_postgres(db):
        from shadowmap.collector.store.postgres import events as pg_events
        yield from pg_events.stored(db, top)
        return
    for row in db.conn.execute("SELECT id, ts, body FROM events WHERE rowid > ?", (top,)):
        yield str(row[0]), str(row[1]), str(row[2])


def stored_by_id(db: sqlite_utils.Database, event_ids: list[str]) -> Iterator[tuple[str, str, str]]:
    """(id, ts, body) of these stored events."""
    if is_postgres(db):
        from shadowmap.collector.store.postgres import events as pg_events
        yield from pg_events.stored(db, tuple(event_ids))
        return
    for row in db.conn.execute("SELECT id, ts, body FROM events WHERE id IN (SELECT value FROM json_each(?))",
                               (json.dumps(event_ids),)):
        yield str(row[0]), str(row[1]), str(row[2])


def ids_of_other_devices(db: sqlite_utils.Database, event_ids: list[str], device_id: str) -> set[str]:
    """Those of ``event_ids`` stored as another device's events (an id names one event of
    one device: ingest rejects another device's reuse of it)."""
    return {str(row["id"]) for row in db.query(
        "SELECT id FROM events WHERE id IN (SELECT value FROM json_each(?)) AND device_id != ?",
        (json.dumps(event_ids), device_id))}
