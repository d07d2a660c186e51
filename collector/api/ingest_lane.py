"""The ingest lane: what batches of every device share, done for many batches at once.

Alerts are keyed by finding x tool x user and some are org-wide (a vendor's standing), the
usage rollup has shared rows, and the record is one chain: so several nodes raise alerts
one at a time, under an org-wide lock (shadowmap.collector.store.sqlite.locks), and append
to the chain under its lock. Done per batch, that lane was the fleet's limit: a dozen round
trips to PostgreSQL per upload, one upload at a time across every node (measured with
10,000 agents: ~17 ms per upload, so ~60 uploads/s for the whole fleet). So on PostgreSQL
a batch's own transaction stores its events and queues its lane work (store_events), and
each node makes one pass at a time (IngestLane) for every batch waiting for it: one claim,
one gather, one lock hold, one rollup, one chain append, one commit, whatever their number.
A request waits for its pass up to the configured ack wait (``lane_ack_wait_seconds``):
under load a pass waits for the other nodes' passes and for the one before it, and that
wait was most of an upload's latency. An upload whose pass has not committed by then is
answered anyway: its events are committed and its lane work is queued in the same
transaction (an outbox), so its alerts and record entries follow within a pass, or within
the sweep if its node dies first. A node more than LANE_BEHIND_EVENTS behind makes its
uploads wait for their pass (back-pressure: the agents' spools hold the rest). On SQLite (one
writer) the batch's transaction does its own lane work (store_batch).

Nothing is lost when a node dies between a batch's commit and its pass: the queued row
stays, and the agent, which had no answer, sends the batch again; the retry (on any node)
finds its events stored and claims the row (store_events' ``adopt``). What no retry claims
(an agent that never came back) the sweep takes, on one node at a time."""
from __future__ import annotations

import asyncio
import json
import logging
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import sqlite_utils
from aiohttp import web

from shadowmap.collector import record
from shadowmap.collector.alerts.raising import ALL_USERS, gather_batches, raise_gathered, summarise
from shadowmap.collector.api.ingest_counts import INGEST_COUNTS, IngestCounts
from shadowmap.collector.api.ingest_parse import Batch
from shadowmap.collector.api.ingest_store import LaneWork, store_events
from shadowmap.collector.background import background_task, holds_lease
from shadowmap.collector.state import CONFIG, STORE
from shadowmap.collector.store.sqlite import events, ingest_lane, locks
from shadowmap.collector.store.sqlite import usage_rollup as usage
from shadowmap.collector.timestamps import iso_utc

log = logging.getLogger(__name__)
MAX_PASS_EVENTS = 5_000       # a pass takes waiting batches up to about this many events
LANE_BEHIND_EVENTS = 20_000   # waiting beyond this many events: uploads wait for their pass
STOP_WAIT_SECONDS = 20.0      # a stopping node finishes its passes this long before leaving them to the sweep
SWEEP_EVERY_SECONDS = 30.0
SWEEP_AFTER_SECONDS = 120.0   # queued this long: its node died (a pass takes a few seconds at most)
SWEEP_BATCHES = 50
JOB = "ingest-lane-sweep"


def store_batch(db: sqlite_utils.Database, batch: Batch, device_id: str, node_key_hash: str | None = None) -> int:
    """Writer fn, one transaction: the batch and its lane work (SQLite's one writer; the
    commands and tests that store a batch directly). Returns how many events were new."""
    stored, work = store_events(db, batch, device_id, node_key_hash, queue=False)
    run_lane(db, [work])
    return stored


