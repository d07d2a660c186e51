"""`shadowmap collector move`: a SQLite install holding a month of events (posted through
the real ingest path) moves into an empty PostgreSQL database; every table's count matches,
the events land in their month partitions and the record chain verifies there. A target
that already holds rows is refused."""
from __future__ import annotations

import sqlite3
import subprocess
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from support.processes import REPO, repo_env, shadowmap_argv

from shadowmap.collector.record import chain
from shadowmap.collector.store import open_store

DAYS = 30
EVENTS_PER_DAY = 60


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(shadowmap_argv("collector", *args), cwd=REPO, env=repo_env(), capture_output=True,
                          text=True, timeout=180)


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


async def fill_a_month(client, device, make) -> int:
    """A month of a laptop's events through POST /api/v1/events; returns how many."""
    start = datetime.now(UTC) - timedelta(days=DAYS)
    posted = 0
    for day in range(DAYS):
        events = []
        for n in range(EVENTS_PER_DAY):
            ts = iso(start + timedelta(days=day, minutes=n * 7))
            if n % 3 == 0:
                events.append(make.observed(device["device_id"], ts=ts))
            elif n % 10 == 1:   # a secret pasted now and then: alerts and the record
                events.append(make.paste(device["device_id"], ts=ts, user=f"user{day % 4}"))
            else:
                events.append(make.paste(device["device_id"], ts=ts, action="allow",
                                         findings=[make.finding("EMAIL_ADDRESS", "pii")]))
        response = await client.post("/api/v1/events", json={"events": events}, headers=device["headers"])
        assert response.status == 200, await response.text()
        assert len((await response.json())["acked"]) == len(events)
        posted += len(events)
    return posted


def sqlite_counts(path) -> dict[str, int]:
    conn = sqlite3.connect(path)
    try:
        names = [row[0] for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name != '_migrations'")]
        return {name: conn.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] for name in names}
    finally:
        conn.close()


async def chain_on(url: str) -> tuple[int, int | None, str]:
    """The record chain walked through the store (what `record check` does): (entries, broken at, why)."""
    store = open_store(url, read_workers=1)
    await store.open()
    try:
        return await store.read(chain.verify_store)
    finally:
        await store.close()


def postgres_count(url: str, table: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # the install that moves is SQLite's
async def test_a_month_of_sqlite_moves_to_postgresql_with_counts_and_chain_intact(client, device, make, config,
                                                                                  pg_url):
    posted = await fill_a_month(client, device, make)
    await client.close()                     # the install is stopped before it moves
    source = sqlite_counts(config.db_path)
    source_chain, broken, _ = await chain_on(str(config.db_path))
    assert broken is None and source_chain > 0
    assert source["events"] == posted
    assert source["alerts"] > 0
    assert sum(count for name, count in source.items() if name.startswith("record")) > 0

    moved = run_cli("move", "--from", f"sqlite:///{config.db_path}", "--to", pg_url, "--batch", "500")
    assert moved.returncode == 0, moved.stdout + moved.stderr
    assert "OK" in moved.stdout.splitlines()[-1]
    assert "events: " in moved.stderr            # progress, per table

    for table, count in source.items():
        assert postgres_count(pg_url, table) == count, table
    assert postgres_count(pg_url, "event_ids") == posted
    with psycopg.connect(pg_url) as conn:
        # the month's events sit in month partitions, none in the catch-all
        assert conn.execute("SELECT count(*) FROM events_default").fetchone()[0] == 0
        # alerts raised after the move get ids after the moved ones
        highest = conn.execute("SELECT max(id) FROM alerts").fetchone()[0]
        assert conn.execute("SELECT nextval(pg_get_serial_sequence('alerts', 'id'))").fetchone()[0] > highest

    assert f"record chain: {source_chain} entries verified on the target" in moved.stdout
    assert await chain_on(pg_url) == (source_chain, None, "ok")     # walked again, apart from the mover

    again = run_cli("move", "--from", str(config.db_path), "--to", pg_url)
    assert again.returncode != 0
    assert "not empty" in again.stderr
