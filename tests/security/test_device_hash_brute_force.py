"""Issue 16, item 18: the org key every package can enroll for must not let anyone reverse a
low-entropy value (an SSN) from the hashes the collector stores or exports. An attacker who
holds the enroll secret, or a laptop's keys, hashes every candidate SSN the way an agent
does; the right one is among the candidates, and none matches what is stored. The same SSN
pasted on two devices still correlates."""
from __future__ import annotations

import base64
import json

from shadowmap.collector.state import STORE
from shadowmap.detectors.hashing import keyed_hash

SSN = "123-45-6789"
# the attacker's guesses: a block of SSNs that holds the real one (the whole space is 10^9)
CANDIDATES = [f"123-45-{n:04d}" for n in range(6000, 7000)]


async def _enroll(client, config, host: str) -> dict:
    response = await client.post("/api/v1/enroll", json={
        "enroll_secret": config.enroll_secret_path.read_text().strip(), "host_identifier": host,
        "hostname": host, "os": "linux"})
    assert response.status == 200
    return await response.json()


def _finding(entity_type: str, data_class: str, value_hash: str) -> dict:
    return {"entity_type": entity_type, "data_class": data_class, "count": 1, "score": 0.95, "hashes": [value_hash]}


async def _paste(client, make, device: dict, findings: list[dict]) -> dict:
    event = make.paste(device["device_id"], findings=findings)
    response = await client.post("/api/v1/events", json={"events": [event]},
                                 headers={"Authorization": f"Bearer {device['node_key']}"})
    assert response.status == 200 and (await response.json())["acked"] == [event["id"]]
    return event


async def _stored_hashes(client, event_id: str) -> list[str]:
    [row] = await client.app[STORE].read(lambda db: list(db.query("SELECT body FROM events WHERE id = ?", (event_id,))))
    return [h for finding in json.loads(row["body"])["data"]["findings"] for h in finding["hashes"]]


async def test_the_org_key_cannot_reverse_a_stored_ssn_hash(client, config, make):
    laptop = await _enroll(client, config, "laptop-a")
    org_key = base64.b64decode(laptop["org_key"])     # what every package can get
    sent = keyed_hash(org_key, SSN)
    event = await _paste(client, make, laptop, [_finding("US_SSN", "pii", sent)])
    stored = await _stored_hashes(client, event["id"])
    sightings = await client.app[STORE].read(lambda db: [row["hash"] for row in db.query("SELECT hash FROM hash_sightings")])
    assert SSN in CANDIDATES
    guesses = {keyed_hash(org_key, candidate) for candidate in CANDIDATES}
    assert sent in guesses                                   # the attacker's method is the agent's
    assert not guesses & set(stored), "a stored SSN hash was reversed with the org key"
    assert not guesses & set(sightings), "a hash sighting was reversed with the org key"


async def test_the_same_ssn_still_correlates_across_devices(client, config, make):
    first, second = await _enroll(client, config, "laptop-a"), await _enroll(client, config, "laptop-b")
    org_key = base64.b64decode(first["org_key"])
    one = await _paste(client, make, first, [_finding("US_SSN", "pii", keyed_hash(org_key, SSN))])
    two = await _paste(client, make, second, [_finding("US_SSN", "pii", keyed_hash(org_key, SSN))])
    [stored_one], [stored_two] = await _stored_hashes(client, one["id"]), await _stored_hashes(client, two["id"])
    assert stored_one == stored_two
    devices = await client.app[STORE].read(lambda db: db.execute(
        "SELECT count(DISTINCT device_id) FROM hash_sightings WHERE hash = ?", (stored_one,)).fetchone()[0])
    assert devices == 2


async def test_a_secrets_hash_is_kept_as_sent(client, config, make):
    laptop = await _enroll(client, config, "laptop-a")
    org_key = base64.b64decode(laptop["org_key"])
    sent = keyed_hash(org_key, "ghp_" + "x" * 36)
    event = await _paste(client, make, laptop, [_finding("GITHUB_TOKEN", "secret", sent)])
    assert await _stored_hashes(client, event["id"]) == [sent]   # high entropy: looked up, not guessed
