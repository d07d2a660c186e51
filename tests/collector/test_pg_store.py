"""The PostgreSQL backend: `--db` parsing, the store on both backends, and the races several
collector nodes on one database must survive (the record's chain, alert dedupe, the same
batch posted to two nodes), on the session's throwaway PostgreSQL (tests/support/pg_cluster)."""
from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner
from support.fleet_nodes import two_node_configs

from shadowmap.collector import record
from shadowmap.collector.app import create_app
from shadowmap.collector.cli import collector
from shadowmap.collector.config import CollectorConfig
from shadowmap.collector.record import chain
from shadowmap.collector.store import open_store
from shadowmap.collector.store.postgres.dialect import translate
from shadowmap.collector.store.sqlite import accounts, leases
from shadowmap.collector.store.url import DatabaseUrlError, PostgresUrl, SqliteUrl, parse_database_url

BOTH = pytest.mark.parametrize("backend", ("sqlite", "postgresql"), indirect=True)


# ---- --db --------------------------------------------------------------------------------

def test_db_url_names_a_sqlite_file_or_a_postgres_database(tmp_path: Path) -> None:
    assert parse_database_url("var/collector.db") == SqliteUrl(Path("var/collector.db"))
    assert parse_database_url(f"sqlite:///{tmp_path}/c.db") == SqliteUrl(tmp_path / "c.db")
    assert parse_database_url("sqlite:rel/c.db") == SqliteUrl(Path("rel/c.db"))
    url = "postgresql://shadowmap@127.0.0.1:5432/collector"
    assert parse_database_url(url) == PostgresUrl(url)
    socket_url = "postgresql://shadowmap@/collector?host=/run/postgresql"
    assert parse_database_url(socket_url) == PostgresUrl(socket_url)


@pytest.mark.parametrize("url", ["postgresql://shadowmap:hunter2@db/collector",
                                 "postgresql://shadowmap@db/collector?password=hunter2"])
def test_a_password_in_the_url_is_refused(url: str) -> None:
    with pytest.raises(DatabaseUrlError, match="password"):
        parse_database_url(url)


def test_the_password_comes_from_a_file_or_the_environment(tmp_path: Path, monkeypatch) -> None:
    secret = tmp_path / "pw"
    secret.write_text("from-file\n")
    monkeypatch.setenv("SHADOWMAP_DB_PASSWORD", "from-env")
    assert "from-file" in parse_database_url("postgresql://u@h/db", secret).conninfo()
    assert "from-env" in parse_database_url("postgresql://u@h/db").conninfo()
    with pytest.raises(DatabaseUrlError):
        parse_database_url("sqlite:///x.db", secret)


def test_the_cli_refuses_a_password_on_the_command_line() -> None:
    result = CliRunner().invoke(collector, ["migrate", "--db", "postgresql://u:secret@127.0.0.1/db"])
    assert result.exit_code != 0
    assert "password" in result.output


def test_dialect_rewrites_what_postgresql_spells_differently() -> None:
    assert translate("SELECT user FROM t WHERE a = ? AND b LIKE '%x'").sql == \
        "SELECT \"user\" FROM t WHERE a = %s AND b LIKE '%%x'"
    numbered = translate("SELECT ?2, ?1")
    assert (numbered.sql, numbered.order) == ("SELECT %s, %s", (1, 0))
    assert translate("INSERT OR IGNORE INTO t (a) VALUES (?)").sql == \
        "INSERT INTO t (a) VALUES (%s) ON CONFLICT DO NOTHING"
    assert "json_array_elements_text((%s)::json)" in translate("SELECT value FROM json_each(?)").sql
    assert translate("SET a = min(t.a, excluded.a), n = max(n)").sql == "SET a = LEAST(t.a, excluded.a), n = max(n)"
    # a list bound as a parameter: an array the planner probes an index with
    assert translate("SELECT 1 FROM t WHERE k IN (SELECT value FROM json_each(?)) AND n NOT IN "
                     "(SELECT CAST(value AS BIGINT) FROM json_each(?))").sql == (
        "SELECT 1 FROM t WHERE k = ANY(ARRAY(SELECT value FROM json_array_elements_text((%s)::json))) AND n <> ALL("
        "ARRAY(SELECT CAST(value AS BIGINT) FROM json_array_elements_text((%s)::json)))")
    # a list held in a column, or a subquery that is more than the list: as they were
    for kept in ("SELECT 1 FROM a WHERE d IN (SELECT value FROM json_each(a.ids))",
                 "SELECT 1 FROM a WHERE d IN (SELECT value FROM json_each(?) WHERE value != '')"):
        assert "= ANY" not in translate(kept).sql and " IN (SELECT value FROM json_array_elements_text(" in translate(kept).sql


