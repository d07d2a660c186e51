"""Three real collector nodes on one PostgreSQL take uploads from a few hundred simulated
laptops running the agent's real enrollment, spool and uploader over HTTP. One node is
SIGKILLed while batches are in flight to it; the laptops go on with the other nodes.
Afterwards the database holds every event exactly once, one active alert per key, and a
record chain that verifies."""
from __future__ import annotations

import asyncio
import shutil
import tempfile
import threading
import time
from pathlib import Path

import psycopg
import pytest
from support.fleet_agents import InFlight, make_agents, run_round
from support.fleet_nodes import collector_fleet
from support.waiting import wait_until

from shadowmap.collector.api.ingest_lane import sweep
from shadowmap.collector.record import chain
from shadowmap.collector.store import open_store
from shadowmap.contract.enums import ACTIVE_ALERT_STATUSES

ADMIN_PASSWORD = "fleet admin password 42"
AGENTS = 240
EVENTS_PER_ROUND = 6
BUDGET_SECONDS = 60


def stored_event_ids(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        return [row[0] for row in conn.execute("SELECT id FROM events")]


def duplicate_active_alerts(url: str) -> list[tuple[str, int]]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT dedupe_key, count(*) FROM alerts WHERE status = ANY(%s) GROUP BY dedupe_key HAVING count(*) > 1",
            (list(ACTIVE_ALERT_STATUSES),)).fetchall()


def active_alert_count(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM alerts WHERE status = ANY(%s)",
                           (list(ACTIVE_ALERT_STATUSES),)).fetchone()
        return int(row[0]) if row else 0


async def sweep_left_work(url: str) -> int:
    """What the fleet's sweep job does (on a live node, once a batch has waited
    SWEEP_AFTER_SECONDS), at once: the lane work of batches a node acknowledged, then died
    before its pass. Returns how many batches it did."""
    store = open_store(url, read_workers=1)
    await store.open()
    try:
        done = 0
        while swept := await store.write(sweep, "2999-01-01T00:00:00.000000Z", 50):
            done += swept
        return done
    finally:
        await store.close()


async def walk_chain(url: str) -> tuple[int, int | None, str]:
    """The record chain walked through the store, as `record check` does: (entries, broken at, why)."""
    store = open_store(url, read_workers=1)
    await store.open()
    try:
        return await store.read(chain.verify_store)
    finally:
        await store.close()


def assert_each_event_stored_once(url: str, spooled: list[str]) -> None:
    stored = stored_event_ids(url)
    assert len(stored) == len(set(stored)), "an event id is stored twice"
    missing = set(spooled) - set(stored)
    assert not missing, f"{len(missing)} acknowledged events lost, e.g. {sorted(missing)[:3]}"
    assert len(stored) == len(spooled)


@pytest.mark.timeout(240)
def test_three_nodes_one_killed_mid_batch_lose_and_duplicate_nothing(pg_url, tmp_path):
    spool_dir = Path(tempfile.mkdtemp(prefix="fleet-spools-", dir="/dev/shm" if Path("/dev/shm").is_dir() else None))
    with collector_fleet(tmp_path, pg_url, 3, ADMIN_PASSWORD) as fleet:
        started = time.monotonic()    # the budget is the fleet's work, not three interpreters starting
        in_flight = InFlight()
        agents = make_agents(AGENTS, spool_dir, fleet.secret_file, fleet.urls, in_flight)
        try:
            # round 1: every laptop enrolls and uploads, spread over the three nodes
            assert all(run_round(agents, EVENTS_PER_ROUND)), fleet.logs()
            assert len(stored_event_ids(pg_url)) == AGENTS * EVENTS_PER_ROUND

            # round 2, and node 0 is SIGKILLed while requests to it are under way
            victim = fleet.nodes[0]
            results: list[bool] = []
            round_two = threading.Thread(target=lambda: results.extend(run_round(agents, EVENTS_PER_ROUND)))
            round_two.start()
            try:
                wait_until(lambda: in_flight.at(victim.url) > 0, 30, "an upload in flight to node 0", interval=0.002)
                victim.kill()
            finally:
                round_two.join(timeout=120)
            assert not round_two.is_alive()
            assert results and all(results), "some laptops could not empty their spools"
            assert sum(agent.attempts_failed for agent in agents) > 0, "no laptop noticed the killed node"
            assert all(agent.spool.depth() == 0 and not agent.spool.dead_letters() for agent in agents)

            spooled = [event_id for agent in agents for event_id in agent.spooled]
            assert_each_event_stored_once(pg_url, spooled)
            asyncio.run(sweep_left_work(pg_url))   # (node 0's acked batches whose pass it never made)
            with psycopg.connect(pg_url) as conn:
                assert conn.execute("SELECT count(*) FROM ingest_lane").fetchone() == (0,)
            assert duplicate_active_alerts(pg_url) == []
            assert active_alert_count(pg_url) > 0, "the secrets pasted should have raised alerts"
            entries, broken, why = asyncio.run(walk_chain(pg_url))
            assert broken is None, f"the record chain breaks at entry {broken}: {why}"
            assert entries >= len(spooled), "every stored event has its record entry"
        finally:
            for agent in agents:
                agent.close()
            shutil.rmtree(spool_dir, ignore_errors=True)
        assert time.monotonic() - started < BUDGET_SECONDS, "the multi-node test ran past its budget"
