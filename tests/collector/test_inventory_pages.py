"""The devices, MCP servers and browser extensions pages over the real server, on both
backends, with events sent through the public ingest API: each device's users, OS, agent
version, mode, last heartbeat (extension per profile, spool, footprint) and protection
state, searchable and filterable and linking to its alerts; every MCP server and AI
extension seen, with its risk flags, devices, users and the alerts naming it; bad filters
shown inline, listing nothing; empty pages say what to do next; every read recorded."""
from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from shadowmap.collector.state import STORE

pytestmark = pytest.mark.both_backends


def _ts(ago: timedelta = timedelta()) -> str:
    return (datetime.now(UTC) - ago).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _event(device_id: str, type_: str, data: dict, user: str = "dana", ago: timedelta = timedelta()) -> dict:
    return {"schema": "shadowmap.event/1", "id": str(uuid.uuid4()), "type": type_, "device_id": device_id,
            "user": user, "ts": _ts(ago), "data": data}


async def _enroll(client, config, host: str, hostname: str, **identity) -> dict:
    response = await client.post("/api/v1/enroll", json={
        "enroll_secret": config.enroll_secret_path.read_text().strip(), "host_identifier": host,
        "hostname": hostname, "os": "linux", **identity})
    assert response.status == 200, await response.text()
    enrolled = await response.json()
    enrolled["headers"] = {"Authorization": f"Bearer {enrolled['node_key']}"}
    return enrolled


DEPLOY_TOOLS = {"tool_id": "claude-code", "config_path": "~/.claude.json", "name": "deploy-tools", "transport": "stdio",
                "command": "npx", "package": "@acme/deploy-mcp", "env_keys": ["AWS_SECRET_ACCESS_KEY"],
                "workspace": "~/src/payments",
                "risks": [{"flag": "plaintext_secret", "evidence": "env AWS_SECRET_ACCESS_KEY set in the config"},
                          {"flag": "shell_exec", "evidence": "tool run_shell executes commands"}]}
REMOTE_DOCS = {"tool_id": "cursor", "config_path": "~/.cursor/mcp.json", "name": "docs-search", "transport": "http",
               "url_origin": "https://mcp.docs.example"}
SIDELOADED = {"browser": "chrome", "profile": "Default", "profile_user": "lee", "extension_id": "abcdefghijklmnopabcdefghijklmnop",
              "name": "GPT Sidebar Dev", "version": "0.3.1", "enabled": True, "permissions": ["<all_urls>", "tabs"],
              "all_sites": True, "risks": [{"flag": "sideloaded_extension", "evidence": "unpacked from ~/Downloads/sidebar"}]}
STORE_EXT = {"browser": "edge", "profile": "Work", "extension_id": "kmnopqrstuvwxyzakmnopqrstuvwxyza", "name": "Claude helper",
             "tool_id": "claude", "enabled": True, "permissions": ["https://claude.ai/*"], "ai_hosts": ["claude.ai"]}