def test_a_list_parameter_probes_the_index_of_a_table_of_thousands(pg_url: str) -> None:
    """The active alerts of a pass's dedupe keys are looked up in the partial unique index,
    not by reading every alert (measured: 4.5 ms for 20,000 alerts by a scan, 0.1 by the index)."""
    from shadowmap.collector.store.sqlite.alerts import ACTIVE_ALERTS
    asyncio.run(_migrated(pg_url))
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("INSERT INTO alerts (dedupe_key, finding_id, finding, severity, tool_id, \"user\", device_ids, "
                     "entity_types, data_classes, count, first_seen, last_seen) SELECT 'k' || g, 'f', 'F', 'high', 't', "
                     "'u' || g, '[]', '[]', '[]', 1, '2026-12-01', '2026-12-01' FROM generate_series(1, 20000) g")
        conn.execute("ANALYZE alerts")
        plan = "\n".join(row[0] for row in conn.execute("EXPLAIN " + translate(ACTIVE_ALERTS).sql,
                                                        (json.dumps([f"k{n}" for n in range(10)]),)))
    assert "alerts_active_dedupe" in plan and "Seq Scan on alerts" not in plan, plan


async def _migrated(url: str) -> None:
    store = open_store(url, read_workers=1)
    await store.open()
    await store.close()


# ---- the store on both backends ------------------------------------------------------------

@BOTH
async def test_migrate_applies_pending_migrations_then_none(config: CollectorConfig) -> None:
    db = config.db_url or str(config.db_path)
    first = await asyncio.to_thread(CliRunner().invoke, collector, ["migrate", "--db", db])
    assert first.exit_code == 0, first.output
    assert "applied migrations" in first.output and "95" in first.output
    again = await asyncio.to_thread(CliRunner().invoke, collector, ["migrate", "--db", db])
    assert again.exit_code == 0, again.output
    assert "up to date" in again.output


@BOTH
async def test_a_failed_write_leaves_nothing_and_the_store_goes_on(config: CollectorConfig) -> None:
    store = open_store(config.database)
    await store.open()
    try:
        def create_then_fail(db):
            accounts.create_account(db, "mallory", "hash")
            raise RuntimeError("boom")
        with pytest.raises(RuntimeError):
            await store.write(create_then_fail)
        assert not await store.read(accounts.account_exists, "mallory")
        assert await store.write(accounts.create_account, "alice", "hash")
        assert not await store.write(accounts.create_account, "alice", "hash")  # INSERT OR IGNORE, portable
        assert await store.read(accounts.usernames) == ["alice"]
    finally:
        await store.close()


@BOTH
async def test_a_job_lease_has_one_holder_until_it_expires(config: CollectorConfig) -> None:
    store = open_store(config.database)
    await store.open()
    try:
        now, later, after = "2026-12-01T00:00:00Z", "2026-12-01T00:01:00Z", "2026-12-01T00:02:00Z"
        assert await store.write(leases.take, "retention", "node-a", now, later)
        assert not await store.write(leases.take, "retention", "node-b", now, later)
        assert await store.write(leases.take, "retention", "node-a", now, later)  # renewed by its holder
        assert await store.write(leases.take, "retention", "node-b", after, "2026-12-01T00:03:00Z")  # expired
        assert (await store.read(leases.holders))["retention"][0] == "node-b"
    finally:
        await store.close()


# ---- races between nodes (PostgreSQL) --------------------------------------------------------

async def test_nodes_starting_at_once_apply_the_migrations_once(pg_url: str) -> None:
    url = parse_database_url(pg_url)
    stores = [open_store(url) for _ in range(3)]
    try:
        await asyncio.gather(*(store.open() for store in stores))
        applied = sorted((store.applied_migrations for store in stores), key=len)
        assert applied[0] == applied[1] == [] and applied[2], applied  # one node applied them, under the lock
        with psycopg.connect(pg_url) as conn:
            numbers = [row[0] for row in conn.execute("SELECT number FROM _migrations ORDER BY number")]
        assert numbers == applied[2]
    finally:
        for store in stores:
            await store.close()


