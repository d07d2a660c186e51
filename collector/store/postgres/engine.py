"""The collector's PostgreSQL store: the interface of the SQLite one (open, close, read,
write, pending_writes) on a psycopg_pool ConnectionPool.

Each `write` is one transaction on a pooled connection, committed before it returns (an
acknowledgement means committed). Many run at once, on threads: PostgreSQL serialises what
must be (row locks, unique indexes, the record's advisory lock); there is no single writer
as on SQLite, because several collector nodes write to the same database anyway.

Connections are checked when taken from the pool, so after a PostgreSQL restart the broken
ones are dropped and new ones made; a call that fails on a connection the restart cut
raises (the agent retries its batch; nothing unacknowledged is lost)."""
from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from psycopg_pool import ConnectionPool

from shadowmap.collector.store.postgres.adapter import PgDatabase, configure
from shadowmap.collector.store.postgres.migrations import apply_migrations
from shadowmap.collector.store.postgres.retention import ensure_partitions
from shadowmap.collector.store.url import PostgresUrl

log = logging.getLogger(__name__)
T = TypeVar("T")
WRITE_WORKERS = 8  # transactions in flight at once per node (each holds a connection)
CONNECT_TIMEOUT_SECONDS = 5  # a node waits this long for a connection before the call fails
STATEMENT_TIMEOUT_MS = 60_000  # no statement of the collector should run longer


class Store:
    shared_by_nodes = True  # several collector nodes may write to it at once

    def __init__(self, url: PostgresUrl, read_workers: int = 4, write_workers: int = WRITE_WORKERS) -> None:
        self.url = url
        self.path = None  # (the SQLite store's file; nothing here)
        self._readers = ThreadPoolExecutor(max_workers=read_workers, thread_name_prefix="pg-read")
        self._writers = ThreadPoolExecutor(max_workers=write_workers, thread_name_prefix="pg-write")
        self._pool = ConnectionPool(
            url.conninfo(), min_size=1, max_size=read_workers + write_workers, open=False,
            timeout=CONNECT_TIMEOUT_SECONDS, check=ConnectionPool.check_connection, name="shadowmap", configure=configure,
            kwargs={"connect_timeout": CONNECT_TIMEOUT_SECONDS, "application_name": "shadowmap-collector",
                    "options": f"-c statement_timeout={STATEMENT_TIMEOUT_MS}"})
        self._pending = 0
        self._pending_lock = threading.Lock()
        self._open = False
        self.applied_migrations: list[int] = []  # what open() applied

    async def open(self) -> None:
        """Connect and apply pending migrations (under an advisory lock: nodes starting at
        once apply them once)."""
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._writers, lambda: self._pool.open(wait=True, timeout=30))
        self._open = True
        applied = self.applied_migrations = await self.write(apply_migrations)
        if applied:
            log.info("store %s: applied migrations %s", self.url.display(), applied)
        await self.write(ensure_partitions)  # this month's and the next ones' (retention makes them too)

    async def write(self, fn: Callable[..., T], *args: Any, transaction: bool = True) -> T:
        """Run ``fn(db, *args)`` in one transaction, committed before this returns."""
        if not self._open:
            raise RuntimeError("store is not open")
        with self._pending_lock:
            self._pending += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self._writers, self._run, fn, args)
        finally:
            with self._pending_lock:
                self._pending -= 1

    async def read(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(db, *args)`` on a pooled connection (its own transaction, rolled back)."""
        if not self._open:
            raise RuntimeError("store is not open")
        return await asyncio.get_running_loop().run_in_executor(self._readers, self._run, fn, args, False)

    def run_sync(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(db, *args)`` in one committed transaction, on the calling thread (commands)."""
        return self._run(fn, args)

    def pending_writes(self) -> int:
        """Write transactions waiting or in flight (a gauge for /metrics)."""
        return self._pending

    async def close(self) -> None:
        loop = asyncio.get_running_loop()
        self._open = False
        await loop.run_in_executor(None, lambda: self._writers.shutdown(wait=True))
        await loop.run_in_executor(None, lambda: self._readers.shutdown(wait=True))
        await loop.run_in_executor(None, self._pool.close)

    def _run(self, fn: Callable[..., T], args: tuple[Any, ...], commit: bool = True) -> T:
        with self._pool.connection() as conn:
            db = PgDatabase(conn)
            if commit:
                with conn.transaction():
                    return fn(db, *args)
            try:
                return fn(db, *args)
            finally:
                conn.rollback()
