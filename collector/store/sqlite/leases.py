"""Leases on background jobs (table job_leases, migration 95): a job runs on the node
holding its lease; the holder renews it each run, and when a node dies its lease expires
and the next node to ask takes it. Portable SQL: the same statement on SQLite (one node, so
it always wins) and PostgreSQL (the upsert's row lock decides between nodes)."""
from __future__ import annotations

import sqlite_utils

# Take the lease when it is free, expired, or ours already; RETURNING says whether we did.
TAKE = ("INSERT INTO job_leases (name, holder, expires_at) VALUES (?, ?, ?) "
        "ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at "
        "WHERE job_leases.holder = excluded.holder OR job_leases.expires_at < ? RETURNING holder")


def take(db: sqlite_utils.Database, name: str, holder: str, now: str, expires_at: str) -> bool:
    """Writer fn: whether ``holder`` holds the lease on job ``name`` until ``expires_at``."""
    return db.execute(TAKE, (name, holder, expires_at, now)).fetchone() is not None


def release(db: sqlite_utils.Database, name: str, holder: str) -> None:
    """Writer fn: give the lease up (a node shutting down), if it is still ours."""
    db.execute("DELETE FROM job_leases WHERE name = ? AND holder = ?", (name, holder))


def holders(db: sqlite_utils.Database) -> dict[str, tuple[str, str]]:
    """job name -> (holder, expires_at)."""
    return {row["name"]: (row["holder"], row["expires_at"])
            for row in db.query("SELECT name, holder, expires_at FROM job_leases")}
