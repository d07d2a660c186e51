"""Issue 16 item 7: the console login throttles with backoff per username and per client
address, locks out after repeated failures (a "console lockout" record entry), and logs
and records every failed login; a lockout raises an alert for the security team."""
from __future__ import annotations

import json
import logging
import re

from shadowmap.collector.state import STORE

CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


async def attempt(client, username: str, password: str):
    client.session.cookie_jar.clear()
    page = await client.get("/login")
    token = CSRF_FIELD.search(await page.text()).group(1)
    return await client.post("/login", data={"csrf_token": token, "username": username, "password": password},
                             allow_redirects=False)


def lockout_alerts(client):
    return client.app[STORE].read(lambda db: [dict(row) for row in db.query(
        "SELECT finding_id, severity, status, user, count, facts FROM alerts WHERE finding_id = 'console_lockout'")])


def record_entries(client, subject_like: str):
    return client.app[STORE].read(lambda db: [dict(row) for row in db.query(
        "SELECT kind, subject, actor, detail FROM record_entries_single WHERE subject LIKE ? ORDER BY seq",
        (subject_like,))])


async def test_thirty_wrong_passwords_then_the_right_one_is_refused_while_locked(client, console, caplog):
    caplog.set_level(logging.WARNING)
    statuses = [(await attempt(client, "admin", f"wrong password {n}")).status for n in range(30)]
    assert 303 not in statuses
    assert statuses.count(401) < 30, "no attempt was throttled"
    assert set(statuses) <= {401, 429}
    right = await attempt(client, "admin", console.admin_password)
    assert right.status == 429, await right.text()
    assert "Retry-After" in right.headers
    assert "locked" in (await right.text()).lower()
    lockouts = await record_entries(client, "console lockout%")
    assert lockouts and '"username":"admin"' in lockouts[0]["detail"]
    failures = await record_entries(client, "console login failed%")
    assert len(failures) >= 3  # each password actually checked and wrong
    assert any("failed login" in message for message in caplog.messages)
    assert any("lockout" in message for message in caplog.messages)
    alerts = await lockout_alerts(client)
    assert [(a["user"], a["severity"], a["status"]) for a in alerts] == [("admin", "high", "open")]
    facts = json.loads(alerts[0]["facts"])
    assert facts["username"] == "admin" and facts["account_exists"] and "user" in facts["locked"]
    assert "admin" in facts["reason"] and facts["address"] == "127.0.0.1"


async def test_one_address_trying_many_usernames_is_locked_out_too(client, console):
    for n in range(30):
        response = await attempt(client, f"user{n}", "wrong password")
        assert response.status in (401, 429)
    right = await attempt(client, "admin", console.admin_password)
    assert right.status == 429
    alerts = await lockout_alerts(client)  # thirty names guessed: one alert, not thirty
    assert [(a["user"], a["count"]) for a in alerts] == [("*", 1)]
    facts = json.loads(alerts[0]["facts"])
    assert facts["locked"] == ["addr"] and not facts["account_exists"] and "address 127.0.0.1" in facts["reason"]


async def test_a_few_typos_then_the_right_password_signs_in(client, console):
    for _ in range(2):
        assert (await attempt(client, "admin", "typo")).status == 401
    assert (await attempt(client, "admin", console.admin_password)).status == 303


async def test_the_lockout_ends_after_its_period(aiohttp_client, tmp_path, make, console):
    from shadowmap.collector.config import CollectorConfig

    config = CollectorConfig(db_path=tmp_path / "collector.db", admin_password=console.admin_password,
                             login_lockout_seconds=1, login_backoff_max_seconds=0.5)
    client = await make.start_client(aiohttp_client, config)
    for _ in range(12):
        await attempt(client, "admin", "wrong password")
    assert (await attempt(client, "admin", console.admin_password)).status == 429
    import asyncio

    await asyncio.sleep(1.6)
    assert (await attempt(client, "admin", console.admin_password)).status == 303