async def test_two_nodes_appending_to_the_record_make_one_chain(pg_url: str) -> None:
    """Two stores (two nodes) append at once from many threads: one linear chain."""
    url = parse_database_url(pg_url)
    stores = [open_store(url), open_store(url)]
    for store in stores:
        await store.open()
    try:
        appends_each = 40

        async def append_many(store, node: str) -> None:
            await asyncio.gather(*(store.write(record.append, "note", f"{node}:{n}", node, {"n": n})
                                   for n in range(appends_each)))

        await asyncio.gather(append_many(stores[0], "a"), append_many(stores[1], "b"))
        checked, broken, why = await stores[0].read(chain.verify_store)
        assert (checked, broken, why) == (2 * appends_each, None, "ok")
        subjects = {entry["subject"] for entry in await stores[1].read(lambda db: list(chain.entries(db, 1, 80)))}
        assert len(subjects) == 2 * appends_each
    finally:
        for store in stores:
            await store.close()


async def test_the_same_batch_posted_to_two_nodes_at_once_is_stored_once(pg_url: str, aiohttp_client, make, tmp_path: Path) -> None:
    configs = two_node_configs(tmp_path, pg_url)
    nodes = [await make.start_client(aiohttp_client, config, create_app(config, parse_workers=0))
             for config in configs]
    enrolled = await make.enroll(nodes[0], configs[0])
    headers = {"Authorization": f"Bearer {enrolled['node_key']}"}
    batches = [[make.paste(enrolled["device_id"]) for _ in range(20)] for _ in range(5)]
    for batch in batches:
        answers = await asyncio.gather(*(node.post("/api/v1/events", json={"events": batch}, headers=headers)
                                         for node in nodes))
        for answer in answers:
            assert answer.status == 200, await answer.text()
            assert (await answer.json())["acked"] == [event["id"] for event in batch]
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT count(*), count(DISTINCT id) FROM events").fetchone() == (100, 100)
        # one active alert per finding x tool x user, each counting every event once
        active = conn.execute("SELECT dedupe_key, count FROM alerts WHERE status IN ('open', 'acknowledged')").fetchall()
    assert active and len({key for key, _ in active}) == len(active)
    assert {count for _, count in active} == {100}, active
    checked, broken, _ = await _verify(nodes[1])
    assert (checked, broken) == (100, None)


async def _verify(client):
    from shadowmap.collector.state import STORE
    return await client.app[STORE].read(chain.verify_store)


async def test_concurrent_raises_for_one_alert_key_leave_one_active_alert(pg_url: str, aiohttp_client, make, tmp_path: Path) -> None:
    """Different events with the same finding x tool x user, posted at once to two nodes by
    two devices: one active alert, counting all of them."""
    configs = two_node_configs(tmp_path, pg_url)
    nodes = [await make.start_client(aiohttp_client, config, create_app(config, parse_workers=0))
             for config in configs]
    devices = [await make.enroll(nodes[0], configs[0], host_identifier=f"host-{n}") for n in range(2)]
    posts = []
    for round_ in range(6):
        for index, device in enumerate(devices):
            events = [make.paste(device["device_id"], user="bob") for _ in range(5)]
            node = nodes[(round_ + index) % 2]
            posts.append(node.post("/api/v1/events", json={"events": events},
                                   headers={"Authorization": f"Bearer {device['node_key']}"}))
    for answer in await asyncio.gather(*posts):
        assert answer.status == 200, await answer.text()
    with psycopg.connect(pg_url) as conn:
        rows = conn.execute("SELECT dedupe_key, count FROM alerts WHERE status IN ('open', 'acknowledged')").fetchall()
    assert rows and len({key for key, _ in rows}) == len(rows)  # never two active alerts for one key
    assert {count for _, count in rows} == {60}, rows  # each counting all 60 events
    assert (await _verify(nodes[0]))[1] is None


# ---- PostgreSQL going away and coming back ----------------------------------------------------

RECONNECT_SECONDS = 30