def run_lane(db: sqlite_utils.Database, works: list[LaneWork]) -> None:
    """Writer fn: the lane's work for these batches, in one transaction. Batches queued in
    ingest_lane are done only if this transaction claims them (a sweep may have); their
    retries' ``adopt`` ids claim what a dead node left queued."""
    queued = [work.lane_id for work in works if work.lane_id is not None]
    adopt: dict[str, list[str]] = {}
    for work in works:
        adopt.setdefault(work.device_id, []).extend(work.adopt)
    if queued or any(adopt.values()):
        # one claim for all (rows locked in one order: two nodes' passes cannot wait on each other)
        left = ingest_lane.holding(db, {device_id: ids for device_id, ids in adopt.items() if ids})
        claimed = ingest_lane.claim(db, queued + [lane_id for lane_id in left if lane_id not in queued])
        works = [work for work in works if work.lane_id is None or work.lane_id in claimed]
        works += [reloaded(db, claimed[lane_id]) for lane_id in left if lane_id in claimed and lane_id not in queued]
    works = [work for work in works if work.record_rows]
    if not works:
        return
    items = [item for work in works for item in work.items]
    fresh = [item for work in works for item in work.fresh]
    gathered = gather_batches(db, items, [work.alert_inputs or summarise(work.items) for work in works])
    locks.lock_names(db, locks.ALERT_USERS, [ALL_USERS])
    raise_gathered(db, items, gathered)
    counts: Counter[usage.RollupKey] = Counter()
    for work in works:
        counts.update(work.usage_counts if work.usage_counts is not None else usage.count(work.fresh))
    usage.rollup(db, fresh, dict(counts))  # what the weekly report counts
    # last: on PostgreSQL the append holds the chain's lock until this transaction commits
    record.append_event_rows(db, [row for work in works for row in work.record_rows])


def reloaded(db: sqlite_utils.Database, rows: ingest_lane.Rows) -> LaneWork:
    """The lane work of a queued batch another node stored, from its events as stored."""
    stored = {event_id: (ts, body) for event_id, ts, body in events.stored_by_id(db, [row[0] for row in rows])}
    rows = [row for row in rows if row[0] in stored]  # (retention may have dropped some since)
    fresh = [(json.loads(stored[event_id][1]), *stored[event_id]) for event_id, _, _ in rows]
    return LaneWork([(event, ts) for event, ts, _ in fresh], fresh, None, None, rows)


def sweep(db: sqlite_utils.Database, before: str, limit: int) -> int:
    """Writer fn: the lane work of batches queued before ``before`` (their node died and no
    retry came). Returns how many batches it did."""
    lane_ids = ingest_lane.queued_before(db, before, limit)
    if not lane_ids:
        return 0
    claimed = ingest_lane.claim(db, lane_ids)
    run_lane(db, [reloaded(db, rows) for rows in claimed.values()])
    return len(claimed)


