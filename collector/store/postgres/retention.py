"""Retention on PostgreSQL: events are partitioned by month of their time (migration 0092),
so a month whose every event was received before the horizon goes as a whole partition
(DROP TABLE: no dead rows, no vacuum); what is left before the horizon (a month the horizon
cuts through, events that arrived late) is deleted row by row, as on SQLite. Partitions for
the coming months are made here too, ahead of the events that need them."""
from __future__ import annotations

import logging

from psycopg import sql

from shadowmap.collector.store.postgres.adapter import PgDatabase

log = logging.getLogger(__name__)
MONTHS_AHEAD = 3  # partitions kept ready beyond the current month
PARTITIONS_LOCK = 0x5348_4D00_0003  # pg_advisory_xact_lock key: making partitions

# the monthly partitions of events, with the upper bound of their range (YYYY-MM-DD)
PARTITIONS = """
SELECT c.relname, substring(pg_get_expr(c.relpartbound, c.oid) FROM 'TO \\(''([0-9-]+)''\\)')
FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
WHERE i.inhparent = 'events'::regclass AND c.relname ~ '^events_[0-9]{4}_[0-9]{2}$'
ORDER BY c.relname"""


def ensure_partitions(db: PgDatabase) -> int:
    """Writer fn: the partitions from last month to MONTHS_AHEAD ahead exist; how many were made."""
    db.raw.execute("SELECT pg_advisory_xact_lock(%s)", (PARTITIONS_LOCK,))  # nodes starting at once
    row = db.raw.execute("SELECT shadowmap_event_partitions(CAST(date_trunc('month', now() AT TIME ZONE 'UTC')"
                         " - interval '1 month' AS date), %s)", (MONTHS_AHEAD + 2,)).fetchone()
    return int(row[0]) if row else 0


def purge_events_received_before(db: PgDatabase, before: str) -> int:
    """Writer fn: delete the events received before ``before``; how many went."""
    purged = 0
    for name, upper in db.raw.execute(PARTITIONS).fetchall():
        if upper is None or upper > before:
            continue
        partition = sql.Identifier(name)
        found = db.raw.execute(sql.SQL("SELECT count(*), max(received_at) FROM {}").format(partition)).fetchone()
        count, newest = found if found is not None else (0, None)
        if newest is not None and newest >= before:
            continue  # late arrivals inside it: left to the row-wise delete below
        db.raw.execute(sql.SQL("DROP TABLE {}").format(partition))
        db.raw.execute("DELETE FROM event_ids WHERE ts < %s", (upper,))
        log.info("retention: dropped partition %s (%d events)", name, count)
        purged += int(count)
    purged += db.raw.execute("DELETE FROM events WHERE received_at < %s", (before,)).rowcount
    ensure_partitions(db)
    return purged
