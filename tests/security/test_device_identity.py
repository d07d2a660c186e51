"""Issue 16, item 5: re-enrollment takeover. Anyone holding the enroll secret (it is in every
package) and another machine's host identifier (world-readable /etc/machine-id) must not get
that machine's device, revoke its key or post as it. Re-enrolling a known device needs its
current node key or an admin's approval; revocation holds; a system agent and a user agent
on one host are two devices."""
from __future__ import annotations

import asyncio

from click.testing import CliRunner

from shadowmap.collector.cli import collector

HOST = "9f1c0d5e2b7a4e31b8f0c6d2a1e5f7b3"      # a machine-id


async def _enroll(client, config, **fields):
    body = {"enroll_secret": config.enroll_secret_path.read_text().strip(), "host_identifier": HOST,
            "hostname": "laptop-1", "os": "linux", **fields}
    response = await client.post("/api/v1/enroll", json=body)
    return response.status, await response.json()


async def _key_works(client, node_key: str) -> bool:
    response = await client.get("/api/v1/policy", headers={"Authorization": f"Bearer {node_key}"})
    return response.status == 200


async def _devices_page(client, console) -> str:
    await console.sign_in(client, "admin", console.admin_password)
    response = await client.get("/admin/devices")
    assert response.status == 200
    return await response.text()


async def test_enrolling_a_known_host_without_its_key_takes_nothing_over(client, config, make):
    status, victim = await _enroll(client, config, request_token="victim-token")
    assert status == 200
    status, attacker = await _enroll(client, config, hostname="evil", request_token="attacker-token")
    assert status == 202 and attacker["status"] == "pending"
    assert "node_key" not in attacker and "device_id" not in attacker and "org_key" not in attacker
    assert await _key_works(client, victim["node_key"])            # the victim's key is not revoked
    assert make.count_rows(config.db_path, "devices") == 1


async def test_an_old_agent_without_a_request_token_is_refused_not_given_the_device(client, config):
    status, victim = await _enroll(client, config)
    status, body = await _enroll(client, config)
    assert status == 409 and "node_key" not in body
    assert await _key_works(client, victim["node_key"])


async def test_reenrolling_with_the_current_key_rotates_it(client, config):
    _, first = await _enroll(client, config)
    status, second = await _enroll(client, config, node_key=first["node_key"])
    assert status == 200 and second["device_id"] == first["device_id"]
    assert not await _key_works(client, first["node_key"])
    assert await _key_works(client, second["node_key"])


async def test_an_admin_approves_a_reenrollment_in_the_console(client, config, console):
    _, first = await _enroll(client, config)
    status, pending = await _enroll(client, config, request_token="lost-key-token")
    assert status == 202
    page = await _devices_page(client, console)
    assert pending["request_id"] in page
    csrf = await console.page_csrf(client, "/admin/devices")
    response = await client.post("/admin/devices/requests", allow_redirects=False, data={
        "csrf_token": csrf, "request_id": pending["request_id"], "decision": "approve"})
    assert response.status == 303
    # someone else's token still gets nothing; the approved agent gets the device
    assert (await _enroll(client, config, request_token="other-token"))[0] == 202
    status, approved = await _enroll(client, config, request_token="lost-key-token")
    assert status == 200 and approved["device_id"] == first["device_id"]
    assert not await _key_works(client, first["node_key"]) and await _key_works(client, approved["node_key"])
    # an approval is used once
    assert (await _enroll(client, config, request_token="lost-key-token"))[0] == 202


async def test_revocation_in_the_console_holds_against_reenrollment(client, config, console):
    _, first = await _enroll(client, config, request_token="t1")
    await _devices_page(client, console)
    csrf = await console.page_csrf(client, "/admin/devices")
    response = await client.post("/admin/devices/revoke", allow_redirects=False,
                                 data={"csrf_token": csrf, "device_id": first["device_id"]})
    assert response.status == 303
    assert not await _key_works(client, first["node_key"])
    status, _ = await _enroll(client, config, node_key=first["node_key"], request_token="t1")
    assert status == 202                                          # the revoked key buys nothing
    assert not await _key_works(client, first["node_key"])


async def test_revoke_and_approve_on_the_command_line(client, config):
    _, first = await _enroll(client, config)
    def cli(*args: str):       # the command runs its own event loop: off this test's loop
        return asyncio.to_thread(CliRunner().invoke, collector, [*args, "--db", str(config.db_path)])

    result = await cli("devices", "revoke", first["device_id"])
    assert result.exit_code == 0, result.output
    assert not await _key_works(client, first["node_key"])
    status, pending = await _enroll(client, config, request_token="cli-token")
    assert status == 202
    listed = await cli("devices", "requests")
    assert pending["request_id"] in listed.output
    result = await cli("devices", "approve", pending["request_id"])
    assert result.exit_code == 0, result.output
    status, again = await _enroll(client, config, request_token="cli-token")
    assert status == 200 and again["device_id"] == first["device_id"] and await _key_works(client, again["node_key"])


async def test_system_and_user_agents_on_one_host_are_distinct_devices(client, config):
    _, system = await _enroll(client, config, mode="system")
    _, alice = await _enroll(client, config, mode="user", os_user="alice")
    _, bob = await _enroll(client, config, mode="user", os_user="bob")
    assert len({system["device_id"], alice["device_id"], bob["device_id"]}) == 3
    for enrolled in (system, alice, bob):                   # none evicted another
        assert await _key_works(client, enrolled["node_key"])


async def test_decisions_are_in_the_record(client, config, console):
    from shadowmap.collector.state import STORE

    _, first = await _enroll(client, config)
    await _devices_page(client, console)
    csrf = await console.page_csrf(client, "/admin/devices")
    await client.post("/admin/devices/revoke", allow_redirects=False,
                      data={"csrf_token": csrf, "device_id": first["device_id"]})
    rows = await client.app[STORE].read(lambda db: list(db.query(
        "SELECT kind, subject, actor FROM record_entries WHERE subject = ?", (f"device:{first['device_id']}",))))
    assert rows and rows[0]["kind"] == "admin" and rows[0]["actor"] == "console:admin"