async def _seed(client, config, console) -> tuple[dict, dict]:
    ops = await _enroll(client, config, "host-ops", "ops-dana-xps")
    lee = await _enroll(client, config, "host-fin", "fin-lee-mbp", mode="user", os_user="lee")
    beat = {"agent_version": "1.2.0", "hostname": "ops-dana-xps", "os": "Linux", "os_version": "Debian 12",
            "spool_depth": 17, "spool_dropped": 3, "users": ["dana", "root"],
            "footprint": {"cpu_percent": 0.4, "rss_mb": 151.5, "throttle": 2, "shed": ["process_scan"]},
            "extensions": [{"browser": "chrome", "profile": "Default", "profile_user": "dana", "state": "disabled"},
                           {"browser": "edge", "profile": "Work", "state": "enabled"}],
            "discovery": {"connections": "other users' sockets need root"}}
    await console.post_events(client, ops, [
        _event(ops["device_id"], "agent.heartbeat", {**beat, "agent_version": "1.1.0"}, ago=timedelta(hours=2)),
        _event(ops["device_id"], "agent.heartbeat", beat, ago=timedelta(minutes=5)),
        _event(ops["device_id"], "mcp_server.observed", DEPLOY_TOOLS, ago=timedelta(days=2)),
        _event(ops["device_id"], "mcp_server.observed", {**DEPLOY_TOOLS, "change": "daily"}, ago=timedelta(hours=1)),
        _event(ops["device_id"], "browser_extension.observed", STORE_EXT, ago=timedelta(hours=3)),
        _event(ops["device_id"], "paste.scanned", {
            "channel": "paste", "tool_id": "chatgpt", "domain": "chatgpt.com", "data_classes": ["secret"],
            "findings": [{"entity_type": "AWS_ACCESS_KEY", "data_class": "secret", "count": 1, "score": 0.9,
                          "hashes": ["ab" * 32], "reason": "test"}], "action": "allow", "reason": "policy"})])
    await console.post_events(client, lee, [
        _event(lee["device_id"], "agent.heartbeat", {"agent_version": "1.0.0", "hostname": "fin-lee-mbp", "os": "Darwin",
                                                     "spool_depth": 0, "users": ["lee"]}, user="lee"),
        _event(lee["device_id"], "mcp_server.observed", REMOTE_DOCS, user="lee"),
        _event(lee["device_id"], "mcp_server.observed", DEPLOY_TOOLS, user="lee", ago=timedelta(days=1)),
        _event(lee["device_id"], "browser_extension.observed", SIDELOADED, user="lee")])
    return ops, lee


async def test_empty_pages_say_what_to_do_next(client, config, console):
    await console.add_account(client, "vera", "viewer")
    await console.sign_in(client, "vera")
    for path, words in (("/devices", "No device has enrolled yet"), ("/mcp-servers", "No MCP server seen yet"),
                        ("/extensions", "No AI browser extension seen yet")):
        page = await client.get(path)
        text = await page.text()
        assert page.status == 200 and words in text, path
        assert 'id="next-steps"' in text and "make demo" in text and 'href="/admin"' in text
        assert re.search(rf'<a href="{path}" aria-current="page">', text), path  # the current page is marked
    # once a device is enrolled, that step is ticked and the next one is the extension
    await _enroll(client, config, "host-new", "new-laptop")
    for path in ("/mcp-servers", "/extensions"):
        text = await (await client.get(path)).text()
        assert '<li data-done="yes">' in text and "1 device is enrolled" in text and 'href="/devices"' in text, path
        assert "Enroll a device" not in text


