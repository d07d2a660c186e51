"""The durable outbox: every event is committed here before anything else happens to it,
and leaves only when the collector acknowledged its id.

SQLite in WAL mode with ``synchronous=FULL``: in WAL mode NORMAL may lose the last
transactions on a power cut, and an event whose verdict the user has already seen must
survive one, so each commit is fsynced before ``put`` returns.
"""
from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlite_utils

from shadowmap import contract

OUTBOX = "outbox"
DEAD = "dead_letter"
META = "meta"
DEAD_LETTER_KEEP = 10_000          # dead letters are evidence, but bounded too
_DROPPED = "dropped_events"


def restrict_to_owner(path: Path) -> bool:
    """0600 on POSIX when we own the file (SQLite gives the -wal/-shm files the same mode).
    Windows has no modes: the state folder's ACL protects the file (%ProgramData%\\shadowmap
    locked by the MSI, or the user's own %LOCALAPPDATA%). Returns whether a mode was set."""
    geteuid = getattr(os, "geteuid", None)
    if geteuid is None or path.stat().st_uid != geteuid():
        return False
    os.chmod(path, 0o600)
    return True


class Spool:
    """Thread-safe: IPC handlers put while the uploader reads and acks."""

    def __init__(self, path: str | Path, max_bytes: int = 50 * 1024 * 1024):
        self.path = Path(path)
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._listeners: list[Callable[[], None]] = []
        conn = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
        restrict_to_owner(self.path)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        self._db = sqlite_utils.Database(conn)
        self._migrate()
        self._bytes = self._db.execute(f"SELECT COALESCE(SUM(size), 0) FROM {OUTBOX}").fetchone()[0]

    def _migrate(self) -> None:
        if OUTBOX not in self._db.table_names():
            # seq keeps insertion order; id is the event id, unique so a retried put is a no-op
            self._db.table(OUTBOX).create({"seq": int, "id": str, "body": str, "size": int, "queued": float},
                                    pk="seq")
            self._db.execute(f"CREATE UNIQUE INDEX IF NOT EXISTS {OUTBOX}_id ON {OUTBOX}(id)")
        if DEAD not in self._db.table_names():
            self._db.table(DEAD).create({"id": str, "body": str, "error": str, "failed": float}, pk="id")
        if META not in self._db.table_names():
            self._db.table(META).create({"key": str, "value": int}, pk="key")

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """One explicit transaction (the connection is in autocommit mode otherwise)."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            self._bytes = self._db.execute(f"SELECT COALESCE(SUM(size), 0) FROM {OUTBOX}").fetchone()[0]
            raise
        self._db.execute("COMMIT")

    def add_listener(self, callback: Callable[[], None]) -> None:
        """Called (outside the lock) after each put: lets the uploader wake at once."""
        self._listeners.append(callback)

    def put(self, event: dict) -> None:
        """Validate and durably store one event; raises contract.ContractError if invalid."""
        contract.validate_event(event)
        body = json.dumps(event, separators=(",", ":"), ensure_ascii=False)
        size = len(body.encode("utf-8"))
        with self._lock, self._transaction():
            cur = self._db.execute(
                f"INSERT OR IGNORE INTO {OUTBOX}(id, body, size, queued) VALUES (?, ?, ?, ?)",
                [event["id"], body, size, time.time()])
            if cur.rowcount:
                self._bytes += size
                self._enforce_bound()
        for callback in self._listeners:
            callback()

    def _enforce_bound(self) -> None:
        """Drop the oldest events beyond max_bytes (inside the put transaction)."""
        if self._bytes <= self.max_bytes:
            return
        dropped = 0
        for seq, size in self._db.execute(f"SELECT seq, size FROM {OUTBOX} ORDER BY seq").fetchall():
            if self._bytes <= self.max_bytes:
                break
            self._db.execute(f"DELETE FROM {OUTBOX} WHERE seq = ?", [seq])
            self._bytes -= size
            dropped += 1
        self._db.execute(
            f"INSERT INTO {META}(key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = value + excluded.value", [_DROPPED, dropped])

    def next_batch(self, n: int) -> list[dict]:
        """The oldest n events, still in the spool until acked."""
        with self._lock:
            rows = self._db.execute(
                f"SELECT body FROM {OUTBOX} ORDER BY seq LIMIT ?", [max(0, n)]).fetchall()
        return [json.loads(body) for (body,) in rows]

    def ack(self, ids: Iterable[str]) -> int:
        """Remove acknowledged events; ids not in the spool are ignored. Returns how many went."""
        ids = [i for i in ids if isinstance(i, str)]
        removed = 0
        with self._lock, self._transaction():
            for start in range(0, len(ids), 500):
                chunk = ids[start:start + 500]
                marks = ",".join("?" * len(chunk))
                freed = self._db.execute(
                    f"SELECT COALESCE(SUM(size), 0), COUNT(*) FROM {OUTBOX} WHERE id IN ({marks})",
                    chunk).fetchone()
                self._db.execute(f"DELETE FROM {OUTBOX} WHERE id IN ({marks})", chunk)
                self._bytes -= freed[0]
                removed += freed[1]
        return removed

    def dead_letter(self, event_id: str, error: str) -> bool:
        """Move an event the collector refused out of the outbox: kept, never retried."""
        with self._lock, self._transaction():
            row = self._db.execute(f"SELECT body, size FROM {OUTBOX} WHERE id = ?", [event_id]).fetchone()
            if row is None:
                return False
            self._db.execute(f"DELETE FROM {OUTBOX} WHERE id = ?", [event_id])
            self._bytes -= row[1]
            self._db.execute(
                f"INSERT OR REPLACE INTO {DEAD}(id, body, error, failed) VALUES (?, ?, ?, ?)",
                [event_id, row[0], str(error)[:1000], time.time()])
            self._db.execute(
                f"DELETE FROM {DEAD} WHERE rowid NOT IN "
                f"(SELECT rowid FROM {DEAD} ORDER BY failed DESC LIMIT {DEAD_LETTER_KEEP})")
        return True

    def dead_letters(self) -> list[dict]:
        with self._lock:
            rows = self._db.execute(f"SELECT id, error, failed FROM {DEAD} ORDER BY failed").fetchall()
        return [{"id": i, "error": e, "failed": f} for i, e, f in rows]

    def depth(self) -> int:
        with self._lock:
            return self._db.execute(f"SELECT COUNT(*) FROM {OUTBOX}").fetchone()[0]

    def size_bytes(self) -> int:
        with self._lock:
            return self._bytes

    def dropped(self) -> int:
        """How many events were dropped, oldest first, because the spool was full."""
        with self._lock:
            row = self._db.execute(f"SELECT value FROM {META} WHERE key = ?", [_DROPPED]).fetchone()
        return row[0] if row else 0

    def close(self) -> None:
        with self._lock:
            self._db.conn.close()
