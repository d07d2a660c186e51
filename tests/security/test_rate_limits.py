"""Issue 16 item 17: ingest rate-limit buckets are keyed after authentication (per device:
made-up node keys neither consume a device's bucket nor fill the table), and enrollment is
rate-limited per client address."""
from __future__ import annotations

from shadowmap.collector.api.ratelimit import BUCKETS, ENROLL_BUCKETS, RATE_LIMIT, RateLimitSettings
from shadowmap.collector.app import create_app


async def limited_client(aiohttp_client, config, make):
    app = create_app(config)
    app[RATE_LIMIT] = RateLimitSettings(requests_per_second=0.01, burst=3, enroll_per_second=0.01, enroll_burst=3)
    return await make.start_client(aiohttp_client, config, app)


async def test_made_up_node_keys_get_no_bucket_and_do_not_spend_a_devices(aiohttp_client, config, make):
    client = await limited_client(aiohttp_client, config, make)
    device = await make.enroll(client, config)
    headers = {"Authorization": f"Bearer {device['node_key']}"}
    for n in range(50):
        response = await client.post("/api/v1/events", json={"events": []},
                                     headers={"Authorization": f"Bearer made-up-{n}"})
        assert response.status == 401
    assert len(client.app[BUCKETS]) == 0
    statuses = [(await client.post("/api/v1/events", json={"events": []}, headers=headers)).status for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert len(client.app[BUCKETS]) == 1


async def test_enroll_is_rate_limited_per_client_address(aiohttp_client, config, make):
    client = await limited_client(aiohttp_client, config, make)
    secret = config.enroll_secret_path.read_text().strip()
    statuses = []
    for n in range(5):
        response = await client.post("/api/v1/enroll", json={"enroll_secret": "wrong" if n % 2 else secret,
                                                             "host_identifier": f"h{n}", "hostname": "x", "os": "linux"})
        statuses.append(response.status)
    assert statuses[:3] == [200, 403, 200] and statuses[3:] == [429, 429]
    assert "Retry-After" in response.headers and (await response.json())["error"]["code"] == "rate_limited"
    assert len(client.app[ENROLL_BUCKETS]) == 1


async def test_the_enrollment_limit_comes_from_the_collectors_config(aiohttp_client, config, make):
    # `collector serve --enroll-per-second/--enroll-burst`: a big rollout behind one NAT raises them
    config.enroll_per_second, config.enroll_burst = 0.01, 2
    client = await make.start_client(aiohttp_client, config, create_app(config))
    secret = config.enroll_secret_path.read_text().strip()
    statuses = [(await client.post("/api/v1/enroll", json={"enroll_secret": secret, "host_identifier": f"h{n}",
                                                          "hostname": "x", "os": "linux"})).status for n in range(3)]
    assert statuses == [200, 200, 429]
