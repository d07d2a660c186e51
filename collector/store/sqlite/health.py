"""What operations watch (GET /metrics, /readyz): alert counts, outbound queue depths, the
length of the record, how far the schema is migrated."""
from __future__ import annotations

from typing import Any

import sqlite_utils


def migrated_to(db: sqlite_utils.Database) -> int:
    """The number of the last migration applied (0 for none)."""
    return int(db.execute("SELECT coalesce(max(number), 0) FROM _migrations").fetchone()[0])


def alert_counts(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    """Alerts by status and severity: [{status, severity, n}]."""
    return list(db.query("SELECT status, severity, count(*) AS n FROM alerts GROUP BY status, severity"))


def outbound_depths(db: sqlite_utils.Database) -> dict[str, int]:
    """Messages waiting for a sink (pending) and given up on (dead)."""
    counts = {row["status"]: row["n"] for row in db.query("SELECT status, count(*) AS n FROM outbound_queue"
                                                          " WHERE status != 'delivered' GROUP BY status")}
    return {"pending": int(counts.get("pending", 0)), "dead": int(counts.get("dead", 0))}


def record_length(db: sqlite_utils.Database) -> int:
    """The seq of the record's last entry (entries are numbered 1, 2, 3 ... without gaps)."""
    single = db.execute("SELECT max(seq) FROM record_entries_single").fetchone()[0]
    runs = db.execute("SELECT max(last_seq) FROM record_event_runs").fetchone()[0]
    return int(max(single or 0, runs or 0))


def snapshot(db: sqlite_utils.Database) -> dict[str, Any]:
    return {"alerts": alert_counts(db), "outbound": outbound_depths(db), "record": record_length(db)}
