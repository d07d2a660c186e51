"""Ingest parsing in worker processes: decompress, JSON, schema validation and the per-batch
sums (shadowmap.collector.api.ingest_parse.parse_batch) are CPU-bound Python, and in threads they would share one
GIL with the store's writer thread, the one everything waits for. In a process pool they run
on the other cores; the writer's process only unpickles the compact result.

Workers come from a forkserver (never forked from this process, which runs threads and
SQLite connections) with the ingest modules preloaded, so starting one is cheap. A pool
that breaks (a worker killed) is replaced, and that batch is parsed in a thread instead:
a request never fails because of the pool. Workers leave by themselves once the collector's
process is gone, even when it was killed."""
from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from aiohttp import web

from shadowmap.collector import malloc_tuning

log = logging.getLogger(__name__)

PRELOAD = ["shadowmap.collector.api.ingest_parse"]  # imported once in the forkserver, inherited by every worker
PARENT_CHECK_SECONDS = 0.5
# Workers run at a lower CPU priority than the collector's own process: on a machine whose
# cores they fill, the store's writer thread (the one every request waits for) would
# otherwise queue behind them. Measured: about 12 % more events/s, and steadier.
WORKER_NICENESS = 10


def default_workers() -> int:
    return os.cpu_count() or 1


class ParsePool:
    def __init__(self, workers: int | None = None) -> None:
        self.workers = default_workers() if workers is None else workers
        self._executor: ProcessPoolExecutor | None = None

    def start(self) -> None:
        if self.workers < 1:
            return  # parse in threads (the default executor)
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(PRELOAD)
        self._executor = ProcessPoolExecutor(max_workers=self.workers, mp_context=context,
                                             initializer=_leave_with, initargs=(os.getpid(),))

    async def warm(self) -> None:
        """Start every worker now (one task each), not on the first batches."""
        if self._executor is not None:
            loop = asyncio.get_running_loop()
            await asyncio.gather(*(loop.run_in_executor(self._executor, _ready, index)
                                   for index in range(self.workers)))

    async def run(self, fn, *args):
        """``fn(*args)`` in a worker process (fn and its result must pickle), or in a thread
        when the pool is off or broke."""
        loop = asyncio.get_running_loop()
        executor = self._executor
        if executor is not None:
            try:
                return await loop.run_in_executor(executor, fn, *args)
            except BrokenProcessPool:
                log.warning("parse pool broke; starting a new one (this batch is parsed in a thread)")
                if self._executor is executor:
                    executor.shutdown(wait=False, cancel_futures=True)
                    self.start()
        return await loop.run_in_executor(None, fn, *args)

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None


def _leave_with(collector_pid: int) -> None:
    """Worker initializer: step back in CPU priority, tune malloc, and exit once the collector's
    process is gone. A worker holds the write end of its own task pipe (so it never reads EOF
    there) and the forkserver stays while any worker does; both would outlive a killed
    collector, holding its stdout and stderr open."""
    forkserver_pid = os.getppid()
    if hasattr(os, "nice"):  # POSIX
        os.nice(WORKER_NICENESS)
    malloc_tuning.tune()  # like the collector's process: decompressed bodies and results reuse memory

    def watch() -> None:
        while _collector_alive(collector_pid, forkserver_pid):
            time.sleep(PARENT_CHECK_SECONDS)
        os._exit(0)

    threading.Thread(target=watch, name="leave-with-collector", daemon=True).start()


def _collector_alive(collector_pid: int, forkserver_pid: int) -> bool:
    # A dead collector may stay a zombie (its pid still answers signals) until whoever
    # started it reaps it, but its children, the forkserver among them, are re-parented at
    # once: so ask who the forkserver's parent is (Linux /proc; elsewhere, signal 0).
    try:
        with open(f"/proc/{forkserver_pid}/stat", "rb") as stat:
            return int(stat.read().rsplit(b")", 1)[1].split()[1]) == collector_pid
    except (OSError, ValueError, IndexError):
        pass
    try:
        os.kill(collector_pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def _ready(index: int) -> int:
    time.sleep(0.05)  # held briefly, so that each warm-up task gets a worker of its own
    return index


PARSE_POOL = web.AppKey("parse_pool", ParsePool)