async def test_devices_page_shows_health_filters_and_links_to_alerts(client, config, console, make):
    ops, lee = await _seed(client, config, console)
    anonymous = await client.get("/devices", allow_redirects=False)
    assert anonymous.status == 302 and anonymous.headers["Location"].startswith("/login")
    await console.add_account(client, "vera", "viewer")
    await console.sign_in(client, "vera")

    page = await (await client.get("/devices")).text()
    assert "ops-dana-xps" in page and "fin-lee-mbp" in page
    row = page[page.index(f'href="/devices/{ops["device_id"]}"'):]
    row = row[:row.index("</tr>")]
    for expected in ("dana, root", "Linux Debian 12", "1.2.0", "chrome Default: disabled", "edge Work: enabled",
                     ">17", "3 dropped", "state-off", "the extension is disabled in chrome profile Default of dana",
                     f'href="/alerts?device={ops["device_id"]}"'):
        assert expected in row, expected
    lee_row = page[page.index(f'href="/devices/{lee["device_id"]}"'):]
    lee_row = lee_row[:lee_row.index("</tr>")]
    assert "user mode" in lee_row and "1.0.0" in lee_row and "state-on" in lee_row and ">0<" in lee_row
    assert "Admin › Devices" not in page  # a viewer gets no admin link

    async def hosts(**params) -> list[str]:
        text = await (await client.get("/devices", params=params)).text()
        return re.findall(r'<a href="/devices/[^"]+">([^<]+)</a>', text)
    assert await hosts() == ["ops-dana-xps", "fin-lee-mbp"]  # protection off first, though seen before lee's
    assert await hosts(q="DEBIAN") == ["ops-dana-xps"]
    assert await hosts(q="lee") == ["fin-lee-mbp"]
    assert await hosts(mode="user") == ["fin-lee-mbp"]
    assert await hosts(protection="off") == ["ops-dana-xps"]
    assert await hosts(version="1.0.0") == ["fin-lee-mbp"]
    assert "No devices match these filters" in await (await client.get("/devices", params={"q": "nobody"})).text()
    bad = await client.get("/devices", params={"mode": "kernel", "q": "ops"})
    text = await bad.text()
    assert bad.status == 200 and 'id="filter-errors"' in text and "mode must be one of system, user" in text
    assert 'aria-invalid="true"' in text and 'value="ops"' in text  # the other filter is kept
    assert re.findall(r'<a href="/devices/[^"]+">', text) == []  # a bad filter lists nothing

    detail = await client.get(f"/devices/{ops['device_id']}")
    text = await detail.text()
    assert detail.status == 200
    for expected in ("0.4 % of one core, 151.5 MB", "discovery slowed 2×", "process_scan", "17 events waiting",
                     "other users&#39; sockets need root", "deploy-tools", "Claude helper",
                     "AI tool with production read access via copied secrets", "plaintext secret, shell exec",
                     f'href="/alerts?device={ops["device_id"]}&amp;status=any"'):
        assert expected in text, expected
    assert "docs-search" not in text and "GPT Sidebar Dev" not in text  # the other device's
    alert_ids = re.findall(r'<a href="/alerts/(\d+)">', text[text.index('id="device-alerts"'):])
    assert alert_ids  # the leak and the risky MCP setup on this device
    assert (await client.get("/devices/no-such-device")).status == 404

    await console.add_account(client, "ada", "admin")
    await console.sign_in(client, "ada")
    assert 'href="/admin/devices"' in await (await client.get(f"/devices/{ops['device_id']}")).text()
    admin_page = await (await client.get("/admin/devices")).text()
    assert f'href="/devices/{ops["device_id"]}"' in admin_page and 'href="/devices"' in admin_page

    reads = make.select_rows(config.db_path, "SELECT subject, actor, detail FROM record_entries WHERE kind = 'read' "
                                             "AND (subject = 'devices' OR subject LIKE 'device:%') ORDER BY seq")
    subjects = [r["subject"] for r in reads]
    assert f"device:{ops['device_id']}" in subjects and subjects.count("devices") >= 8
    assert {r["actor"] for r in reads} == {"vera", "ada"}


