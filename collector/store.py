"""The collector's SQLite store: one writer thread owns the write connection, reads run on
a small pool with one connection per thread, so the event loop never blocks on SQLite."""
from __future__ import annotations

import asyncio
import logging
import queue
import sqlite3
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Callable, TypeVar

import sqlite_utils

from collector.migrations import apply_migrations

log = logging.getLogger(__name__)
T = TypeVar("T")
_STOP = object()


def _connect(path: Path) -> sqlite_utils.Database:
    conn = sqlite3.connect(str(path), timeout=10.0, check_same_thread=False)
    db = sqlite_utils.Database(conn)
    db.execute("PRAGMA busy_timeout = 10000")
    # FULL: an acknowledged event must survive a power cut; the agent drops it after the ack.
    db.execute("PRAGMA synchronous = FULL")
    db.execute("PRAGMA foreign_keys = ON")
    return db


class Store:
    def __init__(self, path: Path, read_workers: int = 4) -> None:
        self.path = Path(path)
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._writer: threading.Thread | None = None
        self._readers = ThreadPoolExecutor(max_workers=read_workers, thread_name_prefix="store-read")
        self._local = threading.local()
        self._read_dbs: list[sqlite_utils.Database] = []
        self._read_dbs_lock = threading.Lock()

    async def open(self) -> None:
        """Create the file (WAL), start the writer thread and apply migrations."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        ready: Future = Future()
        self._writer = threading.Thread(target=self._write_loop, args=(ready,), name="store-writer", daemon=True)
        self._writer.start()
        await asyncio.wrap_future(ready)
        applied = await self.write(apply_migrations, transaction=False)
        if applied:
            log.info("store %s: applied migrations %s", self.path, applied)

    async def write(self, fn: Callable[[sqlite_utils.Database], T], transaction: bool = True) -> T:
        """Run ``fn(db)`` on the writer thread, inside one transaction unless told otherwise."""
        if self._writer is None or not self._writer.is_alive():
            raise RuntimeError("store is not open")
        future: Future = Future()
        self._queue.put((fn, transaction, future))
        return await asyncio.wrap_future(future)

    async def read(self, fn: Callable[[sqlite_utils.Database], T]) -> T:
        """Run ``fn(db)`` on a reader thread with its own connection."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._readers, self._run_read, fn)

    async def close(self) -> None:
        if self._writer is not None and self._writer.is_alive():
            self._queue.put(_STOP)
            await asyncio.get_running_loop().run_in_executor(None, self._writer.join)
        self._readers.shutdown(wait=True)
        with self._read_dbs_lock:
            for db in self._read_dbs:
                db.conn.close()
            self._read_dbs.clear()

    def _run_read(self, fn: Callable[[sqlite_utils.Database], T]) -> T:
        db = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = _connect(self.path)
            with self._read_dbs_lock:
                self._read_dbs.append(db)
        return fn(db)

    def _write_loop(self, ready: Future) -> None:
        try:
            db = _connect(self.path)
            db.enable_wal()
        except Exception as exc:  # reported to open()'s caller
            ready.set_exception(exc)
            return
        ready.set_result(None)
        try:
            while True:
                item = self._queue.get()
                if item is _STOP:
                    break
                fn, transaction, future = item
                if not future.set_running_or_notify_cancel():
                    continue
                try:
                    if transaction:
                        with db.atomic():
                            result = fn(db)
                    else:
                        result = fn(db)
                except BaseException as exc:
                    future.set_exception(exc)
                else:
                    future.set_result(result)
        finally:
            db.conn.close()
