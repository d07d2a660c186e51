"""POST /api/v1/events: authenticate the device, parse the batch in a worker
(shadowmap.collector.api.ingest_parse), store it (ingest_store) and do its lane work (ingest_lane), count
the outcome (ingest_counts, read by /metrics) and answer which events were acked."""
from __future__ import annotations

import logging

import orjson
from aiohttp import web

from shadowmap.collector.api.ingest_counts import INGEST_COUNTS
from shadowmap.collector.api.ingest_lane import INGEST_LANE, LaneFailed
from shadowmap.collector.api.ingest_parse import BatchError, parse_batch, small_body
from shadowmap.collector.api.ingest_rekey import pepper_of
from shadowmap.collector.api.node_keys import authenticate_node_key, refuse
from shadowmap.collector.api.parse_pool import PARSE_POOL
from shadowmap.collector.api.ratelimit import limit_device
from shadowmap.collector.errors import ApiError
from shadowmap.collector.http import BodyError, read_body
from shadowmap.collector.state import CONFIG, STORE
from shadowmap.collector.store.sqlite.node_keys import NodeKeyRefused
from shadowmap.collector.timestamps import utc_now

log = logging.getLogger(__name__)


async def events_handler(request: web.Request) -> web.Response:
    counts = request.app[INGEST_COUNTS]
    try:
        response = await _ingest(request, counts)
    except ApiError as exc:
        counts.refused(exc.status, exc.code)
        raise
    return response


async def _ingest(request: web.Request, counts) -> web.Response:
    who = await authenticate_node_key(request)  # cached lookup: store_batch checks the key again
    device = who.device
    limit_device(request, device.device_id)  # after authentication: a made-up key gets no bucket
    config = request.app[CONFIG]
    try:
        raw = await read_body(request, config.max_body_bytes)
    except BodyError:
        raise ApiError(400, "bad_gzip", "the request body could not be read or inflated") from None
    if raw is None:
        raise ApiError(413, "too_large", f"body exceeds {config.max_body_bytes} bytes")
    encoding = request.headers.get("Content-Encoding", "")
    try:
        # a user-mode node key is bound to its OS user; a system agent vouches for users from the OS
        bound_user = device.os_user if device.mode == "user" else None
        pepper = await pepper_of(request.app[STORE])
        small = small_body(raw, encoding)
        if small is not None:  # (its worker would run at a lower priority, after a round trip)
            batch = parse_batch(small, "", device.device_id, config, utc_now(), bound_user, pepper)
        else:
            batch = await request.app[PARSE_POOL].run(parse_batch, raw, encoding, device.device_id, config,
                                                      utc_now(), bound_user, pepper)
    except BatchError as exc:
        raise ApiError(exc.status, exc.error, exc.detail) from None
    stored = 0
    if batch.acked:
        try:
            stored = await request.app[INGEST_LANE].store_batch(batch, device.device_id, who.key_hash)
        except NodeKeyRefused:
            raise await refuse(request, who) from None
        except LaneFailed as exc:  # stored, not yet raised: the retry adopts its queued work
            raise ApiError(503, "retry", "the batch was stored but not yet processed; send it again") from exc
    counts.stored(len(batch.acked), stored, batch.rejected)
    if batch.rejected:
        log.info("device %s: %d event(s) rejected", device.device_id, len(batch.rejected))
    log.debug("device %s: %d acked, %d new", device.device_id, len(batch.acked), stored)
    return web.Response(body=orjson.dumps({"acked": batch.acked, "rejected": batch.rejected}),
                        content_type="application/json")
