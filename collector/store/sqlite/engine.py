"""The collector's SQLite store: one writer thread owns the write connection, reads run on
a small pool with one connection per thread, so the event loop never blocks on SQLite.

Group commit: writes that queue up while the writer is busy run together in one
transaction, each inside its own savepoint (a failing write undoes only itself), and are
committed at once: under load (many agents uploading) one commit writes the WAL pages of
many writes.

Durability without the wait: the writer commits with synchronous=NORMAL and a thread of its
own fsyncs the WAL before any caller hears back (shadowmap.collector.store.sqlite.wal_sync), so an acknowledged
write is on disk exactly as with FULL (an agent drops its events once acked) while the
writer goes on with the next transaction; one fsync covers every commit made before it.

Checkpoints (copying the WAL back into the database file) run on a thread of their own,
shortly after commits, so the writer does not stop for them; the writer's own automatic
checkpoint stays as a backstop with a larger threshold, should that thread fall behind."""
from __future__ import annotations

import asyncio
import logging
import queue
import sqlite3
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import sqlite_utils

from shadowmap.collector.private_files import create_private_file
from shadowmap.collector.store.migrations import apply_migrations
from shadowmap.collector.store.sqlite.wal_sync import WalSyncer

log = logging.getLogger(__name__)
T = TypeVar("T")
_STOP = object()
# A queued write: the function, whether it runs in a transaction, the future its caller awaits
Write = tuple[Callable[[sqlite_utils.Database], Any], bool, "Future[Any]"]
MAX_GROUP = 16  # writes committed together at most (bounds one transaction's size and latency)
WRITER_CACHE_KIB = 64 * 1024  # the writer's page cache: ingest touches index pages all over the file
WRITER_AUTOCHECKPOINT_PAGES = 20_000  # backstop only (SQLite's default is 1000 pages)
CHECKPOINT_EVERY_SECONDS = 0.2  # at most this often, and only after a commit
# The writer lets the GIL go at every SQLite step and then waits for it; a busy event loop
# thread keeps it up to the switch interval (5 ms by default) each time. A shorter one cuts
# those stalls (measured: about 10-15% more events/s under load, before ingest went to one
# statement per batch, shadowmap.collector.store.sqlite.sql_rows; other writers still step row by row).
WRITER_SWITCH_INTERVAL = 0.001


def _connect(path: Path) -> sqlite_utils.Database:
    conn = sqlite3.connect(str(path), timeout=10.0, check_same_thread=False)
    db = sqlite_utils.Database(conn)
    db.execute("PRAGMA busy_timeout = 10000")
    # FULL for any connection that commits on its own; the store's writer switches to NORMAL
    # and has its commits fsynced before they are acknowledged (shadowmap.collector.store.sqlite.wal_sync).
    db.execute("PRAGMA synchronous = FULL")
    db.execute("PRAGMA foreign_keys = ON")
    return db


