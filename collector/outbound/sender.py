"""Delivers the outbound queue: a background task of the app that, every poll, queues
alert changes and POSTs due messages to their sinks (JSON, 5 s timeout, optional HMAC
signature). A 2xx is delivery; anything else is retried with exponential backoff until the
message is dead-lettered (`shadowmap.collector.outbound.queue`)."""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
from aiohttp import web

from shadowmap.collector.background import background_task, holds_lease
from shadowmap.collector.outbound import destinations
from shadowmap.collector.outbound import queue as outbound
from shadowmap.collector.state import STORE

log = logging.getLogger(__name__)


@dataclass
class OutboundSettings:
    poll_seconds: float = 2.0
    timeout_seconds: float = 5.0
    max_attempts: int = 8
    backoff_base_seconds: float = 2.0
    backoff_max_seconds: float = 600.0
    batch: int = 100


OUTBOUND_SETTINGS = web.AppKey("outbound_settings", OutboundSettings)
PRODUCT_VERSION = "0.1.0"


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


async def deliver_once(app: web.Application, session: aiohttp.ClientSession) -> int:
    """One poll: queue alert changes, then try every due message once. Returns how many were delivered."""
    store, settings = app[STORE], app[OUTBOUND_SETTINGS]
    await store.write(lambda db: outbound.enqueue_alert_changes(db, PRODUCT_VERSION))
    messages = await store.read(lambda db: outbound.due(db, settings.batch))
    if not messages:
        return 0
    sinks = {sink["name"]: sink for sink in await store.read(outbound.sinks)}
    delivered = 0
    for message in messages:
        sink = sinks.get(message["sink"])
        error = await _post(session, sink, message["payload"].encode(), settings) if sink else "sink was removed"
        if error is None:
            await store.write(lambda db, m=message: outbound.mark_delivered(db, m["id"]))
            delivered += 1
        else:
            status = await store.write(lambda db, m=message, e=error: outbound.mark_failed(
                db, m["id"], e, settings.max_attempts, settings.backoff_base_seconds, settings.backoff_max_seconds))
            if status == "dead":
                log.warning("outbound message %s to sink %s dead-lettered: %s", message["id"], message["sink"], error)
    return delivered


async def _post(session: aiohttp.ClientSession, sink: dict, body: bytes, settings: OutboundSettings) -> str | None:
    headers = {"Content-Type": "application/json", "User-Agent": f"shadowmap-collector/{PRODUCT_VERSION}"}
    if sink.get("secret"):
        headers["X-Shadowmap-Signature"] = signature(sink["secret"], body)
    try:
        destinations.check_url(sink["url"], resolve=False)  # an address in the URL: the resolver never sees it
        async with session.post(sink["url"], data=body, headers=headers, allow_redirects=False,
                                timeout=aiohttp.ClientTimeout(total=settings.timeout_seconds)) as response:
            await response.read()
            return None if 200 <= response.status < 300 else f"HTTP {response.status}"
    except (TimeoutError, aiohttp.ClientError, OSError, ValueError) as exc:
        return f"{type(exc).__name__}: {str(exc)[:200]}"


def client_session() -> aiohttp.ClientSession:
    """The session deliveries go through: every name resolved and checked at each connection
    (no DNS cache), redirects never followed (see _post), no cookies kept."""
    connector = aiohttp.TCPConnector(resolver=destinations.CheckedResolver(), use_dns_cache=False)
    return aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar())


async def _run(app: web.Application) -> None:
    async with client_session() as session:
        while True:
            try:
                # one node delivers at a time (the lease), so no message goes out twice
                if await holds_lease(app[STORE], "outbound-delivery", app[OUTBOUND_SETTINGS].poll_seconds):
                    await deliver_once(app, session)
            except asyncio.CancelledError:
                raise
            except Exception:  # keep delivering; the failure is logged with its traceback
                log.exception("outbound delivery round failed")
            await asyncio.sleep(app[OUTBOUND_SETTINGS].poll_seconds)


async def _sender_context(app: web.Application) -> AsyncIterator[None]:
    async with background_task("outbound-sender", _run(app)):
        yield


def install(app: web.Application) -> None:
    """Start the sender with the app (after the store: add this after the store's context)."""
    if OUTBOUND_SETTINGS not in app:
        app[OUTBOUND_SETTINGS] = OutboundSettings()
    app.cleanup_ctx.append(_sender_context)
