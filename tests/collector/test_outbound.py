"""Outbound: alert changes reach webhooks, Slack-compatible receivers and SIEMs (OCSF Data
Security Finding, class 2006) on a real loopback HTTP receiver; failures are retried with
backoff and end on the dead-letter list, from which they can be sent again."""
from __future__ import annotations

import asyncio
import importlib.util
import json
import socket
from pathlib import Path

import pytest

from shadowmap.collector import secret_box
from shadowmap.collector.alerts import triage
from shadowmap.collector.api.ingest_lane import store_batch
from shadowmap.collector.api.ingest_parse import parse_batch
from shadowmap.collector.app import create_app
from shadowmap.collector.config import CollectorConfig
from shadowmap.collector.outbound import queue as outbound
from shadowmap.collector.outbound.sender import OUTBOUND_SETTINGS, OutboundSettings
from shadowmap.collector.state import STORE
from shadowmap.collector.store import open_store
from shadowmap.collector.store.sqlite import health

_spec = importlib.util.spec_from_file_location("outbound_receiver", Path(__file__).with_name("outbound_receiver.py"))
outbound_receiver = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(outbound_receiver)

pytestmark = pytest.mark.both_backends


async def start(aiohttp_client, config, make, **settings):
    app = create_app(config)
    app[OUTBOUND_SETTINGS] = OutboundSettings(**{"poll_seconds": 0.05, "backoff_base_seconds": 0.02,
                                                 "timeout_seconds": 2.0, **settings})
    client = await make.start_client(aiohttp_client, config, app)
    device = await make.enroll(client, config)
    device["headers"] = {"Authorization": f"Bearer {device['node_key']}"}
    return client, device


async def send(client, device, events) -> None:
    response = await client.post("/api/v1/events", json={"events": events}, headers=device["headers"])
    assert response.status == 200 and not (await response.json())["rejected"]


@pytest.fixture(autouse=True)
def loopback_sinks_allowed(monkeypatch):
    """The receivers here listen on loopback, which outbound delivery refuses unless allowed."""
    monkeypatch.setenv("SHADOWMAP_OUTBOUND_ALLOW_NETWORKS", "127.0.0.0/8")


@pytest.fixture
async def receiver():
    started = await outbound_receiver.Receiver().start()
    yield started
    await started.stop()


async def test_alert_lifecycle_reaches_webhook_slack_and_siem_as_ocsf(aiohttp_client, config, make, receiver):
    client, device = await start(aiohttp_client, config, make)
    await client.app[STORE].write(lambda db: outbound.set_sinks(db, [
        {"name": "siem", "kind": "ocsf", "url": receiver.url + "/siem", "topics": ["alerts"]},
        {"name": "slack", "kind": "slack", "url": receiver.url + "/slack", "topics": ["alerts"]},
        {"name": "hook", "kind": "webhook", "url": receiver.url + "/hook", "topics": ["alerts"]}]))
    hostile_user = "<!channel> <script>x</script> & co"
    # a secret that reached the tool: critical (a blocked one would be medium)
    await send(client, device, [make.paste(device["device_id"], user=hostile_user, action="allow")])
    store = client.app[STORE]
    critical = await _alert_id(store, "copied_secrets")
    siem = await _messages_for(receiver, "/siem", critical, 1)
    finding = siem[0]
    assert (finding["class_uid"], finding["category_uid"], finding["activity_id"], finding["type_uid"]) == (
        2006, 2, 1, 200601)
    assert finding["severity_id"] == 5 and finding["severity"] == "Critical"
    assert finding["status_id"] == 1 and finding["actor"]["user"]["name"] == hostile_user
    assert finding["finding_info"]["title"] == "AI tool with production read access via copied secrets"
    assert finding["resources"][0]["uid"] == "chatgpt" and "secret" in finding["unmapped"]["data_classes"]
    assert isinstance(finding["time"], int) and finding["metadata"]["product"]["name"] == "shadowmap"
    slack = [m for m in await _messages_for(receiver, "/slack", None, 1) if "copied secrets" in m["text"]][0]
    assert "<!channel>" not in slack["text"] and "&lt;!channel&gt; &lt;script&gt;" in slack["text"]
    assert slack["blocks"][0]["text"]["text"] == slack["text"]
    hook = [m for m in await _messages_for(receiver, "/hook", None, 1) if m["alert"]["id"] == critical][0]
    assert hook["topic"] == "alerts" and hook["activity"] == "create"

    await send(client, device, [make.paste(device["device_id"], user=hostile_user)])  # same alert, bumped
    siem = await _messages_for(receiver, "/siem", critical, 2)
    assert siem[1]["type_uid"] == 200602 and siem[1]["count"] == 2

    await store.write(lambda db: triage.apply(db, critical, "resolve", "admin", "rotated the key"))
    siem = await _messages_for(receiver, "/siem", critical, 3)
    assert siem[2]["type_uid"] == 200603 and siem[2]["status_id"] == 4


async def _alert_id(store, finding_id: str) -> int:
    rows = await store.read(lambda db: [r["id"] for r in db.query("SELECT id FROM alerts WHERE finding_id = ?",
                                                                  (finding_id,))])
    assert len(rows) == 1
    return rows[0]