class IngestLane:
    """One node's lane: requests hand in their batch's work and wait; one pass at a time
    does the work of every batch waiting (up to MAX_PASS_EVENTS), so the batches that
    arrive during a pass share the next. SQLite (``inline``): the batch's own transaction
    does its lane work, there is nothing to share."""

    def __init__(self, store, counts: IngestCounts | None = None, ack_wait: float | None = None) -> None:
        self.store = store
        self.counts = IngestCounts() if counts is None else counts
        self.inline = not getattr(store, "shared_by_nodes", False)
        self.ack_wait = ack_wait  # None: every upload waits for its pass
        self._waiting: list[Waiting] = []
        self._waiting_events = 0
        self._running = False
        self._task: asyncio.Task[None] | None = None  # (held: the loop keeps only a weak reference)

    async def store_batch(self, batch: Batch, device_id: str, node_key_hash: str) -> int:
        """Store the batch and do its lane work; returns how many events were new. Raises
        LaneFailed when the batch was stored but its pass failed (the agent's retry finds
        it stored and adopts the queued work)."""
        if self.inline:
            return await self.store.write(store_batch, batch, device_id, node_key_hash)
        stored, work = await self.store.write(store_events, batch, device_id, node_key_hash)
        if work.record_rows or work.adopt:
            future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiting.append((work, future))
            self._waiting_events += len(work.record_rows)
            if not self._running:
                self._running = True
                self._task = asyncio.get_running_loop().create_task(self._drain(), name="ingest-lane")
            await self._until_acked(future)
        return stored

    async def _until_acked(self, future: asyncio.Future[None]) -> None:
        if self.ack_wait is None or self._waiting_events > LANE_BEHIND_EVENTS:
            await future
            return
        try:
            await asyncio.wait_for(asyncio.shield(future), self.ack_wait)
        except TimeoutError:  # committed and queued: the pass, or the sweep, does the rest
            self.counts.lane["acked_before_pass"] += 1
            future.add_done_callback(_consumed)

    async def finish(self, timeout: float) -> None:
        """On stopping: let the passes under way and waiting finish (the uploads acked before
        their pass included); what is left after ``timeout`` stays queued for the sweep."""
        if self._task is None or self._task.done():
            return
        try:
            await asyncio.wait_for(asyncio.shield(self._task), timeout)
        except TimeoutError:
            log.warning("ingest lane: stopping with %d batches waiting; the sweep will do them", len(self._waiting))

    async def _drain(self) -> None:
        try:
            while self._waiting:
                taken, size = 0, 0
                while taken < len(self._waiting) and (taken == 0 or size < MAX_PASS_EVENTS):
                    size += len(self._waiting[taken][0].record_rows)
                    taken += 1
                passing, self._waiting = self._waiting[:taken], self._waiting[taken:]
                self._waiting_events -= sum(len(work.record_rows) for work, _ in passing)
                if not await self._pass(passing, last=len(passing) == 1):
                    for one in passing:  # one batch's failure must not fail the others: each alone, once
                        await self._pass([one], last=True)
        finally:
            self._running = False
            _answer(self._waiting, LaneFailed("the collector is stopping"))  # (cancelled with the app)
            self._waiting = []
            self._waiting_events = 0

    async def _pass(self, passing: list[Waiting], last: bool) -> bool:
        try:
            await self.store.write(run_lane, [work for work, _ in passing])
        except Exception as exc:
            self.counts.lane["failed_passes"] += 1
            log.warning("ingest lane: a pass over %d batches failed: %s", len(passing), exc)
            if last:
                _answer(passing, LaneFailed(str(exc)))
            return False
        self.counts.lane["passes"] += 1
        self.counts.lane["batches"] += len(passing)
        _answer(passing, None)
        return True


Waiting = tuple[LaneWork, "asyncio.Future[None]"]


def _consumed(future: asyncio.Future[None]) -> None:
    """An upload answered before its pass does not read the pass's outcome: read it here
    (a failed pass leaves the batch queued for the sweep, already logged and counted)."""
    if not future.cancelled():
        future.exception()


class LaneFailed(Exception):
    """The batch is stored, its alerts and record entries are not yet: the agent sends it
    again, and that retry claims the queued work."""


def _answer(waiting: list[Waiting], error: Exception | None) -> None:
    for _, future in waiting:
        if not future.done():
            if error is None:
                future.set_result(None)
            else:
                future.set_exception(error)


INGEST_LANE = web.AppKey("ingest_lane", IngestLane)


async def sweep_once(app: web.Application) -> int:
    """One sweep, if this node holds the job's lease."""
    store = app[STORE]
    if not await holds_lease(store, JOB, SWEEP_EVERY_SECONDS):
        return 0
    before = iso_utc(datetime.now(UTC) - timedelta(seconds=SWEEP_AFTER_SECONDS))
    done = await store.write(sweep, before, SWEEP_BATCHES)
    if done:
        log.warning("ingest lane: did the work of %d batches a node left queued", done)
    return done


async def _sweep_loop(app: web.Application) -> None:
    while True:
        await asyncio.sleep(SWEEP_EVERY_SECONDS)
        try:
            await sweep_once(app)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("ingest lane sweep failed")


async def _context(app: web.Application) -> AsyncIterator[None]:
    shared = getattr(app[STORE], "shared_by_nodes", False)
    async with background_task(JOB, _sweep_loop(app) if shared else None):
        yield
        await app[INGEST_LANE].finish(STOP_WAIT_SECONDS)


def install(app: web.Application) -> None:
    app[INGEST_LANE] = IngestLane(app[STORE], app[INGEST_COUNTS], app[CONFIG].lane_ack_wait_seconds)
    app.cleanup_ctx.append(_context)
