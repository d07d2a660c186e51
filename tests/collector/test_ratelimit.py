"""Per-device ingest rate limits: over the limit a device gets 429 with Retry-After, other
devices are not affected, and the limit recovers with time."""
from __future__ import annotations

import asyncio

from shadowmap.collector.api.ratelimit import RATE_LIMIT, RateLimitSettings, TokenBuckets
from shadowmap.collector.app import create_app


def test_token_bucket_refills_at_its_rate():
    now = [0.0]
    buckets = TokenBuckets(RateLimitSettings(requests_per_second=2.0, burst=2), clock=lambda: now[0])
    assert buckets.take("a") == 0 and buckets.take("a") == 0
    assert buckets.take("a") == 0.5  # empty: the next token comes in half a second
    assert buckets.take("b") == 0    # another device has its own bucket
    now[0] += 0.5
    assert buckets.take("a") == 0


def test_buckets_are_bounded():
    buckets = TokenBuckets(RateLimitSettings(max_tracked_devices=100))
    for n in range(1000):
        buckets.take(f"device-{n}")
    assert len(buckets._buckets) == 100


async def test_a_device_over_its_limit_gets_429_with_retry_after(aiohttp_client, config, make):
    app = create_app(config)
    app[RATE_LIMIT] = RateLimitSettings(requests_per_second=0.5, burst=2)
    client = await make.start_client(aiohttp_client, config, app)
    first = await make.enroll(client, config, "host-a")
    second = await make.enroll(client, config, "host-b")
    headers = {"Authorization": f"Bearer {first['node_key']}"}

    async def post(device_headers, device_id):
        return await client.post("/api/v1/events", json={"events": [make.heartbeat(device_id)]}, headers=device_headers)

    assert (await post(headers, first["device_id"])).status == 200
    assert (await post(headers, first["device_id"])).status == 200
    limited = await post(headers, first["device_id"])
    assert limited.status == 429
    assert 1 <= int(limited.headers["Retry-After"]) <= 2
    assert (await limited.json())["error"]["code"] == "rate_limited"
    other = {"Authorization": f"Bearer {second['node_key']}"}
    assert (await post(other, second["device_id"])).status == 200
    assert (await client.post("/api/v1/events", json={"events": []}, headers={"Authorization": "Bearer x"})).status == 401
    await asyncio.sleep(int(limited.headers["Retry-After"]) + 0.1)
    assert (await post(headers, first["device_id"])).status == 200
