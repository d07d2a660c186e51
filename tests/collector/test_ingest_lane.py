"""The ingest lane (shadowmap.collector.api.ingest_lane): batches' alerts, usage rollup and
record entries done for many batches in one pass come out as each batch alone would make
them, and so does the work a dead node left queued, whether the agent's retry adopts it
or the sweep takes it. On both backends; the coalescing itself on PostgreSQL, over HTTP."""
from __future__ import annotations

import asyncio
import gzip
import json
import uuid
from pathlib import Path

import pytest

from shadowmap.collector.api import ingest_lane as ingest_lane_api
from shadowmap.collector.api.ingest_counts import INGEST_COUNTS
from shadowmap.collector.api.ingest_lane import run_lane, store_batch, sweep
from shadowmap.collector.api.ingest_parse import parse_batch
from shadowmap.collector.api.ingest_store import store_events
from shadowmap.collector.config import CollectorConfig
from shadowmap.collector.record.chain import verify_store
from shadowmap.collector.state import STORE
from shadowmap.collector.store import open_store
from shadowmap.collector.store.sqlite import ingest_lane
from shadowmap.collector.store.sqlite.accounts import create_api_token

DEVICES = ("dev-a", "dev-b", "dev-c")
FAR_FUTURE = "2999-01-01T00:00:00.000000Z"


def batches(make) -> list[tuple[str, list[dict]]]:
    """Batches of three devices: leaks of two findings for several users and tools (some
    bump the same alert across devices), sightings of vendors (org-wide alerts), heartbeats,
    an unknown tool, and a decision on a warned paste sent in the batch after it."""
    out = []
    warned = make.paste("dev-a", user="user-1", action="warn", tool_id="claude",
                        findings=[make.finding("EMAIL_ADDRESS", "pii")])
    for n in range(6):
        device = DEVICES[n % 3]
        events = [make.heartbeat(device), make.observed(device, user=f"user-{n % 2}")]
        for i in range(4):
            events.append(make.paste(device, user=f"user-{i % 2}", tool_id=("chatgpt", "claude", "deepseek")[i % 3],
                                     action=("block", "warn", "allow")[(n + i) % 3],
                                     findings=[make.finding(("AWS_ACCESS_KEY", "EMAIL_ADDRESS")[i % 2],
                                                            ("secret", "pii")[i % 2])]))
        out.append((device, events))
    out[0][1].append(warned)
    out[1][1].append(make.observed(out[1][0], data={"tool_id": None, "source": "extension",
                                                  "domain": "chat.fresh-llm.ai", "browser": "chrome"}))
    decision = {"schema": "shadowmap.event/1", "id": str(uuid.uuid4()), "type": "paste.override", "device_id": "dev-a",
                "user": "user-1", "ts": warned["ts"], "data": {
                    "scan_id": warned["id"], "decision": "send_anyway", "tool_id": "claude", "domain": "claude.ai",
                    "channel": "paste"}}
    out[3] = ("dev-a", [dict(event, device_id="dev-a") for event in out[3][1]] + [decision])
    return out


def parsed(device: str, events: list[dict]):
    batch = parse_batch(json.dumps({"events": events}).encode(), "", device, CollectorConfig())
    assert not batch.rejected, batch.rejected
    return batch


def snapshot(db) -> dict:
    """What the lane writes, in forms that do not depend on row ids or write times."""
    alerts = {row["dedupe_key"]: row for row in db.query(
        "SELECT dedupe_key, finding_id, severity, tool_id, vendor, user, device_ids, users, entity_types, "
        "data_classes, count, first_seen, last_seen, status, outcomes FROM alerts")}
    links = sorted((row["dedupe_key"], row["event_id"]) for row in db.query(
        "SELECT a.dedupe_key, l.event_id FROM alert_events l JOIN alerts a ON a.id = l.alert_id"))
    return {
        "alerts": alerts, "links": links,
        "usage": sorted(tuple(row.values()) for row in db.query(
            "SELECT day, tool_id, device_id, user, data_class, blocked, events FROM usage_daily")),
        "unknown": sorted(tuple(row.values()) for row in db.query("SELECT kind, name, count FROM unknown_tools")),
        "record": [tuple(row.values()) for row in db.query(
            "SELECT kind, subject, actor, detail_hash FROM record_entries ORDER BY seq")],
    }


