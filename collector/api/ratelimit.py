"""Rate limits, token buckets: ingest per device, counted after the device is authenticated
(`limit_device`, called by the ingest handler: a made-up node key gets a 401 and no bucket,
so it can neither spend a device's bucket nor crowd the table), and enrollment per client
address (the middleware; behind a trusted proxy, the address it forwarded for). Over a limit:
429 with Retry-After (seconds) and a JSON error the agent can act on."""
from __future__ import annotations

import math
import time
from collections import OrderedDict
from dataclasses import dataclass, replace

from aiohttp import web

from shadowmap.collector.api.ingest_counts import INGEST_COUNTS
from shadowmap.collector.config import CollectorConfig
from shadowmap.collector.errors import ApiError
from shadowmap.collector.http import client_address
from shadowmap.collector.state import CONFIG

ENROLL_PATH = "/api/v1/enroll"


@dataclass
class RateLimitSettings:
    requests_per_second: float = 20.0   # per device; a batch holds up to 1000 events
    burst: int = 100
    max_tracked_devices: int = 200_000  # least recently seen buckets are dropped beyond this
    # per client address (CollectorConfig's, `collector serve --enroll-rate`)
    enroll_per_second: float = CollectorConfig.enroll_per_second
    enroll_burst: int = CollectorConfig.enroll_burst


RATE_LIMIT = web.AppKey("rate_limit_settings", RateLimitSettings)


class TokenBuckets:
    """Buckets of ``settings.requests_per_second`` and ``burst``, one per key."""

    def __init__(self, settings: RateLimitSettings, clock=time.monotonic) -> None:
        self.rate, self.burst, self.clock = settings.requests_per_second, float(settings.burst), clock
        self.max_tracked = settings.max_tracked_devices
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._buckets)

    def take(self, key: str) -> float:
        """0 when a request may pass (and count it), else the seconds until it may."""
        now = self.clock()
        tokens, last = self._buckets.pop(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        wait = 0.0
        if tokens >= 1.0:
            tokens -= 1.0
        else:
            wait = (1.0 - tokens) / self.rate if self.rate > 0 else 3600.0
        self._buckets[key] = (tokens, now)
        while len(self._buckets) > self.max_tracked:
            self._buckets.popitem(last=False)
        return wait


BUCKETS = web.AppKey("rate_limit_buckets", TokenBuckets)
ENROLL_BUCKETS = web.AppKey("enroll_rate_limit_buckets", TokenBuckets)


def _refuse(wait: float, what: str) -> ApiError:
    retry_after = max(1, math.ceil(wait))
    return ApiError(429, "rate_limited", f"too many {what}; retry in {retry_after} s",
                    headers={"Retry-After": str(retry_after)}, retry_after=retry_after)


def limit_device(request: web.Request, device_id: str) -> None:
    """For the ingest handler, once the device is authenticated: ApiError 429 when it is over its rate."""
    wait = request.app[BUCKETS].take(device_id)
    if wait > 0:
        raise _refuse(wait, "batches from this device")


@web.middleware
async def enroll_rate_limit_middleware(request: web.Request, handler) -> web.StreamResponse:
    if request.method != "POST" or request.path != ENROLL_PATH:
        return await handler(request)
    wait = request.app[ENROLL_BUCKETS].take(client_address(request))
    if wait > 0:
        request.app[INGEST_COUNTS].refused(429, "rate_limited")
        raise _refuse(wait, "enrollments from this address")
    return await handler(request)


async def _create_buckets(app: web.Application) -> None:
    # at startup, so settings put on the app after create_app() apply
    settings = app[RATE_LIMIT]
    app[BUCKETS] = TokenBuckets(settings)
    app[ENROLL_BUCKETS] = TokenBuckets(replace(settings, requests_per_second=settings.enroll_per_second,
                                               burst=settings.enroll_burst))


def install(app: web.Application) -> None:
    if RATE_LIMIT not in app:
        config = app[CONFIG]
        app[RATE_LIMIT] = RateLimitSettings(enroll_per_second=config.enroll_per_second, enroll_burst=config.enroll_burst)
    app.on_startup.append(_create_buckets)
    app.middlewares.append(enroll_rate_limit_middleware)
