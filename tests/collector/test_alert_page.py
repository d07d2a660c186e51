"""The alert page over the real server, beyond the queue's tests: a config-secret alert names
the file and the workspace it was found in; the same values seen elsewhere link to the users
who were seen with them and to those users' other alerts, and a long list of values is cut
with a "show all" that shows every one."""
from __future__ import annotations

import hashlib
import re
import uuid
from html import unescape

import pytest

from shadowmap import contract
from shadowmap.collector.state import STORE

ALERT_LINK = re.compile(r'<a href="/alerts/(\d+)">[^<]*</a> <span class="id">')
ENV_PATH = "~/src/landing/.env"
WORKSPACE = "~/src/landing"


def value_hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def secret(*values: str, entity_type: str = "AWS_ACCESS_KEY") -> dict:
    """A finding of these (made-up) values, by their keyed hashes."""
    return {"entity_type": entity_type, "data_class": "secret", "count": len(values), "score": 0.95,
            "hashes": [value_hash(v) for v in values], "reason": "test finding"}


def config_finding(device_id: str, user: str, path: str, workspace: str) -> dict:
    event = {"schema": "shadowmap.event/1", "id": str(uuid.uuid4()), "type": "ai_config.finding",
             "device_id": device_id, "user": user, "ts": "2026-12-01T09:00:00Z",
             "data": {"finding": "AI tool with production read access via copied secrets", "severity": "critical",
                      "tool_id": "cursor", "path": path, "workspace": workspace,
                      "findings": [secret("config-secret")]}}
    contract.validate_event(event)
    return event


async def enroll_hosts(client, config, make, *hosts: str) -> dict[str, dict]:
    """Devices enrolled under their own host names."""
    enrolled = {}
    for host in hosts:
        device = await make.enroll(client, config, host)
        device["headers"] = {"Authorization": f"Bearer {device['node_key']}"}
        enrolled[host] = device
    await client.app[STORE].write(lambda db: [db.execute("UPDATE devices SET hostname = ? WHERE device_id = ?",
                                                         (host, device["device_id"]))
                                              for host, device in enrolled.items()])
    return enrolled


async def alert_ids(client, query: str) -> list[str]:
    return ALERT_LINK.findall(await (await client.get("/alerts" + query)).text())


def queue_summaries(html: str) -> dict[str, str]:
    """alert id -> the one-line summary its row in the queue shows."""
    return {alert_id: unescape(line) for alert_id, line in re.findall(
        r'<a href="/alerts/(\d+)">[^<]*</a> <span class="id">#\d+</span>\s*<span class="line">([^<]*)</span>', html)}


def fact(html: str, name: str) -> str:
    """The text of one fact of the alert page's facts list (its <dd>), tags dropped."""
    found = re.search(rf"<dt>{re.escape(name)}</dt><dd[^>]*>(.*?)</dd>", html, re.S)
    assert found, f"no fact {name!r} on the page"
    return unescape(re.sub(r"<[^>]+>", "", found.group(1))).strip()


async def test_a_config_secret_alert_names_the_file_and_the_workspace(client, config, console, make):
    await make.approve_vendors(client, "Anysphere")
    hosts = await enroll_hosts(client, config, make, "eng-carol-mbp")
    carol = hosts["eng-carol-mbp"]
    await console.post_events(client, carol, [config_finding(carol["device_id"], "carol", ENV_PATH, WORKSPACE)])
    await console.sign_in(client, "admin", console.admin_password)
    [alert_id] = await alert_ids(client, "?status=any&finding=copied_secrets")
    html = await (await client.get(f"/alerts/{alert_id}")).text()
    assert fact(html, "Config paths") == ENV_PATH
    assert fact(html, "Workspaces") == WORKSPACE
    assert fact(html, "Tool") == "Cursor" and fact(html, "Hosts (1)") == "eng-carol-mbp"
    summary = unescape(re.search(r'id="alert-summary">([^<]*)<', html).group(1))
    # the summary names the file, as the config paths do; the secret's type, never its value
    assert summary == f"AWS access key found 1 time in {ENV_PATH} (Cursor's config or workspace) on eng-carol-mbp"
    assert "config-secret" not in html and value_hash("config-secret") not in summary
    assert queue_summaries(await (await client.get("/alerts?status=any")).text()) == {alert_id: summary}
    evidence = re.search(r'<table class="evidence">.*?</table>', html, re.S).group(0)
    assert "ai_config.finding" in evidence and f'<span class="line">{ENV_PATH}</span>' in evidence