async def opened(config: CollectorConfig, url: str | None):
    store = open_store(url or config.db_path)
    await store.open()

    def add_devices(db):
        for device in DEVICES:
            db.execute("INSERT INTO devices (device_id, host_identifier, hostname, os, node_key_hash, enrolled_at) "
                       "VALUES (?, ?, ?, 'linux', ?, '2026-11-01T00:00:00Z')", (device, device, device, device))
    await store.write(add_devices)
    return store


@pytest.fixture
async def two_stores(config: CollectorConfig, backend: str, tmp_path: Path, request):
    """The reference (each batch alone) and the store under test, on the test's backend."""
    if backend == "postgresql":
        cluster = request.getfixturevalue("pg_cluster")
        urls = [config.db_url, cluster.create_database(f"lane_{tmp_path.name[-20:].lower()}".replace("-", "_"))]
        stores = [await opened(config, url) for url in urls]
    else:
        stores = [await opened(config, str(tmp_path / name)) for name in ("alone.db", "lane.db")]
    yield stores
    for store in stores:
        await store.close()


@pytest.mark.parametrize("backend", ("sqlite", "postgresql"), indirect=True)
@pytest.mark.parametrize("how", ("one pass", "retry adopts", "swept"))
async def test_the_lane_does_for_many_batches_what_each_alone_does(two_stores, make, how: str) -> None:
    alone, lane = two_stores
    sent = batches(make)
    for device, events in sent:
        assert await alone.write(store_batch, parsed(device, events), device) == len(events)
    works = []
    for device, events in sent:
        stored, work = await lane.write(store_events, parsed(device, events), device)
        assert stored == len(events) and work.lane_id is not None
        works.append(work)
    assert await lane.read(ingest_lane.depth) == len(sent)
    if how == "one pass":
        await lane.write(run_lane, works)
    elif how == "retry adopts":  # the node died before its pass; each agent sends its batch again
        for device, events in sent:
            stored, work = await lane.write(store_events, parsed(device, events), device)
            assert stored == 0 and work.lane_id is None and len(work.adopt) == len(events)
            await lane.write(run_lane, [work])
    else:
        assert await lane.write(sweep, "2000-01-01T00:00:00.000000Z", 50) == 0  # none queued that long
        assert await lane.write(sweep, FAR_FUTURE, 4) == 4
        assert await lane.write(sweep, FAR_FUTURE, 50) == len(sent) - 4
    assert await lane.read(ingest_lane.depth) == 0
    await lane.write(run_lane, works)  # claimed already: a late pass does nothing twice
    expected, got = await alone.read(snapshot), await lane.read(snapshot)
    assert len(expected["alerts"]) >= 8 and len(expected["record"]) == sum(len(events) for _, events in sent)
    assert got == expected
    assert (await lane.read(verify_store))[1] is None


async def post_from_agents(client, config, make, agents: int = 12, each: int = 3) -> list[str]:
    """``agents`` laptops posting ``each`` batches at once (a secret pasted, a sighting, a
    heartbeat): the event ids acked."""
    enrolled = [await make.enroll(client, config, host_identifier=f"lane-host-{n}") for n in range(agents)]

    async def post(device: dict) -> list[str]:
        device_id = device["device_id"]
        events = [make.paste(device_id, user="alice", tool_id="chatgpt"), make.observed(device_id),
                  make.heartbeat(device_id)]
        answer = await client.post("/api/v1/events", data=gzip.compress(json.dumps({"events": events}).encode()),
                                   headers={"Authorization": f"Bearer {device['node_key']}", "Content-Encoding": "gzip"})
        assert answer.status == 200, await answer.text()
        return (await answer.json())["acked"]

    acked = [event_id for ids in await asyncio.gather(*(post(device) for device in enrolled for _ in range(each)))
             for event_id in ids]
    assert len(acked) == agents * each * 3
    return acked


