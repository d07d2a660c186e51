"""The finding "Protection disabled", through the real server: a device silent past the set time,
and the extension missing or disabled in a force-installed profile, each raise it; it resolves
itself when the device comes back; a planned uninstall (agent.retiring) raises nothing until the
device reports again; the job runs under its lease."""
from __future__ import annotations

import asyncio
import dataclasses
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from support.db_rows import rows

from shadowmap import contract
from shadowmap.collector import device_watch
from shadowmap.collector.alerts import protection
from shadowmap.collector.cli import collector
from shadowmap.collector.config import CollectorConfig, ConfigError
from shadowmap.collector.state import STORE


def event(device_id: str, kind: str, data: dict) -> dict:
    now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    built = {"schema": "shadowmap.event/1", "id": str(uuid.uuid4()), "type": kind, "device_id": device_id,
             "user": "dana", "ts": now, "data": data}
    contract.validate_event(built)
    return built


def heartbeat(device_id: str, extensions: list[dict] | None = None) -> dict:
    data = {"agent_version": "0.1.0", "hostname": "ops-dana-xps", "os": "linux"}
    if extensions is not None:
        data["extensions"] = extensions
    return event(device_id, "agent.heartbeat", data)


def protection_alerts(config, status: str | None = None) -> list[dict]:
    where = "finding_id = 'protection_disabled'" + (f" AND status = '{status}'" if status else "")
    return rows(config.db_path, f"SELECT * FROM alerts WHERE {where} ORDER BY id")


async def watch(client, days_ahead: float = 0) -> protection.WatchResult:
    now = datetime.now(UTC) + timedelta(days=days_ahead)
    return await client.app[STORE].write(lambda db: protection.watch(db, now))


async def test_a_silent_device_raises_it_and_coming_back_resolves_it(client, device, config, console):
    await console.post_events(client, device, [heartbeat(device["device_id"])])
    assert (await watch(client)).opened == []                          # reporting: nothing to say
    result = await watch(client, days_ahead=4)
    [alert] = protection_alerts(config)
    assert result.opened == [alert["id"]] and alert["severity"] == "high"
    facts = json.loads(alert["facts"])
    assert facts["device_id"] == device["device_id"] and "has not reported since" in facts["reason"]
    assert (await watch(client, days_ahead=4)).opened == []            # one alert, not one per pass

    await console.post_events(client, device, [heartbeat(device["device_id"])])
    result = await watch(client)
    assert result.resolved == [alert["id"]]
    [resolved] = protection_alerts(config)
    assert resolved["status"] == "resolved"
    log = rows(config.db_path, "SELECT actor, action, note FROM alert_log WHERE alert_id = ?", (alert["id"],))
    assert [(r["actor"], r["action"]) for r in log] == [(protection.ACTOR, "resolve")]


async def test_an_extension_removed_or_disabled_raises_it_until_it_is_back(client, device, config, console):
    did = device["device_id"]
    await console.post_events(client, device, [heartbeat(did, [
        {"browser": "chrome", "profile": "Default", "profile_user": "dana", "state": "enabled"},
        {"browser": "chrome", "profile": "Profile 1", "profile_user": "dana", "state": "missing"},
        {"browser": "edge", "profile": "Default", "profile_user": "dana", "state": "disabled"}])])
    await watch(client)
    [alert] = protection_alerts(config, "open")
    reason = json.loads(alert["facts"])["reason"]
    assert "missing in chrome profile Profile 1 of dana" in reason and "disabled in edge profile Default" in reason
    assert "has not reported" not in reason

    await console.post_events(client, device, [heartbeat(did, [
        {"browser": "chrome", "profile": "Default", "profile_user": "dana", "state": "enabled"}])])
    assert (await watch(client)).resolved == [alert["id"]]