@pytest.mark.both_backends
async def test_the_summary_names_the_newest_file_and_how_many_more(client, device, console, make):
    """Two more files (one a long path) for the same tool and user: one alert, whose summary
    names the newest file, the long one cut to its end, and counts the others; on both
    backends (the files are read from the alert's linked events)."""
    await make.approve_vendors(client, "Anysphere")
    long_path = "~/src/" + "/".join(["deeply-nested-folder"] * 8) + "/mcp.json"
    events = [config_finding(device["device_id"], "carol", path, WORKSPACE)
              for path in (ENV_PATH, "~/src/landing/.cursor/mcp.json", long_path)]
    for event, ts in zip(events, ("2026-12-01T09:00:00Z", "2026-12-01T10:00:00Z", "2026-12-01T11:00:00Z"),
                         strict=True):
        event["ts"] = ts
    await console.post_events(client, device, events[:1])
    await console.sign_in(client, "admin", console.admin_password)
    [(alert_id, summary)] = queue_summaries(await (await client.get("/alerts?status=any")).text()).items()
    assert summary == f"AWS access key found 1 time in {ENV_PATH} (Cursor's config or workspace) on laptop-1"
    await console.post_events(client, device, events[1:])
    [(same_id, summary)] = queue_summaries(await (await client.get("/alerts?status=any")).text()).items()
    assert same_id == alert_id
    shown = "…" + long_path[-79:]
    assert len(shown) == 80 and shown.endswith("/deeply-nested-folder/mcp.json")
    assert summary == (f"AWS access key found 3 times in {shown} and 2 other files (Cursor's config or workspace) "
                       "on laptop-1")
    page = await (await client.get(f"/alerts/{alert_id}")).text()
    assert unescape(re.search(r'id="alert-summary">([^<]*)<', page).group(1)) == summary


async def test_correlated_values_link_to_the_users_and_their_other_alerts(client, config, console, make):
    """dave and erin pasted the same AWS key, each on their own laptop; frank pasted another
    key. dave's alert links to erin (and himself) as "seen by" and to erin's alert as the
    other alert; frank's alert is no part of it."""
    await make.approve_vendors(client, "OpenAI")
    hosts = await enroll_hosts(client, config, make, "ops-dave-xps", "fin-erin-mbp", "eng-frank-mbp")
    for host, user, value in (("ops-dave-xps", "dave", "shared-key"), ("fin-erin-mbp", "erin", "shared-key"),
                              ("eng-frank-mbp", "frank", "franks-own-key")):
        device = hosts[host]
        await console.post_events(client, device, [make.paste(device["device_id"], user=user,
                                                              findings=[secret(value)])])
    await console.sign_in(client, "admin", console.admin_password)
    [dave_alert] = await alert_ids(client, "?user=dave")
    [erin_alert] = await alert_ids(client, "?user=erin")
    [frank_alert] = await alert_ids(client, "?user=frank")
    html = await (await client.get(f"/alerts/{dave_alert}")).text()
    table = re.search(r'<table class="correlation">.*?</table>', html, re.S).group(0)
    [row] = re.findall(r"<tr><td data-label=\"Entity type\">.*?</tr>", table, re.S)
    assert f"<code>{value_hash('shared-key')[:12]}…</code>" in row
    assert re.search(r'data-label="Devices" class="num">2<', row) and re.search(r'data-label="Users" class="num">2<', row)
    seen_by = re.search(r'<td data-label="Seen by">(.*?)</td>', row, re.S).group(1)
    assert re.findall(r'<a href="([^"]+)">(\w+)</a>', seen_by) == [
        ("/alerts?status=any&amp;user=dave", "dave"), ("/alerts?status=any&amp;user=erin", "erin")]
    others = re.search(r'<td data-label="Other alerts">(.*?)</td>', row, re.S).group(1)
    assert re.findall(r'<a href="/alerts/(\d+)">#(\d+)</a> (\w+)', others) == [(erin_alert, erin_alert, "erin")]
    assert frank_alert not in others
    assert "This AWS access key value was seen on 2 devices (2 users)." in html
    # the links lead where they say: erin's alerts, and erin's alert
    assert await alert_ids(client, "?status=any&user=erin") == [erin_alert]
    erin_page = await client.get(f"/alerts/{erin_alert}")
    assert erin_page.status == 200 and "fin-erin-mbp" in await erin_page.text()
    # frank's value was seen by frank alone: no one to link to
    frank_html = await (await client.get(f"/alerts/{frank_alert}")).text()
    frank_row = re.search(r'<table class="correlation">.*?</table>', frank_html, re.S).group(0)
    assert re.search(r'<td data-label="Seen by"></td>', frank_row) and "/alerts/" not in frank_row


async def test_the_correlation_table_shows_ten_values_then_all_of_them(client, config, console, make):
    from shadowmap.collector.console.alert_page import SHOWN

    await make.approve_vendors(client, "OpenAI")
    hosts = await enroll_hosts(client, config, make, "ops-dave-xps")
    dave = hosts["ops-dave-xps"]
    values = [f"key-{n}" for n in range(SHOWN + 2)]
    await console.post_events(client, dave, [make.paste(dave["device_id"], user="dave", findings=[secret(*values)])])
    await console.sign_in(client, "admin", console.admin_password)
    [alert_id] = await alert_ids(client, "?user=dave")

    def shown_hashes(html: str) -> set[str]:
        table = re.search(r'<table class="correlation">.*?</table>', html, re.S).group(0)
        return set(re.findall(r"<code>([0-9a-f]{12})…</code>", table))

    every = {value_hash(v)[:12] for v in values}
    html = await (await client.get(f"/alerts/{alert_id}")).text()
    assert len(shown_hashes(html)) == SHOWN and shown_hashes(html) < every
    more = re.search(r'<p class="more">(\d+) more values\. <a href="([^"]+)">Show all (\d+)</a></p>', html)
    assert more and more.groups() == ("2", "?all=1", str(SHOWN + 2))
    everything = await (await client.get(f"/alerts/{alert_id}{more.group(2)}")).text()
    assert shown_hashes(everything) == every
    assert '<p class="more">' not in everything.split('<table class="correlation">')[1].split("<h2>")[0]