async def lane_metrics(client) -> tuple[dict[str, float], str]:
    token = await client.app[STORE].write(lambda db: create_api_token(db, "prometheus", "viewer"))
    metrics = await (await client.get("/metrics", headers={"Authorization": f"Bearer {token}"})).text()
    return {line.split('"')[1]: float(line.split()[-1]) for line in metrics.splitlines()
            if line.startswith("shadowmap_ingest_lane_total")}, metrics


def assert_lane_done(make, config, acked: list[str]) -> None:
    """Every batch's lane work done once: one open alert for the 36 pastes, one record entry
    per event, nothing queued."""
    leak = make.select_rows(config.db_path, "SELECT count(*) AS n, max(count) AS events FROM alerts "
                                            "WHERE finding_id = 'copied_secrets' AND status = 'open'")
    assert leak == [{"n": 1, "events": len(acked) // 3}]
    entries = make.select_rows(config.db_path, "SELECT count(*) AS n FROM record_entries WHERE kind = 'event'")
    assert entries == [{"n": len(acked)}]
    assert make.select_rows(config.db_path, "SELECT count(*) AS n FROM ingest_lane") == [{"n": 0}]


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_a_node_raises_the_batches_waiting_for_it_in_shared_passes(aiohttp_client, config, make) -> None:
    """Agents posting at once to one node, each upload waiting for its pass: every batch
    acked with its alerts and record entries, in fewer passes than batches; one active
    alert per key; nothing left queued."""
    assert config.lane_ack_wait_seconds is None  # (the tests' collectors wait for the pass)
    client = await make.start_client(aiohttp_client, config)
    acked = await post_from_agents(client, config, make)
    lane, metrics = await lane_metrics(client)
    assert lane["batches"] == 36 and lane["passes"] < 36 and "failed_passes" not in lane, lane
    assert "acked_before_pass" not in lane
    assert 'shadowmap_queue_depth{queue="ingest_lane"} 0.0' in metrics
    assert_lane_done(make, config, acked)


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_uploads_acked_before_their_pass_get_their_alerts_and_record_entries_after_it(
        aiohttp_client, config, make, monkeypatch) -> None:
    """With no ack wait an upload is answered once its batch and its queued lane work are
    committed; the node's passes then do the work, and a node that stops finishes them
    first (what a dead node leaves, the sweep does: the lane test above)."""
    monkeypatch.setattr(ingest_lane_api, "MAX_PASS_EVENTS", 1)   # a pass per batch: a long drain at the stop
    config.lane_ack_wait_seconds = 0.0
    client = await make.start_client(aiohttp_client, config)
    acked = await post_from_agents(client, config, make)
    lane = client.app[INGEST_COUNTS].lane
    assert lane["acked_before_pass"] >= 1 and lane["batches"] < 36, lane   # answered, some not yet done
    await client.close()   # the node stops at once: its passes finish before it goes
    assert lane["batches"] == 36, lane
    assert_lane_done(make, config, acked)
    assert (await verify_chain(config))[1] is None


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_a_node_far_behind_makes_uploads_wait_for_their_pass(aiohttp_client, config, make, monkeypatch) -> None:
    """Back-pressure: beyond LANE_BEHIND_EVENTS waiting, an upload is answered only after its
    pass, whatever the ack wait (the agents' spools hold what comes next)."""
    monkeypatch.setattr(ingest_lane_api, "LANE_BEHIND_EVENTS", 0)
    config.lane_ack_wait_seconds = 0.0
    client = await make.start_client(aiohttp_client, config)
    acked = await post_from_agents(client, config, make, agents=4)
    lane, _ = await lane_metrics(client)
    assert "acked_before_pass" not in lane and lane["batches"] == 12, lane
    assert_lane_done(make, config, acked)


async def verify_chain(config: CollectorConfig):
    store = open_store(config.database)
    await store.open()
    try:
        return await store.read(verify_store)
    finally:
        await store.close()