class Store:
    shared_by_nodes = False  # one collector, one writer thread

    def __init__(self, path: Path, read_workers: int = 4) -> None:
        self.path = Path(path)
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()  # Write items, or _STOP
        self._writer: threading.Thread | None = None
        self._checkpointer: threading.Thread | None = None
        self._syncer = WalSyncer(self.path)
        self._committed = threading.Event()  # set by the writer after each commit
        self._closing = threading.Event()
        self._readers = ThreadPoolExecutor(max_workers=read_workers, thread_name_prefix="store-read")
        self._local = threading.local()
        self._read_dbs: list[sqlite_utils.Database] = []
        self._read_dbs_lock = threading.Lock()
        self.applied_migrations: list[int] = []  # what open() applied

    async def open(self) -> None:
        """Create the file (WAL), start the writer thread and apply migrations."""
        create_private_file(self.path)  # 0600 before SQLite opens it: its -wal and -shm inherit the mode
        sys.setswitchinterval(min(sys.getswitchinterval(), WRITER_SWITCH_INTERVAL))
        self._syncer.start()
        ready: Future[None] = Future()
        self._writer = threading.Thread(target=self._write_loop, args=(ready,), name="store-writer", daemon=True)
        self._writer.start()
        await asyncio.wrap_future(ready)
        self._checkpointer = threading.Thread(target=self._checkpoint_loop, name="store-checkpoint", daemon=True)
        self._checkpointer.start()
        applied = self.applied_migrations = await self.write(apply_migrations, transaction=False)
        if applied:
            log.info("store %s: applied migrations %s", self.path, applied)

    async def write(self, fn: Callable[..., T], *args: Any, transaction: bool = True) -> T:
        """Run ``fn(db, *args)`` on the writer thread, inside one transaction unless told otherwise."""
        if self._writer is None or not self._writer.is_alive():
            raise RuntimeError("store is not open")
        future: Future[T] = Future()
        self._queue.put((_bind(fn, args), transaction, future))
        return await asyncio.wrap_future(future)

    async def read(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(db, *args)`` on a reader thread with its own connection."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._readers, self._run_read, _bind(fn, args))

    def pending_writes(self) -> int:
        """Writes queued for the writer thread (a gauge for /metrics)."""
        return self._queue.qsize()

    async def close(self) -> None:
        if self._writer is not None and self._writer.is_alive():
            self._queue.put(_STOP)
            await asyncio.get_running_loop().run_in_executor(None, self._writer.join)
        if self._checkpointer is not None and self._checkpointer.is_alive():
            self._closing.set()
            self._committed.set()
            await asyncio.get_running_loop().run_in_executor(None, self._checkpointer.join)
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

    def _write_loop(self, ready: Future[None]) -> None:
        try:
            db = _connect(self.path)
            db.enable_wal()
            db.execute(f"PRAGMA cache_size = -{WRITER_CACHE_KIB}")
            db.execute(f"PRAGMA wal_autocheckpoint = {WRITER_AUTOCHECKPOINT_PAGES}")
            db.execute("PRAGMA synchronous = NORMAL")  # the WAL syncer makes each commit durable before its ack
        except Exception as exc:  # reported to open()'s caller
            ready.set_exception(exc)
            self._syncer.stop()
            return
        ready.set_result(None)
        held = None  # an item taken while gathering a group that must run after it
        try:
            while True:
                item, held = (held if held is not None else self._queue.get()), None
                if item is _STOP:
                    break
                if not item[1]:  # outside a transaction (migrations): alone
                    self._run_alone(db, *item)
                    self._committed.set()
                    continue
                group = [item]
                while len(group) < MAX_GROUP:
                    try:
                        more = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if more is _STOP or not more[1]:
                        held = more
                        break
                    group.append(more)
                self._run_group(db, [entry for entry in group if entry[2].set_running_or_notify_cancel()])
                self._committed.set()
        finally:
            self._syncer.stop()  # everything committed is synced and acknowledged first
            db.conn.close()

    def _checkpoint_loop(self) -> None:
        """PASSIVE checkpoints after commits: they copy what is committed without blocking
        the writer or readers; SQLite runs them with the GIL released."""
        db = _connect(self.path)
        try:
            while not self._closing.is_set():
                self._committed.wait()
                self._committed.clear()
                if self._closing.is_set():
                    break
                try:
                    db.execute("PRAGMA wal_checkpoint(PASSIVE)")
                except sqlite3.Error:  # busy or locked: the next commit brings another try
                    log.debug("checkpoint skipped", exc_info=True)
                self._closing.wait(CHECKPOINT_EVERY_SECONDS)
        finally:
            db.conn.close()

    def _run_alone(self, db: sqlite_utils.Database, fn: Callable[[sqlite_utils.Database], Any], transaction: bool,
                   future: Future[Any]) -> None:
        if not future.set_running_or_notify_cancel():
            return
        try:
            result = fn(db)
        except BaseException as exc:
            future.set_exception(exc)
        else:
            self._syncer.after_commit(lambda error: _settle(future, error, result))

    def _run_group(self, db: sqlite_utils.Database, group: list[Write]) -> None:
        """One transaction, one savepoint per write, one commit; futures resolved once the
        commit is on disk."""
        if not group:
            return
        outcomes: list[tuple[Future[Any], BaseException | None, object]] = []
        try:
            with db.atomic():
                for fn, _, future in group:
                    try:
                        with db.atomic():  # nested: a savepoint
                            outcomes.append((future, None, fn(db)))
                    except Exception as exc:
                        if not db.conn.in_transaction:
                            raise  # the error ended the whole transaction: nothing of the group stands
                        outcomes.append((future, exc, None))
        except BaseException as exc:  # the commit (or the transaction) failed: no write of the group is kept
            for _, _, future in group:
                future.set_exception(exc)
            return

        def acknowledge(sync_error: BaseException | None) -> None:
            for future, error, result in outcomes:
                _settle(future, error or sync_error, result)

        self._syncer.after_commit(acknowledge)


def _bind(fn: Callable[..., T], args: tuple[Any, ...]) -> Callable[[sqlite_utils.Database], T]:
    """``fn`` with ``args`` after the database it is called with."""
    if not args:
        return fn

    def bound(db: sqlite_utils.Database) -> T:
        return fn(db, *args)
    return bound


def _settle(future: Future[Any], error: BaseException | None, result: object) -> None:
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)
