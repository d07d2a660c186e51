"""Per-device ingest rate limit: a token bucket per node key on POST /api/v1/events; over
the limit -> 429 with Retry-After (seconds) and a JSON error the agent can act on."""
from __future__ import annotations

import math
import time
from collections import OrderedDict
from dataclasses import dataclass

from aiohttp import web

from shadowmap.collector.api.ingest_counts import INGEST_COUNTS
from shadowmap.collector.errors import ApiError
from shadowmap.collector.http import bearer_token

INGEST_PATH = "/api/v1/events"


@dataclass
class RateLimitSettings:
    requests_per_second: float = 20.0   # a batch holds up to 1000 events
    burst: int = 100
    max_tracked_devices: int = 200_000  # least recently seen buckets are dropped beyond this


RATE_LIMIT = web.AppKey("rate_limit_settings", RateLimitSettings)


class TokenBuckets:
    def __init__(self, settings: RateLimitSettings, clock=time.monotonic) -> None:
        self.settings, self.clock = settings, clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, key: str) -> float:
        """0 when a request may pass (and count it), else the seconds until it may."""
        rate, burst = self.settings.requests_per_second, float(self.settings.burst)
        now = self.clock()
        tokens, last = self._buckets.pop(key, (burst, now))
        tokens = min(burst, tokens + (now - last) * rate)
        wait = 0.0
        if tokens >= 1.0:
            tokens -= 1.0
        else:
            wait = (1.0 - tokens) / rate if rate > 0 else 3600.0
        self._buckets[key] = (tokens, now)
        while len(self._buckets) > self.settings.max_tracked_devices:
            self._buckets.popitem(last=False)
        return wait


BUCKETS = web.AppKey("rate_limit_buckets", TokenBuckets)


@web.middleware
async def ingest_rate_limit_middleware(request: web.Request, handler) -> web.StreamResponse:
    if request.method != "POST" or request.path != INGEST_PATH:
        return await handler(request)
    token = bearer_token(request)
    if token is None:
        return await handler(request)  # the handler answers 401
    wait = request.app[BUCKETS].take(token[:256])
    if wait > 0:
        retry_after = max(1, math.ceil(wait))
        request.app[INGEST_COUNTS].refused(429, "rate_limited")
        raise ApiError(429, "rate_limited", f"too many batches from this device; retry in {retry_after} s",
                       headers={"Retry-After": str(retry_after)}, retry_after=retry_after)
    return await handler(request)


async def _create_buckets(app: web.Application) -> None:
    # at startup, so settings put on the app after create_app() apply
    app[BUCKETS] = TokenBuckets(app[RATE_LIMIT])


def install(app: web.Application) -> None:
    if RATE_LIMIT not in app:
        app[RATE_LIMIT] = RateLimitSettings()
    app.on_startup.append(_create_buckets)
    app.middlewares.append(ingest_rate_limit_middleware)