async def test_readyz_fails_while_postgresql_is_down_and_no_acked_event_is_lost(aiohttp_client, make,
                                                                                tmp_path: Path) -> None:
    from support.pg_cluster import PgCluster, find_bindir
    if find_bindir() is None:
        pytest.skip("PostgreSQL server binaries not found")
    cluster = PgCluster()  # its own: this test stops and restarts it
    try:
        await asyncio.to_thread(cluster.start)
        url = await asyncio.to_thread(cluster.create_database, "collector")
        config = CollectorConfig(db_path=tmp_path / "collector.db", db_url=url, admin_password="a long admin pw")
        node = await make.start_client(aiohttp_client, config, create_app(config, parse_workers=0))
        device = await make.enroll(node, config)
        headers = {"Authorization": f"Bearer {device['node_key']}"}
        acked: set[str] = set()

        async def post(n: int) -> int:
            events = [make.heartbeat(device["device_id"]) for _ in range(n)]
            answer = await node.post("/api/v1/events", json={"events": events}, headers=headers)
            if answer.status == 200:
                acked.update((await answer.json())["acked"])
            return answer.status

        assert await post(10) == 200
        assert (await node.get("/readyz")).status == 200
        await asyncio.to_thread(cluster.stop)
        assert (await node.get("/readyz")).status == 503
        assert await post(10) != 200  # not acknowledged: the agent keeps the events and retries
        await asyncio.to_thread(cluster.start)
        # reconnected: the pool makes new connections with its own backoff (what a load
        # balancer's readiness probe sees); bounded, so a node that never comes back fails here
        back = time.monotonic()
        while (await node.get("/readyz")).status != 200:
            assert time.monotonic() - back < RECONNECT_SECONDS, "the node did not reconnect to PostgreSQL"
            await asyncio.sleep(0.25)
        print(f"ready again {time.monotonic() - back:.1f} s after PostgreSQL came back")
        assert await post(10) == 200
        with psycopg.connect(url) as conn:
            stored = {row[0] for row in conn.execute("SELECT id FROM events")}
        assert acked <= stored and len(acked) == 20
    finally:
        await asyncio.to_thread(cluster.destroy)


def test_threads_of_one_store_write_concurrently(pg_url: str) -> None:
    """Writes are not funnelled through one thread: two transactions can be open at once."""
    url = parse_database_url(pg_url)

    async def run() -> int:
        store = open_store(url)
        await store.open()
        inside = threading.Barrier(2, timeout=10)

        def meet(db) -> int:
            inside.wait()  # both transactions open together, or this times out
            db.execute("SELECT 1")
            return 1
        try:
            return sum(await asyncio.gather(store.write(meet), store.write(meet)))
        finally:
            await store.close()

    assert asyncio.run(run()) == 2


# ---- events partitioned by month ---------------------------------------------------------------

def _batch(ts_and_received: list[tuple[str, str]]) -> list[tuple[bytes, bytes, str]]:
    """One insert_batch argument set per event: (rows JSON, bodies, received_at)."""
    import orjson
    batches = []
    for ts, received in ts_and_received:
        body = orjson.dumps({"id": str(uuid.uuid4()), "ts": ts})
        event_id = orjson.loads(body)["id"]
        batches.append((orjson.dumps([[event_id, "agent.heartbeat", "alice", ts, 1, len(body)]]), body, received))
    return batches


async def test_retention_drops_whole_months_and_deletes_the_rest_row_by_row(pg_url: str) -> None:
    from shadowmap.collector.store.sqlite import events
    from shadowmap.collector.store.sqlite import record as record_store

    store = open_store(parse_database_url(pg_url))
    await store.open()
    try:
        await store.write(lambda db: db.execute("SELECT shadowmap_event_partitions(CAST(? AS date), 2)",
                                                ("2026-01-01",)))
        old = [("2026-01-10T00:00:00Z", "2026-01-10T00:00:01Z")] * 3  # January, received in January
        late = [("2026-02-03T00:00:00Z", "2026-06-01T00:00:00Z")]     # February, received in June
        feb = [("2026-02-04T00:00:00Z", "2026-02-04T00:00:01Z")] * 2
        for rows_json, bodies, received in _batch(old + late + feb):
            await store.write(events.insert_batch, rows_json, bodies, "device-1", received)
        purged = await store.write(record_store.delete_events_received_before, "2026-03-01T00:00:00Z")
        assert purged == 5  # January's 3 with its partition, February's 2 row by row
        with psycopg.connect(pg_url) as conn:
            partitions = {row[0] for row in conn.execute(
                "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
                " WHERE i.inhparent = 'events'::regclass")}
            assert "events_2026_01" not in partitions  # dropped whole
            assert "events_2026_02" in partitions      # kept: it holds an event received after the horizon
            assert conn.execute("SELECT ts FROM events").fetchall() == [("2026-02-03T00:00:00Z",)]
    finally:
        await store.close()
