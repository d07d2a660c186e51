"""healthz, enrollment and the policy endpoint over a real loopback server."""
from __future__ import annotations

import base64
import hashlib
import json
import stat

from shadowmap import contract
from shadowmap.collector.state import ERRORS


async def test_healthz(client):
    response = await client.get("/healthz")
    assert response.status == 200
    assert await response.json() == {"status": "ok"}


async def test_enroll_secret_file_created_private(client, config):
    path = config.enroll_secret_path
    assert path == config.db_path.parent / "enroll_secret"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(path.read_text().strip()) >= 32


async def test_enroll_with_good_secret(client, config, make):
    enrolled = await make.enroll(client, config)
    assert set(enrolled) == {"device_id", "node_key", "org_key"}
    assert len(base64.b64decode(enrolled["org_key"])) == 32
    # only a sha256 of the node key is stored
    key_hash = hashlib.sha256(enrolled["node_key"].encode()).hexdigest()
    assert make.count_rows(config.db_path, "devices", "node_key_hash = ? AND device_id = ?",
                           (key_hash, enrolled["device_id"])) == 1
    if config.db_url is None:   # the whole file, WAL checkpointed or not
        assert enrolled["node_key"].encode() not in config.db_path.read_bytes()
    else:                       # PostgreSQL: the rows the enrollment wrote
        assert enrolled["node_key"] not in str(make.select_rows(config.db_path, "SELECT * FROM devices"))


async def test_org_key_is_the_same_for_every_device(client, config, make):
    first = await make.enroll(client, config, "host-a")
    second = await make.enroll(client, config, "host-b")
    assert first["org_key"] == second["org_key"]
    assert first["device_id"] != second["device_id"]


async def test_enroll_with_bad_secret_is_refused(client, config, make):
    response = await client.post("/api/v1/enroll", json={
        "enroll_secret": "wrong", "host_identifier": "h", "hostname": "laptop", "os": "linux"})
    assert response.status == 403
    assert (await response.json())["error"]["code"] == "invalid_enroll_secret"
    assert make.count_rows(config.db_path, "devices") == 0


async def test_enroll_malformed_bodies(client, config):
    secret = config.enroll_secret_path.read_text().strip()
    cases = [
        (b"not json", 400),
        (b"[1, 2]", 400),
        (json.dumps({"enroll_secret": secret, "hostname": "x", "os": "linux"}).encode(), 400),
        (json.dumps({"enroll_secret": secret, "host_identifier": "h" * 300, "hostname": "x", "os": "l"}).encode(), 400),
        (json.dumps({"enroll_secret": 5}).encode(), 403),
        (b"{" + b" " * 70000 + b"}", 413),
    ]
    for body, status in cases:
        response = await client.post("/api/v1/enroll", data=body, headers={"Content-Type": "application/json"})
        assert response.status == status, body[:60]
    assert client.app[ERRORS].internal_errors == 0


async def test_reenroll_keeps_device_and_invalidates_old_key(client, config, make):
    first = await make.enroll(client, config, "host-x")
    # re-enrolling a known device shows its current key (tests/security/test_device_identity.py)
    response = await client.post("/api/v1/enroll", json={
        "enroll_secret": config.enroll_secret_path.read_text().strip(), "host_identifier": "host-x",
        "hostname": "laptop-1", "os": "linux", "node_key": first["node_key"]})
    assert response.status == 200
    second = await response.json()
    assert second["device_id"] == first["device_id"]
    assert second["node_key"] != first["node_key"]
    old = await client.get("/api/v1/policy", headers={"Authorization": f"Bearer {first['node_key']}"})
    assert old.status == 401
    assert await old.json() == {"error": {"code": "invalid_node_key", "message": "the node key is unknown or revoked; enroll again"}, "reenroll": True}
    new = await client.get("/api/v1/policy", headers={"Authorization": f"Bearer {second['node_key']}"})
    assert new.status == 200


async def test_policy_etag_and_304(client, device, config):
    response = await client.get("/api/v1/policy", headers=device["headers"])
    assert response.status == 200
    policy = await response.json()
    contract.validate_policy(policy)
    assert policy == config.default_policy
    etag = response.headers["ETag"]
    assert etag.startswith('"') and etag.endswith('"')

    again = await client.get("/api/v1/policy", headers={**device["headers"], "If-None-Match": etag})
    assert again.status == 304
    assert again.headers["ETag"] == etag
    assert await again.read() == b""

    weak = await client.get("/api/v1/policy", headers={**device["headers"], "If-None-Match": f'"x", W/{etag}'})
    assert weak.status == 304
    stale = await client.get("/api/v1/policy", headers={**device["headers"], "If-None-Match": '"stale"'})
    assert stale.status == 200


async def test_policy_requires_a_node_key(client):
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic abc"}):
        response = await client.get("/api/v1/policy", headers=headers)
        assert response.status == 401
        assert await response.json() == {"error": {"code": "invalid_node_key", "message": "the node key is unknown or revoked; enroll again"}, "reenroll": True}
