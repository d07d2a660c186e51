"""Node keys cached by a collector node (api/node_keys.py) never outlive a revocation or a
re-enrolment: two nodes on one PostgreSQL, the agent's key cached on node A by an upload and
a policy poll, revoked through node B; node A refuses the very next upload (nothing of it
stored) and poll at once, well inside the cache's lifetime. On SQLite, one node: the key
revoked in the database behind the cache's back."""
from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from support.fleet_nodes import two_node_configs

from shadowmap.collector.api.node_keys import CACHE_SECONDS, cache_of
from shadowmap.collector.app import create_app
from shadowmap.collector.state import STORE
from shadowmap.collector.store.sqlite.devices import hash_node_key, revoke

pytestmark = pytest.mark.both_backends
REFUSED = {"error": {"code": "invalid_node_key", "message": "the node key is unknown or revoked; enroll again"},
           "reenroll": True}


async def _upload(client, headers: dict, events: list[dict]):
    return await client.post("/api/v1/events", json={"events": events}, headers=headers)


async def _cached_on(client, device: dict) -> dict:
    """An upload and a poll through ``client``: the key is in its cache afterwards."""
    response = await _upload(client, device["headers"], [device["make"].heartbeat(device["device_id"])])
    assert response.status == 200, await response.text()
    assert (await client.get("/api/v1/policy", headers=device["headers"])).status == 200
    assert cache_of(client.app[STORE]).get(hash_node_key(device["node_key"])) is not None
    return device


async def test_a_revoked_key_is_refused_at_once_though_cached(client, device, config, make):
    device["make"] = make
    await _cached_on(client, device)
    stored_before = make.count_rows(config.db_path, "events")
    await client.app[STORE].write(lambda db: revoke(db, device["device_id"]))  # the cache is not told
    paste = make.paste(device["device_id"])
    response = await _upload(client, device["headers"], [paste])
    assert response.status == 401 and await response.json() == REFUSED
    assert make.count_rows(config.db_path, "events") == stored_before  # the batch rolled back whole
    assert not make.select_rows(config.db_path, "SELECT id FROM events WHERE id = ?", (paste["id"],))
    poll = await client.get("/api/v1/policy", headers=device["headers"])
    assert poll.status == 401 and await poll.json() == REFUSED
    assert cache_of(client.app[STORE]).get(hash_node_key(device["node_key"])) is None  # dropped
    assert CACHE_SECONDS > 5  # all of the above ran well inside the cache's lifetime


async def test_a_replaced_key_is_refused_and_the_new_one_served(client, config, make):
    first = await make.enroll(client, config, "host-cache")
    first.update(headers={"Authorization": f"Bearer {first['node_key']}"}, make=make)
    await _cached_on(client, first)
    response = await client.post("/api/v1/enroll", json={
        "enroll_secret": config.enroll_secret_path.read_text().strip(), "host_identifier": "host-cache",
        "hostname": "laptop-1", "os": "linux", "node_key": first["node_key"]})
    second = await response.json()
    assert second["node_key"] != first["node_key"]
    old = await _upload(client, first["headers"], [make.heartbeat(first["device_id"])])
    assert old.status == 401 and await old.json() == REFUSED
    assert (await client.get("/api/v1/policy", headers=first["headers"])).status == 401
    new_headers = {"Authorization": f"Bearer {second['node_key']}"}
    assert (await _upload(client, new_headers, [make.heartbeat(second["device_id"])])).status == 200
    assert (await client.get("/api/v1/policy", headers=new_headers)).status == 200


async def test_revoked_through_another_node_is_refused_by_the_caching_one(pg_url: str, aiohttp_client, make,
                                                                          tmp_path: Path):
    # several nodes share a database on PostgreSQL only: this one runs there, never skipped
    configs = two_node_configs(tmp_path, pg_url)
    node_a, node_b = [await make.start_client(aiohttp_client, config, create_app(config, parse_workers=0))
                      for config in configs]
    device = await make.enroll(node_a, configs[0])
    device.update(headers={"Authorization": f"Bearer {device['node_key']}"}, make=make)
    await _cached_on(node_a, device)
    await node_b.app[STORE].write(lambda db: revoke(db, device["device_id"]))
    paste = make.paste(device["device_id"])
    response = await _upload(node_a, device["headers"], [paste])
    assert response.status == 401 and await response.json() == REFUSED
    assert (await node_a.get("/api/v1/policy", headers=device["headers"])).status == 401
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT count(*) FROM events WHERE id = %s", (paste["id"],)).fetchone() == (0,)