async def _messages_for(receiver, path: str, alert_id: int | None, count: int, timeout: float = 10.0) -> list[dict]:
    """The JSON bodies received on ``path`` (about one alert, if given), once there are ``count``."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        found = [item["json"] for item in receiver.received if item["path"] == path and (
            alert_id is None or item["json"].get("finding_info", {}).get("uid") == f"shadowmap-alert-{alert_id}")]
        if len(found) >= count or asyncio.get_running_loop().time() > deadline:
            assert len(found) >= count, (path, found)
            return found
        await asyncio.sleep(0.05)


async def test_failures_are_retried_then_dead_lettered_and_can_be_resent(aiohttp_client, config, make):
    failing = await outbound_receiver.Receiver(fail_first=10**6).start()
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    try:
        client, device = await start(aiohttp_client, config, make, max_attempts=3)
        await client.app[STORE].write(lambda db: outbound.set_sinks(db, [
            {"name": "flaky", "kind": "webhook", "url": failing.url, "topics": ["alerts"]},
            {"name": "gone", "kind": "webhook", "url": f"http://127.0.0.1:{closed_port}/", "topics": ["alerts"]}]))
        await send(client, device, [make.paste(device["device_id"])])
        store = client.app[STORE]
        alerts = await store.read(lambda db: db.execute("SELECT count(*) FROM alerts").fetchone()[0])
        assert alerts >= 1
        for _ in range(300):
            dead = await store.read(outbound.dead_letters)
            if len(dead) == 2 * alerts:
                break
            await asyncio.sleep(0.05)
        assert sorted(letter["sink"] for letter in dead) == ["flaky"] * alerts + ["gone"] * alerts
        assert all(letter["attempts"] == 3 for letter in dead)
        assert failing.attempts == 3 * alerts  # each retried, then given up
        errors = {letter["sink"]: letter["last_error"] for letter in dead}
        assert errors["flaky"] == "HTTP 500" and "Connect" in errors["gone"]
        assert (await store.read(health.outbound_depths)) == {"pending": 0, "dead": 2 * alerts}
        # the receiver recovers; an operator re-queues the dead letters of one sink
        failing.fail_first = 0
        flaky = [letter["id"] for letter in dead if letter["sink"] == "flaky"]
        assert await store.write(lambda db: outbound.retry_dead(db, flaky)) == alerts
        received = await failing.wait_for(alerts)
        assert {item["json"]["activity"] for item in received} == {"create"}
        for _ in range(100):  # the sender marks them delivered right after the receiver answered
            if (await store.read(health.outbound_depths)) == {"pending": 0, "dead": alerts}:
                break
            await asyncio.sleep(0.05)
        assert (await store.read(health.outbound_depths)) == {"pending": 0, "dead": alerts}
    finally:
        await failing.stop()


@pytest.mark.parametrize("sinks, message", [
    ([{"name": "Bad Name", "kind": "webhook", "url": "http://x"}], "slug"),
    ([{"name": "a", "kind": "email", "url": "http://x"}], "kind"),
    ([{"name": "a", "kind": "webhook", "url": "file:///etc/passwd"}], "url"),
    ([{"name": "a", "kind": "ocsf", "url": "http://x", "topics": ["reads"]}], "alerts only"),
    ([{"name": "a", "kind": "webhook", "url": "http://x", "secret": "short"}], "secret"),
    ([{"name": "a", "kind": "webhook", "url": "http://x"}, {"name": "a", "kind": "slack", "url": "http://y"}], "unique"),
    ("not a list", "list"),
])
def test_bad_sinks_are_refused(sinks, message):
    with pytest.raises(outbound.SinkError, match=message):
        outbound.validate_sinks(sinks)


async def test_alert_changes_between_two_polls_are_queued_once_each_in_alert_order(config, make, tmp_path):
    """During a busy ingest many alerts change between two polls: one message per alert per
    subscribed sink, oldest alert first, each state announced once (read in one pass)."""
    secret_box.install_from(tmp_path / secret_box.KEY_FILE_NAME)   # the sinks are stored sealed
    store = open_store(config.database)
    await store.open()
    try:
        await store.write(lambda db: db.execute(
            "INSERT INTO devices (device_id, host_identifier, hostname, os, node_key_hash, enrolled_at) "
            "VALUES ('dev-1', 'dev-1', 'dev-1', 'linux', 'hash', '2026-11-01T00:00:00Z')"))
        await store.write(lambda db: outbound.set_sinks(db, [
            {"name": "hook", "kind": "webhook", "url": "https://siem.acme.example/hook", "topics": ["alerts"]},
            {"name": "reads", "kind": "webhook", "url": "https://siem.acme.example/reads", "topics": ["reads"]}]))

        async def send(*users: str) -> None:
            events = [make.paste("dev-1", user=user, action="allow") for user in users]
            batch = parse_batch(json.dumps({"events": events}).encode(), "", "dev-1", CollectorConfig())
            await store.write(store_batch, batch, "dev-1")

        await send("ann", "bob", "cid")
        alerts = await store.read(lambda db: [r["id"] for r in db.query("SELECT id FROM alerts ORDER BY id")])
        assert len(alerts) >= 3
        assert await store.write(outbound.enqueue_alert_changes) == len(alerts)
        assert await store.write(outbound.enqueue_alert_changes) == 0   # announced: nothing twice
        await send("bob")                                  # bob's alert bumped (and any org-wide one)
        bumped = await store.write(outbound.enqueue_alert_changes)
        assert 1 <= bumped < len(alerts)
        queued = await store.read(lambda db: list(db.query("SELECT sink, payload FROM outbound_queue ORDER BY id")))
        assert {row["sink"] for row in queued} == {"hook"}   # the reads-only sink gets no alert
        payloads = [json.loads(row["payload"]) for row in queued]
        assert len(payloads) == len(alerts) + bumped
        assert [p["alert"]["id"] for p in payloads[:len(alerts)]] == alerts
        assert [p["activity"] for p in payloads] == ["create"] * len(alerts) + ["update"] * bumped
        assert [p["alert"]["count"] for p in payloads[len(alerts):] if p["alert"]["user"] == "bob"] == [2]
    finally:
        await store.close()