async def test_mcp_servers_and_extensions_pages(client, config, console, make):
    ops, lee = await _seed(client, config, console)
    await console.add_account(client, "vera", "viewer")
    await console.sign_in(client, "vera")

    page = await (await client.get("/mcp-servers")).text()
    rows = page[page.index("<tbody>"):page.index("</tbody>")].split("<tr>")[1:]
    assert len(rows) == 2 and "deploy-tools" in rows[0]  # the risky one, with its alerts, first
    deploy = rows[0]
    for expected in ("npx @acme/deploy-mcp", "AWS_SECRET_ACCESS_KEY", "Claude Code", "~/.claude.json", "~/src/payments",
                     "plaintext secret", "shell exec", "ops-dana-xps", "fin-lee-mbp", "dana", "lee", "sev-critical"):
        assert expected in deploy, expected
    alert_ids = re.findall(r'href="/alerts/(\d+)"', deploy)
    assert len(alert_ids) == 2  # one alert per user (dana, lee)
    for alert_id in alert_ids:
        alert = await (await client.get(f"/alerts/{alert_id}")).text()
        assert "deploy-tools" in alert
    docs = rows[1]
    assert "docs-search" in docs and "https://mcp.docs.example" in docs and 'data-label="Risks">none' in docs
    first_seen = re.search(r'data-label="First seen"><time datetime="([^"]+)"', deploy).group(1)
    assert datetime.fromisoformat(first_seen.replace("Z", "+00:00")) < datetime.now(UTC) - timedelta(days=1, hours=12)

    async def names(path: str, **params) -> list[str]:
        text = await (await client.get(path, params=params)).text()
        return re.findall(r"<strong>([^<]+)</strong>", text[text.index("<h1>"):])
    assert await names("/mcp-servers", risk="shell_exec") == ["deploy-tools"]
    assert await names("/mcp-servers", transport="http") == ["docs-search"]
    assert await names("/mcp-servers", q="fin-lee") == ["deploy-tools", "docs-search"]
    assert await names("/mcp-servers", q="mcp.docs") == ["docs-search"]
    assert await names("/mcp-servers", tool="Cursor") == ["docs-search"]
    bad = await (await client.get("/mcp-servers", params={"risk": "evil", "transport": "http"})).text()
    assert "risk must be one of" in bad and "<strong>" not in bad[bad.index("<h1>"):]

    page = await (await client.get("/extensions")).text()
    rows = page[page.index("<tbody>"):page.index("</tbody>")].split("<tr>")[1:]
    assert len(rows) == 2 and "GPT Sidebar Dev" in rows[0]  # sideloaded, with its alert, first
    for expected in ("abcdefghijklmnopabcdefghijklmnop", "0.3.1", "chrome", "sideloaded", "unpacked from ~/Downloads/sidebar",
                     "every site", "fin-lee-mbp", "lee", "sev-medium"):
        assert expected in rows[0], expected
    assert re.findall(r'href="/alerts/(\d+)"', rows[0])
    assert "Claude helper" in rows[1] and "claude.ai" in rows[1] and ">store<" in rows[1].replace(" ", "")
    assert await names("/extensions", install="sideloaded") == ["GPT Sidebar Dev"]
    assert await names("/extensions", browser="edge") == ["Claude helper"]
    assert await names("/extensions", q="ops-dana") == ["Claude helper"]
    assert "No extensions match these filters" in await (await client.get("/extensions", params={"q": "zzz"})).text()
    assert "browser must be one of" in await (await client.get("/extensions", params={"browser": "netscape"})).text()

    reads = make.select_rows(config.db_path, "SELECT subject, detail FROM record_entries WHERE kind = 'read' "
                                             "AND subject IN ('mcp-servers', 'extensions') ORDER BY seq")
    assert [r["subject"] for r in reads].count("mcp-servers") == 7
    assert [r["subject"] for r in reads].count("extensions") == 6
    assert json.loads(reads[1]["detail"])["query"] == "risk=shell_exec"


async def test_retired_and_revoked_devices_and_the_dark_one(client, config, console, make):
    retired = await _enroll(client, config, "host-old", "old-laptop")
    revoked = await _enroll(client, config, "host-lost", "lost-laptop")
    dark = await _enroll(client, config, "host-dark", "dark-laptop")
    await console.post_events(client, retired, [_event(retired["device_id"], "agent.retiring", {"reason": "decommission"})])
    await console.post_events(client, dark, [_event(dark["device_id"], "agent.heartbeat", {
        "agent_version": "1.0.0", "hostname": "dark-laptop", "os": "Linux"}, ago=timedelta(days=5))])
    four_days_ago = _ts(timedelta(days=4))  # the collector last heard from it then (the watch's limit is 3 days)
    await client.app[STORE].write(lambda db: db.execute("UPDATE devices SET last_seen = ? WHERE device_id = ?",
                                                        (four_days_ago, dark["device_id"])))
    csrf = await console.sign_in(client, "admin", console.admin_password)
    response = await client.post("/admin/devices/revoke", data={"csrf_token": csrf, "device_id": revoked["device_id"]},
                                 allow_redirects=False)
    assert response.status in (302, 303)

    async def hosts(**params) -> list[str]:
        text = await (await client.get("/devices", params=params)).text()
        return re.findall(r'<a href="/devices/[^"]+">([^<]+)</a>', text)
    assert await hosts(protection="retired") == ["old-laptop"]
    assert await hosts(protection="revoked") == ["lost-laptop"]
    assert await hosts(protection="off") == ["dark-laptop"]
    detail = await (await client.get(f"/devices/{dark['device_id']}")).text()
    assert "dark-laptop has not reported since" in detail and "5 days ago" in detail  # its last heartbeat
    detail = await (await client.get(f"/devices/{retired['device_id']}")).text()
    assert "retired on purpose" in detail and "decommission" in detail
    detail = await (await client.get(f"/devices/{revoked['device_id']}")).text()
    assert "revoked: its node key no longer works" in detail
