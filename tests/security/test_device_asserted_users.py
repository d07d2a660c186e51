"""Issue 16, item 6: the collector believed the `user` any device asserted, so any node-key
holder (every employee, in user-mode installs) could raise a critical alert against, say,
ceo@corp. A user-mode node key is bound to its OS user at enrollment and speaks for no one
else; a system agent vouches for users from the OS, and the alert page says which devices,
in which modes, asserted an alert's users."""
from __future__ import annotations

import re

from shadowmap.collector.state import STORE


async def _enroll(client, config, host: str, **fields) -> dict:
    response = await client.post("/api/v1/enroll", json={
        "enroll_secret": config.enroll_secret_path.read_text().strip(), "host_identifier": host,
        "hostname": f"{host}-laptop", "os": "linux", **fields})
    assert response.status == 200, await response.text()
    enrolled = await response.json()
    enrolled["headers"] = {"Authorization": f"Bearer {enrolled['node_key']}"}
    return enrolled


async def _post(client, device: dict, events: list[dict]) -> dict:
    response = await client.post("/api/v1/events", json={"events": events}, headers=device["headers"])
    assert response.status == 200, await response.text()
    return await response.json()


async def test_a_user_mode_key_cannot_speak_for_another_user(client, config, make):
    alice = await _enroll(client, config, "host-a", mode="user", os_user="alice")
    framed = make.paste(alice["device_id"], user="ceo@corp", action="block")
    own = make.paste(alice["device_id"], user="alice", action="block")
    body = await _post(client, alice, [framed, own])
    assert body["acked"] == [own["id"]]
    [rejected] = body["rejected"]
    assert rejected["id"] == framed["id"] and "user" in rejected["error"]
    assert make.count_rows(config.db_path, "events") == 1


async def test_no_alert_is_raised_against_a_user_the_device_cannot_speak_for(client, config, make):
    alice = await _enroll(client, config, "host-a", mode="user", os_user="alice")
    await _post(client, alice, [make.paste(alice["device_id"], user="ceo@corp", action="block")])
    against_ceo = await client.app[STORE].read(
        lambda db: list(db.query("SELECT id FROM alerts WHERE user = ? OR users LIKE ?", ("ceo@corp", "%ceo@corp%"))))
    assert against_ceo == []


async def test_a_system_agent_vouches_for_users_and_the_alert_page_says_so(client, config, make, console):
    shared = await _enroll(client, config, "host-s", mode="system")
    bob = await _enroll(client, config, "host-b", mode="user", os_user="bob")
    await _post(client, shared, [make.paste(shared["device_id"], user="bob", action="block")])
    await _post(client, bob, [make.paste(bob["device_id"], user="bob", action="block")])
    await console.sign_in(client, "admin", console.admin_password)
    listing = await (await client.get("/alerts?status=any&user=bob")).text()
    alert_ids = sorted(set(re.findall(r'href="/alerts/(\d+)"', listing)))
    assert alert_ids, listing[:500]
    page = await (await client.get(f"/alerts/{alert_ids[0]}")).text()
    assert "Users asserted by" in page
    assert "host-s-laptop" in page and "system-mode" in page
    assert "host-b-laptop" in page and "user-mode" in page and "<strong>bob</strong>" in page
