"""The device watch as a background job: every few minutes, on one node of the fleet at a time
(it holds the job's lease), raise "Protection disabled" for devices gone dark or without the
extension, and resolve the alerts of devices that came back (shadowmap.collector.alerts.protection)."""
from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from aiohttp import web

from shadowmap.collector.alerts import protection
from shadowmap.collector.background import background_task
from shadowmap.collector.state import CONFIG, STORE
from shadowmap.collector.store.sqlite import leases

log = logging.getLogger(__name__)
JOB = "device-watch"


@dataclass
class WatchSettings:
    dark_after: timedelta = protection.DEFAULT_DARK_AFTER
    every_seconds: float = 300.0          # 0 disables the job
    node: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}")


WATCH_SETTINGS = web.AppKey("device_watch_settings", WatchSettings)


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


async def run_once(app: web.Application) -> protection.WatchResult | None:
    """One pass, if this node holds the job's lease (None when another node does)."""
    settings = app[WATCH_SETTINGS]
    now = datetime.now(UTC)
    # the lease outlives two passes: a node that dies hands the job over within that
    expires = now + timedelta(seconds=max(60.0, 2 * settings.every_seconds))

    def work(db):
        if not leases.take(db, JOB, settings.node, _iso(now), _iso(expires)):
            return None
        return protection.watch(db, now, settings.dark_after)
    result = await app[STORE].write(work)
    if result and (result.opened or result.resolved):
        log.info("device watch: %d protection alerts opened, %d resolved", len(result.opened), len(result.resolved))
    return result


async def _loop(app: web.Application, every: float) -> None:
    while True:
        await asyncio.sleep(every)
        try:
            await run_once(app)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("device watch failed")


async def _context(app: web.Application) -> AsyncIterator[None]:
    every = app[WATCH_SETTINGS].every_seconds
    async with background_task(JOB, _loop(app, every) if every > 0 else None):
        yield


def install(app: web.Application) -> None:
    """The job, with the silence limit the collector's settings give (device_dark_after_days)."""
    if WATCH_SETTINGS not in app:
        config = app.get(CONFIG)
        dark_after = (timedelta(days=config.device_dark_after_days) if config is not None
                      else protection.DEFAULT_DARK_AFTER)
        app[WATCH_SETTINGS] = WatchSettings(dark_after=dark_after)
    app.cleanup_ctx.append(_context)
