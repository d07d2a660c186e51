"""The record inside the collector app: its signing key, the read API, retention on a
schedule, and the chain head published on a schedule (anchors.py) to the "anchor" sinks
and the anchor file. `install(app)` wires it in (called by the app factory)."""
from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from shadowmap.collector.background import background_task, holds_lease
from shadowmap.collector.config import ConfigError
from shadowmap.collector.errors import ApiError
from shadowmap.collector.principals import require_api
from shadowmap.collector.record import anchors, chain, key_pin, keys, retention
from shadowmap.collector.record.reads import read_recording_middleware, record_read
from shadowmap.collector.state import CONFIG, STORE
from shadowmap.collector.store.sqlite import org
from shadowmap.collector.timestamps import normalise_ts

log = logging.getLogger(__name__)
MAX_ENTRIES_PER_READ = 1000


@dataclass
class RecordSettings:
    key_path: Path | None = None          # None: record_signing_key.pem next to the database
    retention_every_seconds: float = 3600.0  # 0 disables the schedule
    anchor_file: Path | None = None       # None: $SHADOWMAP_RECORD_ANCHOR_FILE, else no file (sinks only)
    anchor_every_seconds: float = 300.0   # how often a changed head is published; 0 disables


RECORD_SETTINGS = web.AppKey("record_settings", RecordSettings)
RECORD_KEY = web.AppKey("record_key", Ed25519PrivateKey)
RECORD_KEY_SOURCE = web.AppKey("record_key_source", str)  # where the key came from, for an operator
RECORD_KEY_PENDING = web.AppKey("record_key_pending", Path)  # PostgreSQL, no key file yet: see check_signing_key
LAST_ANCHOR = web.AppKey("record_last_anchor", dict)


async def record_api_handler(request: web.Request) -> web.Response:
    """GET /api/v1/record?from=&to=&limit= : entries as JSON (admin); the read is recorded."""
    principal = await require_api(request, "admin")
    try:
        start = normalise_ts(request.query.get("from", "1970-01-01T00:00:00Z"))
        end = normalise_ts(request.query.get("to", "9999-12-31T23:59:59Z"))
        limit = min(int(request.query.get("limit", "100")), MAX_ENTRIES_PER_READ)
    except ValueError:
        raise ApiError(400, "bad_request", "from/to must be RFC 3339 timestamps and limit an integer") from None
    if limit < 1:
        raise ApiError(400, "bad_request", "limit must be at least 1")

    def read(db):
        first, last = chain.span(db, start, end)
        return list(chain.entries(db, first, min(last, first + limit - 1)))

    entries = await request.app[STORE].read(read)
    seq = await record_read(request.app, principal.name, "record",
                            {"from": start, "to": end, "returned": len(entries)})
    return web.json_response({"entries": entries, "read_recorded_as": seq})


async def _retention_context(app: web.Application) -> AsyncIterator[None]:
    every = app[RECORD_SETTINGS].retention_every_seconds
    async with background_task("record-retention", _retention_loop(app, every) if every > 0 else None):
        yield


async def _retention_loop(app: web.Application, every: float) -> None:
    while True:
        await asyncio.sleep(every)
        try:
            if not await holds_lease(app[STORE], "record-retention", every):  # one node purges
                continue
            checkpoint = await app[STORE].write(lambda db: retention.purge(db, app[RECORD_KEY]))
            log.info("retention: purged %d event(s) before %s; checkpoint at entry %d",
                     checkpoint["purged_events"], checkpoint["purged_before"], checkpoint["seq"])
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("retention run failed")


def anchor_file(app: web.Application) -> Path | None:
    return anchors.named_anchor_file(app[RECORD_SETTINGS].anchor_file)


async def publish_anchor(app: web.Application) -> dict | None:
    """Publish the chain head if it moved since the last time; the published head or None."""
    head = await app[STORE].read(lambda db: anchors.current_head(db, app[RECORD_KEY]))
    last = app[LAST_ANCHOR]
    if last.get("seq") == head["seq"] and last.get("entry_hash") == head["entry_hash"]:
        return None
    path = anchor_file(app)
    if path is not None:
        await asyncio.get_running_loop().run_in_executor(None, anchors.append_to_file, path, head)
    await app[STORE].write(lambda db: anchors.enqueue(db, head))
    last.update(seq=head["seq"], entry_hash=head["entry_hash"])
    return head


async def _anchor_context(app: web.Application) -> AsyncIterator[None]:
    every = app[RECORD_SETTINGS].anchor_every_seconds
    async with background_task("record-anchor", _anchor_loop(app, every) if every > 0 else None):
        yield


async def _anchor_loop(app: web.Application, every: float) -> None:
    while True:
        await asyncio.sleep(every)
        try:
            head = await publish_anchor(app)
            if head is not None:
                log.info("record head published: entry %d %s", head["seq"], head["entry_hash"])
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("publishing the record head failed")


async def check_signing_key(app: web.Application) -> None:
    """At start, once the store is open: refuse to run when the database's record is signed
    by another key than this node's (key_pin). On PostgreSQL a node with no key file makes
    one only for a database whose record no key signs yet: a key made up next to a later
    node's working folder could only be refused, and its file would stay behind."""
    if RECORD_KEY not in app:   # deferred by install
        path = app[RECORD_KEY_PENDING]
        pinned = await app[STORE].read(lambda db: org.setting(db, key_pin.SETTING))
        if pinned is not None:
            raise ConfigError(f"no record signing key at {path}: the record in this database is signed by the key "
                              f"with sha256 {pinned}; give this node a copy of the collector nodes' key "
                              f"(${keys.KEY_PATH_ENV})")
        log.warning("making a new record signing key at %s for this database: give every other collector node a "
                    "copy ($%s)", path, keys.KEY_PATH_ENV)
        app[RECORD_KEY] = keys.load_or_create_key(path)
    key = app[RECORD_KEY]
    try:
        await app[STORE].write(lambda db: key_pin.pin(db, key))
    except key_pin.KeyMismatch as exc:
        raise ConfigError(f"{exc}: every collector node needs the same record signing key ({app[RECORD_KEY_SOURCE]} "
                          f"here; share one file as ${keys.KEY_PATH_ENV}, or one external signer). To change the "
                          "key on purpose: `shadowmap collector record rotate-key` (docs/scale.md)") from None


ROUTES = [web.get("/api/v1/record", record_api_handler)]


def install(app: web.Application) -> None:
    if RECORD_SETTINGS not in app:
        app[RECORD_SETTINGS] = RecordSettings()
    settings = app[RECORD_SETTINGS]
    path = keys.named_key_path(settings.key_path) or keys.default_key_path(app[CONFIG].db_path)
    if app[CONFIG].db_url is not None and keys.signer_from_env() is None and not path.exists():
        app[RECORD_KEY_PENDING] = path   # PostgreSQL: made, if at all, once the database is read (check_signing_key)
    else:
        app[RECORD_KEY] = keys.record_key(path)   # or the external signing command, when configured
    app[RECORD_KEY_SOURCE] = (f"${keys.SIGN_COMMAND_ENV} with ${keys.PUBLIC_KEY_ENV}"
                              if RECORD_KEY in app and isinstance(app[RECORD_KEY], keys.CommandSigner)
                              else f"the key file {path}")
    app[LAST_ANCHOR] = {}
    app.add_routes(ROUTES)
    app.middlewares.append(read_recording_middleware)  # lists, pages and APIs about people
    app.cleanup_ctx.append(_retention_context)
    app.cleanup_ctx.append(_anchor_context)
