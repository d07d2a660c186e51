"""Callers hear back once their commit is on disk, without the writer waiting for the disk.

With synchronous=FULL, SQLite fsyncs the WAL inside every COMMIT, and the store's single
writer thread sits idle for it (measured: about a fifth of its time at full ingest). The
writer connection runs synchronous=NORMAL instead, where a commit only write()s its frames
to the WAL, and this thread fsyncs the WAL file before anyone is told their write
succeeded: the same guarantee as FULL (an acknowledged write survives a power cut: its
frames, commit frame included, are on disk before the acknowledgement), but the writer goes
on with the next transaction meanwhile, and one fsync covers every commit made before it
started. NORMAL keeps SQLite's own syncs around checkpoints and WAL restarts.

Reads on other connections may see a commit a moment before it is durable; if the machine
then loses power, the write and what was read vanish together and nobody was acked."""
from __future__ import annotations

import logging
import os
import queue
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)
_STOP = object()


class WalSyncer:
    def __init__(self, db_path: Path) -> None:
        self.wal_path = Path(f"{db_path}-wal")
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()  # acknowledge callbacks, or _STOP
        self._thread: threading.Thread | None = None
        self._fd: int | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="store-wal-sync", daemon=True)
        self._thread.start()

    def after_commit(self, acknowledge: Callable[[BaseException | None], None]) -> None:
        """Writer thread, right after a commit: ``acknowledge(None)`` runs once the WAL holding
        it is on disk, ``acknowledge(error)`` if that cannot be made sure."""
        self._queue.put(acknowledge)

    def stop(self) -> None:
        """Sync and acknowledge everything queued, then stop."""
        if self._thread is not None and self._thread.is_alive():
            self._queue.put(_STOP)
            self._thread.join()
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def _loop(self) -> None:
        stopping = False
        while not stopping:
            waiting = [self._queue.get()]
            while True:  # everything committed so far rides on the same fsync
                try:
                    waiting.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            stopping = _STOP in waiting
            waiting = [item for item in waiting if item is not _STOP]
            if not waiting:
                continue
            error: BaseException | None = None
            try:
                self._fsync()
            except OSError as exc:  # durability unknown: callers must not be told it worked
                log.error("could not fsync %s: %s", self.wal_path, exc)
                error = exc
            for acknowledge in waiting:
                try:
                    acknowledge(error)
                except Exception:  # one caller's trouble must not stop the acks of the others
                    log.exception("acknowledging a commit failed")

    def _fsync(self) -> None:
        try:
            current = os.stat(self.wal_path)
        except FileNotFoundError:
            return  # no WAL: SQLite checkpointed everything into the database file and synced it
        if self._fd is None or os.fstat(self._fd).st_ino != current.st_ino:  # (re)created since
            if self._fd is not None:
                os.close(self._fd)
            self._fd = os.open(self.wal_path, os.O_RDWR | getattr(os, "O_BINARY", 0))  # Windows flushes only writable handles
        os.fsync(self._fd)
