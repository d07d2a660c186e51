"""Failed console sign-ins per key ('user:<name>', 'addr:<address>'): how many in a row,
the last one, and a lockout's end. Portable SQL (SQLite and PostgreSQL)."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlite_utils


def states(db: sqlite_utils.Database, keys: Sequence[str]) -> list[dict[str, Any]]:
    """The rows of these keys (a key with no failures has none)."""
    return [dict(row) for row in db.query(
        "SELECT key, failures, last_failed_at, locked_until FROM login_throttle WHERE key IN ("
        + ", ".join("?" for _ in keys) + ")", tuple(keys))]


def add_failure(db: sqlite_utils.Database, key: str, now: str) -> int:
    """Writer fn: one more failure for ``key``; returns its failures in a row. A lockout
    that has ended starts the count again."""
    db.execute("DELETE FROM login_throttle WHERE key = ? AND locked_until IS NOT NULL AND locked_until <= ?",
               (key, now))
    db.execute("INSERT INTO login_throttle (key, failures, last_failed_at) VALUES (?, 1, ?) "
               "ON CONFLICT(key) DO UPDATE SET failures = login_throttle.failures + 1, "
               "last_failed_at = excluded.last_failed_at", (key, now))
    row = db.execute("SELECT failures FROM login_throttle WHERE key = ?", (key,)).fetchone()
    return int(row[0])


def lock(db: sqlite_utils.Database, key: str, until: str) -> None:
    """Writer fn."""
    db.execute("UPDATE login_throttle SET locked_until = ? WHERE key = ?", (until, key))


def clear(db: sqlite_utils.Database, key: str) -> None:
    """Writer fn: a successful sign-in forgets the failures."""
    db.execute("DELETE FROM login_throttle WHERE key = ?", (key,))
