"""GET /api/v1/policy: the current policy for an authenticated agent, with ETag / 304."""
from __future__ import annotations

from aiohttp import web

from shadowmap.collector.api.devices import authenticate_device
from shadowmap.collector.state import STORE
from shadowmap.collector.store.sqlite import org


def etag_matches(header: str | None, etag: str) -> bool:
    """RFC 9110 weak comparison against an If-None-Match list (or *)."""
    if not header:
        return False
    for candidate in header.split(","):
        candidate = candidate.strip()
        if candidate == "*" or candidate.removeprefix("W/") == etag:
            return True
    return False


async def policy_handler(request: web.Request) -> web.Response:
    await authenticate_device(request)
    policy_json, etag = await request.app[STORE].read(org.current_policy)
    headers = {"ETag": etag, "Cache-Control": "no-cache"}
    if etag_matches(request.headers.get("If-None-Match"), etag):
        return web.Response(status=304, headers=headers)
    return web.Response(text=policy_json, content_type="application/json", headers=headers)
