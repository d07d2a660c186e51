"""PostgreSQL restarted (`pg_ctl restart -m fast`) while laptops upload through two real
collector nodes: the nodes reconnect, the agents' uploaders retry what was not
acknowledged, and no acknowledged event is lost (nor stored twice)."""
from __future__ import annotations

import shutil
import tempfile
import threading
from pathlib import Path

import psycopg
import pytest
import requests
from support.fleet_agents import InFlight, make_agents, run_round
from support.fleet_nodes import collector_fleet
from support.waiting import wait_until

ADMIN_PASSWORD = "fleet admin password 42"
AGENTS = 60
ROUNDS = 3
EVENTS_PER_ROUND = 5


def stored_ids(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        return [row[0] for row in conn.execute("SELECT id FROM events")]


def ready(base_url: str) -> bool:
    try:
        return requests.get(f"{base_url}/readyz", timeout=5).status_code == 200
    except requests.RequestException:
        return False


@pytest.mark.timeout(240)
def test_postgresql_restart_while_agents_upload_loses_no_acknowledged_event(pg_cluster, pg_url, tmp_path):
    spool_dir = Path(tempfile.mkdtemp(prefix="fleet-spools-", dir="/dev/shm" if Path("/dev/shm").is_dir() else None))
    with collector_fleet(tmp_path, pg_url, 2, ADMIN_PASSWORD) as fleet:
        in_flight = InFlight()
        agents = make_agents(AGENTS, spool_dir, fleet.secret_file, fleet.urls, in_flight)
        try:
            assert all(run_round(agents, EVENTS_PER_ROUND)), fleet.logs()
            results: list[bool] = []

            def upload_rounds() -> None:
                for _ in range(ROUNDS):
                    results.extend(run_round(agents, EVENTS_PER_ROUND))

            uploading = threading.Thread(target=upload_rounds)
            uploading.start()
            try:
                wait_until(lambda: sum(in_flight.by_node.values()) > 0, 30, "uploads in flight", interval=0.002)
                pg_cluster.restart()
            finally:
                uploading.join(timeout=180)
            assert not uploading.is_alive()
            assert results and all(results), "some laptops could not empty their spools"
            assert all(agent.spool.depth() == 0 and not agent.spool.dead_letters() for agent in agents)
            for node in fleet.nodes:
                wait_until(lambda node=node: ready(node.url), 30, f"{node.name} ready again")

            spooled = [event_id for agent in agents for event_id in agent.spooled]
            stored = stored_ids(pg_url)
            assert len(stored) == len(set(stored)), "an event id is stored twice"
            lost = set(spooled) - set(stored)
            assert not lost, f"{len(lost)} acknowledged events lost"
            assert len(stored) == len(spooled) == AGENTS * EVENTS_PER_ROUND * (ROUNDS + 1)
        finally:
            for agent in agents:
                agent.close()
            shutil.rmtree(spool_dir, ignore_errors=True)
