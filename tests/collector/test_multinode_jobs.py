"""Background jobs run once across the fleet: three real collector nodes on one PostgreSQL,
an outbound sink on loopback. Every alert message the nodes queue reaches the sink exactly
once (without the lease each node would deliver the queue on its own); the node holding the
delivery lease is then SIGKILLed while idle, and another node takes the job over once the
lease expires: the next alerts arrive, once each."""
from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

import psycopg
import pytest
from support.fleet_agents import InFlight, make_agents, run_round
from support.fleet_nodes import collector_fleet
from support.processes import repo_env, shadowmap_argv
from support.waiting import wait_until

ADMIN_PASSWORD = "fleet jobs admin password"
AGENTS = 40
EVENTS_PER_ROUND = 8
LEASE_SECONDS = 2 * 2.0 + 30  # background.holds_lease: two rounds of the sender's 2 s poll + the margin


class Sink:
    """A loopback HTTP receiver in its own thread, counting what it is sent."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        self.url = ""
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        from aiohttp import web

        async def handle(request: web.Request) -> web.Response:
            self.bodies.append(await request.read())
            return web.Response(text="ok")

        async def start() -> web.AppRunner:
            app = web.Application()
            app.router.add_post("/{tail:.*}", handle)
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", 0).start()
            self.url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
            return runner

        asyncio.set_event_loop(self._loop)
        self._runner = self._loop.run_until_complete(start())
        self._ready.set()
        self._loop.run_forever()

    def __enter__(self) -> Sink:
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc) -> None:
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


def queue_counts(url: str) -> tuple[int, int]:
    """(messages queued for the sink, messages marked delivered)."""
    with psycopg.connect(url) as conn:
        total, delivered = conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE status = 'delivered') FROM outbound_queue").fetchone()
        return int(total), int(delivered)


def delivery_holder(url: str) -> str | None:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT holder FROM job_leases WHERE name = 'outbound-delivery'").fetchone()
        return str(row[0]) if row else None


def all_delivered(url: str, sink: Sink, more_than: int = 0) -> bool:
    """More than ``more_than`` messages queued, every one delivered and received (one snapshot)."""
    total, delivered = queue_counts(url)
    return total > more_than and delivered == total and len(sink.bodies) >= total


def assert_none_twice(url: str, sink: Sink) -> None:
    received = len(sink.bodies)  # first: whatever is queued later cannot make it look duplicated
    total, _ = queue_counts(url)
    assert received <= total, f"{received} deliveries for {total} messages: some went twice"


@pytest.mark.timeout(240)
def test_outbound_delivery_runs_on_one_node_and_moves_when_it_dies(pg_url, tmp_path):
    spool_dir = Path(tempfile.mkdtemp(prefix="fleet-jobs-", dir="/dev/shm" if Path("/dev/shm").is_dir() else None))
    key_file = tmp_path / "secrets.key"  # the nodes share one secrets key (the sinks are sealed with it)
    env = {"SHADOWMAP_SECRETS_KEY_FILE": str(key_file), "SHADOWMAP_OUTBOUND_ALLOW_NETWORKS": "127.0.0.0/8"}
    with Sink() as sink, collector_fleet(tmp_path, pg_url, 3, ADMIN_PASSWORD, extra_env=env) as fleet:
        sinks = tmp_path / "sinks.json"
        sinks.write_text(json.dumps([{"name": "hook", "kind": "webhook", "url": sink.url, "topics": ["alerts"]}]))
        done = subprocess.run(shadowmap_argv("collector", "record", "sinks", "--set", str(sinks), "--db", pg_url),
                              env=repo_env(env), capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        agents = make_agents(AGENTS, spool_dir, fleet.secret_file, fleet.urls, InFlight())
        try:
            assert all(run_round(agents, EVENTS_PER_ROUND)), fleet.logs()
            wait_until(lambda: all_delivered(pg_url, sink), 60, "every queued alert message delivered")
            assert_none_twice(pg_url, sink)
            total, _ = queue_counts(pg_url)

            # the node delivering dies (idle: nothing in flight); another takes the job over
            holder = delivery_holder(pg_url)
            [victim] = [node for node in fleet.nodes if f":{node.proc.popen.pid}:" in (holder or "")]
            victim.kill()
            survivors = [node.url for node in fleet.nodes if node is not victim]
            more = make_agents(AGENTS, spool_dir / "after", fleet.secret_file, survivors, InFlight())
            try:
                assert all(run_round(more, EVENTS_PER_ROUND)), fleet.logs()
                wait_until(lambda: all_delivered(pg_url, sink, more_than=total), LEASE_SECONDS + 60,
                           "the next node delivering once the lease expired")
            finally:
                for agent in more:
                    agent.close()
            assert_none_twice(pg_url, sink)
            assert delivery_holder(pg_url) not in (None, holder)
        finally:
            for agent in agents:
                agent.close()
            shutil.rmtree(spool_dir, ignore_errors=True)
