"""Ingest's insert on PostgreSQL: a batch in one statement, stored once by event id across
every node, returning the ids it added (shadowmap.collector.store.sqlite.events dispatches
here; SQLite's own statement leans on rowid, which PostgreSQL has not).

`event_ids` holds each id once (events is partitioned by month, and a unique index of a
partitioned table must include the partition key): the id goes in first, and only the ids
that went in are stored as events, in the same statement. Two nodes storing the same batch
at once meet on event_ids' key: the second waits for the first to commit, then skips. The
bodies arrive end to end as one UTF-8 blob and are cut out by byte offset, as on SQLite."""
from __future__ import annotations

from collections.abc import Iterator

from shadowmap.collector.store.postgres.adapter import PgDatabase

INSERT_EVENTS = """
WITH batch AS (
    SELECT value->>0 AS id, value->>1 AS type, value->>2 AS "user", value->>3 AS ts,
           CAST(value->>4 AS integer) AS start, CAST(value->>5 AS integer) AS length
    FROM json_array_elements(CAST(%(rows)s AS json))
), claimed AS (
    INSERT INTO event_ids (id, device_id, ts) SELECT id, %(device)s, ts FROM batch
    ON CONFLICT DO NOTHING RETURNING id
)
INSERT INTO events (id, type, device_id, "user", ts, received_at, body)
SELECT b.id, b.type, %(device)s, b."user", b.ts, %(received)s,
       convert_from(substring(CAST(%(bodies)s AS bytea) FROM b.start FOR b.length), 'UTF8')
FROM batch b JOIN claimed c ON c.id = b.id
RETURNING id"""


def insert_batch(db: PgDatabase, rows_json: bytes, bodies: bytes, device_id: str,
                 received_at: str) -> tuple[tuple[str, ...], int]:
    """Writer fn: insert the events not stored before; (their ids, how many)."""
    added = tuple(row[0] for row in db.raw.execute(INSERT_EVENTS, {
        "rows": rows_json.decode("utf-8"), "device": device_id, "received": received_at, "bodies": bodies}))
    return added, len(added)


def stored(db: PgDatabase, event_ids: tuple[str, ...]) -> Iterator[tuple[str, str, str]]:
    """(id, ts, body) of these stored events."""
    for row in db.raw.execute("SELECT id, ts, body FROM events WHERE id = ANY(%s)", (list(event_ids),)):
        yield str(row[0]), str(row[1]), str(row[2])