async def test_a_planned_uninstall_raises_nothing_until_the_device_reports_again(client, device, config, console):
    did = device["device_id"]
    await console.post_events(client, device, [event(did, "agent.retiring", {"reason": "uninstall"})])
    assert (await watch(client, days_ahead=30)).opened == []
    assert protection_alerts(config) == []
    [watched] = rows(config.db_path, "SELECT * FROM device_watch WHERE device_id = ?", (did,))
    assert watched["retired_reason"] == "uninstall"

    await console.post_events(client, device, [heartbeat(did)])          # reinstalled: watched again
    assert len((await watch(client, days_ahead=4)).opened) == 1


async def test_the_job_runs_under_its_lease(client, device, config):
    client.app[device_watch.WATCH_SETTINGS].dark_after = timedelta(seconds=-1)   # everything is "dark"
    result = await device_watch.run_once(client.app)
    assert result is not None and len(result.opened) == 1
    [lease] = rows(config.db_path, "SELECT * FROM job_leases WHERE name = ?", (device_watch.JOB,))
    assert lease["holder"] == client.app[device_watch.WATCH_SETTINGS].node
    client.app[device_watch.WATCH_SETTINGS].node = "another-node"         # the lease is still held
    assert await device_watch.run_once(client.app) is None


async def test_an_ai_browser_without_the_extension_raises_it(client, device, config, console):
    did = device["device_id"]
    browser = event(did, "ai_browser.observed", {
        "browser_id": "comet", "name": "Perplexity Comet", "tool_id": "perplexity",
        "profiles": [{"profile": "Default", "extension": "enabled"}, {"profile": "Work", "extension": "missing"}]})
    await console.post_events(client, device, [heartbeat(did), browser])
    await watch(client)
    [alert] = protection_alerts(config, "open")
    assert "the AI browser Perplexity Comet of dana runs without the extension (profiles Work)" in \
        json.loads(alert["facts"])["reason"]

    fixed = event(did, "ai_browser.observed", {
        "browser_id": "comet", "name": "Perplexity Comet", "tool_id": "perplexity",
        "profiles": [{"profile": "Default", "extension": "enabled"}, {"profile": "Work", "extension": "enabled"}]})
    await console.post_events(client, device, [fixed])
    assert (await watch(client)).resolved == [alert["id"]]


