"""The record's storage (migrations 50 and 91): event entries as one run per ingest batch
(record_event_runs), every other entry one row each (record_entries_single), signed
checkpoints. The chain itself (hashes, verification) is shadowmap.collector.record.chain."""
from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from shadowmap.collector.store.backend import is_postgres

if TYPE_CHECKING:  # kept import-light, like the chain
    import sqlite_utils

ENTRY_COLUMNS = "seq, ts, kind, subject, actor, detail, detail_hash, entry_hash"
INSERT_ENTRY = f"INSERT INTO record_entries_single ({ENTRY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
INSERT_RUNS_INTO = "INSERT INTO record_event_runs (first_seq, last_seq, ts, actor, last_hash, entries)"
# (the join gives the bodies of event entries stored one per row, before runs)
SINGLE_ENTRIES = (
    "SELECT r.seq, r.ts, r.kind, r.subject, r.actor, r.detail_hash, r.entry_hash,"
    " CASE WHEN r.kind = 'event' THEN e.body ELSE r.detail END AS detail"
    " FROM record_entries_single r LEFT JOIN events e ON r.kind = 'event' AND e.id = r.subject"
    " WHERE r.seq BETWEEN ? AND ? ORDER BY r.seq")
ENTRY_NAMES = ("seq", "ts", "kind", "subject", "actor", "detail_hash", "entry_hash", "detail")
# (seq, ts, kind, subject, actor, detail, detail_hash, entry_hash)
EntryRow = tuple[int, str, str, str, str, str | None, str, str]


# PostgreSQL: the advisory lock every append takes before reading the chain head, held until
# its transaction ends, so nodes appending at once still make one linear chain. (SQLite has
# one writer: nothing to take.)
CHAIN_LOCK = 0x5348_4D00_0002


def lock_chain(db: sqlite_utils.Database) -> None:
    """Writer fn, before reading the head to append: no other transaction appends until this one ends."""
    if is_postgres(db):
        db.execute("SELECT pg_advisory_xact_lock(?)", (CHAIN_LOCK,))


def last_entry(db: sqlite_utils.Database) -> tuple[int, str] | None:
    """(seq, entry_hash) of the last entry, None for an empty record."""
    single = db.execute("SELECT seq, entry_hash FROM record_entries_single ORDER BY seq DESC LIMIT 1").fetchone()
    run = db.execute("SELECT last_seq, last_hash FROM record_event_runs ORDER BY first_seq DESC LIMIT 1").fetchone()
    last = max((row for row in (single, run) if row), key=lambda row: row[0], default=None)
    return (int(last[0]), str(last[1])) if last else None


def insert_entries(db: sqlite_utils.Database, rows: Sequence[EntryRow]) -> None:
    """Writer fn: entries stored one row each."""
    if rows:
        db.conn.executemany(INSERT_ENTRY, rows)


def insert_runs(db: sqlite_utils.Database, runs: Sequence[tuple[int, int, str, str, str, str]]) -> None:
    """Writer fn: runs of event entries, (first seq, last seq, ts, actor, last hash, entries
    JSON [[subject, detail_hash, entry_hash], ...]) each, in one statement."""
    from shadowmap.collector.store.sqlite.sql_rows import execute_rows, insert_sql  # (the verifier needs neither)
    execute_rows(db.conn, insert_sql(INSERT_RUNS_INTO, 6), runs)


def single_entries(db: sqlite_utils.Database, first_seq: int, last_seq: int) -> Iterator[dict[str, Any]]:
    """Entries stored one row each with first_seq <= seq <= last_seq, in seq order, with
    their detail (an event entry's: its body while it is stored)."""
    for row in db.execute(SINGLE_ENTRIES, (first_seq, last_seq)):
        yield dict(zip(ENTRY_NAMES, row, strict=True))


def runs(db: sqlite_utils.Database, first_seq: int, last_seq: int) -> Iterator[tuple[int, str, str, str]]:
    """(first_seq, ts, actor, entries JSON) of the runs holding entries first_seq..last_seq,
    in order; streamed (an export may span millions of entries)."""
    start = db.execute("SELECT max(first_seq) FROM record_event_runs WHERE first_seq <= ?", (first_seq,)).fetchone()[0]
    yield from db.execute("SELECT first_seq, ts, actor, entries FROM record_event_runs WHERE first_seq BETWEEN ? AND ? "
                          "ORDER BY first_seq", (start if start is not None else first_seq, last_seq))


def event_bodies(db: sqlite_utils.Database, event_ids: Iterable[str]) -> dict[str, str]:
    """id -> body of the events still stored among these."""
    return dict(db.execute("SELECT id, body FROM events WHERE id IN (SELECT value FROM json_each(?))",
                           (json.dumps(list(event_ids)),)))


def span(db: sqlite_utils.Database, start: str, end: str) -> tuple[int, int]:
    """The contiguous seq range of entries with start <= ts < end ((1, 0) when empty)."""
    single = db.execute("SELECT min(seq), max(seq) FROM record_entries_single WHERE ts >= ? AND ts < ?",
                        (start, end)).fetchone()
    run = db.execute("SELECT min(first_seq), max(last_seq) FROM record_event_runs WHERE ts >= ? AND ts < ?",
                     (start, end)).fetchone()
    firsts = [int(row[0]) for row in (single, run) if row[0] is not None]
    lasts = [int(row[1]) for row in (single, run) if row[1] is not None]
    return (min(firsts), max(lasts)) if firsts else (1, 0)


def checkpoints(db: sqlite_utils.Database, first_seq: int, last_seq: int) -> list[dict[str, Any]]:
    """Signed checkpoints of chain heads first_seq..last_seq, in order."""
    return [dict(row) for row in db.query(
        "SELECT seq, entry_hash, created_at, reason, purged_before, purged_events, signature FROM record_checkpoints"
        " WHERE seq BETWEEN ? AND ? ORDER BY seq", (first_seq, last_seq))]


def save_checkpoint(db: sqlite_utils.Database, checkpoint: dict[str, Any]) -> None:
    """Writer fn: a signed checkpoint (seq, entry_hash, created_at, reason, purged_before,
    purged_events, signature)."""
    db.execute("INSERT INTO record_checkpoints (seq, entry_hash, created_at, reason, purged_before, purged_events,"
               " signature) VALUES (:seq, :entry_hash, :created_at, :reason, :purged_before, :purged_events,"
               " :signature)", checkpoint)


def delete_events_received_before(db: sqlite_utils.Database, before: str) -> int:
    """Writer fn: retention deletes event details (the record keeps their hashes)."""
    if is_postgres(db):  # whole months at once where it can
        from shadowmap.collector.store.postgres.retention import purge_events_received_before
        return purge_events_received_before(db, before)
    return int(db.execute("DELETE FROM events WHERE received_at < ?", (before,)).rowcount)