async def test_the_silence_limit_is_the_collectors_setting(aiohttp_client, config, console, make):
    """device_dark_after_days (collector serve --device-dark-after-days) is the limit the job
    and the console's device pages read: at 0.5 a device silent 13 hours is dark, 11 hours not."""
    short = dataclasses.replace(config, device_dark_after_days=0.5)
    client = await make.start_client(aiohttp_client, short)
    assert client.app[device_watch.WATCH_SETTINGS].dark_after == timedelta(hours=12)
    enrolled = await make.enroll(client, short)
    enrolled["headers"] = {"Authorization": f"Bearer {enrolled['node_key']}"}
    did = enrolled["device_id"]
    await console.post_events(client, enrolled, [heartbeat(did)])

    async def silent_for(hours: float) -> protection.WatchResult | None:
        since = (datetime.now(UTC) - timedelta(hours=hours)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        await client.app[STORE].write(lambda db: db.execute("UPDATE devices SET last_seen = ? WHERE device_id = ?",
                                                            (since, did)))
        return await device_watch.run_once(client.app)

    assert (await silent_for(11)).opened == []
    result = await silent_for(13)
    [alert] = protection_alerts(short)
    assert result.opened == [alert["id"]] and "has not reported since" in json.loads(alert["facts"])["reason"]


async def test_the_default_limit_is_three_days(client, device, config, console):
    assert config.device_dark_after_days == 3.0
    assert client.app[device_watch.WATCH_SETTINGS].dark_after == protection.DEFAULT_DARK_AFTER == timedelta(days=3)
    await console.post_events(client, device, [heartbeat(device["device_id"])])
    since = (datetime.now(UTC) - timedelta(days=2, hours=23)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    await client.app[STORE].write(lambda db: db.execute("UPDATE devices SET last_seen = ? WHERE device_id = ?",
                                                        (since, device["device_id"])))
    assert (await device_watch.run_once(client.app)).opened == []


@pytest.mark.parametrize("days", [0, -1.5])
def test_a_silence_limit_of_no_time_is_refused(tmp_path, days):
    with pytest.raises(ConfigError, match="device_dark_after_days must be more than 0"):
        CollectorConfig(db_path=tmp_path / "collector.db", device_dark_after_days=days)
    result = CliRunner().invoke(collector, ["serve", "--db", str(tmp_path / "collector.db"),
                                            "--device-dark-after-days", str(days)])
    assert result.exit_code == 2 and "--device-dark-after-days" in result.output
    assert not (tmp_path / "collector.db").exists()


@pytest.mark.both_backends
async def test_the_cli_runs_one_pass_now(client, device, config, console, make):
    """`shadowmap collector devices watch` opens the store as the other collector commands do
    and runs one pass at once: a device silent 4 days raises the alert (not under a 5-day
    limit), a second pass adds none, and the device reporting again resolves it."""
    did = device["device_id"]
    await console.post_events(client, device, [heartbeat(did, [{"browser": "chrome", "profile": "Default",
                                                                 "state": "enabled"}])])
    since = (datetime.now(UTC) - timedelta(days=4)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    await client.app[STORE].write(lambda db: db.execute("UPDATE devices SET last_seen = ? WHERE device_id = ?",
                                                        (since, did)))
    db = config.db_url or str(config.db_path)

    def cli(*args: str):  # the command runs its own event loop: off this test's loop
        result = CliRunner().invoke(collector, ["devices", "watch", "--db", db, *args])
        assert result.exit_code == 0, result.output
        return result.output.strip()

    def alerts(status: str) -> list[dict]:
        return make.select_rows(config.db_path, "SELECT id, facts FROM alerts WHERE finding_id = "
                                "'protection_disabled' AND status = ?", (status,))

    assert await asyncio.to_thread(cli, "--device-dark-after-days", "5") == \
        'device watch: 0 opened, 0 resolved ("Protection disabled" alerts)'
    assert alerts("open") == []
    said = await asyncio.to_thread(cli)
    [alert] = alerts("open")
    assert said == f'device watch: 1 opened (#{alert["id"]}), 0 resolved ("Protection disabled" alerts)'
    facts = json.loads(alert["facts"])
    assert facts["device_id"] == did and "laptop-1 has not reported since" in facts["reason"]
    assert (await asyncio.to_thread(cli)).startswith("device watch: 0 opened")  # one alert, not one per pass
    await console.post_events(client, device, [heartbeat(did)])
    assert await asyncio.to_thread(cli) == \
        f'device watch: 0 opened, 1 resolved (#{alert["id"]}) ("Protection disabled" alerts)'
    assert alerts("open") == [] and [row["id"] for row in alerts("resolved")] == [alert["id"]]


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_a_pass_waits_for_another_pass(client, device, config, console):
    """On PostgreSQL (several nodes, and the command line, on one database) a pass holds the
    device watch's transaction lock: a second pass waits until the first has committed, and then
    sees its alert rather than opening another (which the active-dedupe index would refuse)."""
    import psycopg

    from shadowmap.collector.store.sqlite import locks

    await console.post_events(client, device, [heartbeat(device["device_id"])])
    with psycopg.connect(config.db_url) as other:   # another node, mid-pass
        other.execute("SELECT pg_advisory_xact_lock(hashtextextended('pass', %s))", (locks.DEVICE_WATCH,))
        waiting = asyncio.ensure_future(watch(client, days_ahead=4))
        await asyncio.sleep(1.5)
        assert not waiting.done()
        other.commit()
    assert len((await asyncio.wait_for(waiting, 30)).opened) == 1
