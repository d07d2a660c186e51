"""POST /api/v1/events: authenticate the device, bound and decode the batch, validate each
event against the contract, store the batch in one transaction (idempotent by event id)
and raise alerts for the events stored for the first time."""
from __future__ import annotations

import asyncio
import json
import logging
import zlib
from dataclasses import dataclass, field
from typing import Callable

import sqlite_utils
from aiohttp import web

import schema
from collector import record
from collector.alerts import raise_alerts
from collector.compiled_schema import UnsupportedSchema, compile_schema
from collector.config import CollectorConfig
from collector.report.rollup import rollup as usage_rollup
from collector.devices import authenticate_device
from collector.http import BodyError, json_error, normalise_ts, read_body, utc_now
from collector.state import CONFIG, STORE

log = logging.getLogger(__name__)

GZIP_MAGIC = b"\x1f\x8b"
MAX_REPORTED_ID = 64


def _compile_event_check() -> Callable[[object], bool] | None:
    try:
        return compile_schema(schema.event_schema())
    except UnsupportedSchema as exc:
        log.warning("event schema not compilable (%s); validating with jsonschema only", exc)
        return None


# Accepts only valid events; whatever it refuses is judged by schema.validate_event.
_fast_event_check = _compile_event_check()


def validate_event(event: object) -> None:
    """Raise schema.ContractError unless ``event`` satisfies events.v1."""
    if _fast_event_check is None or not _fast_event_check(event):
        schema.validate_event(event)


class BatchError(Exception):
    def __init__(self, status: int, error: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.error, self.detail = status, error, detail


@dataclass
class Batch:
    # (event, ts normalised to UTC, event as JSON) per valid event, first occurrence of each id
    valid: list[tuple[dict, str, str]] = field(default_factory=list)
    acked: list[str] = field(default_factory=list)
    rejected: list[dict] = field(default_factory=list)


def decode_body(raw: bytes, content_encoding: str, config: CollectorConfig) -> bytes:
    encoding = content_encoding.strip().lower()
    if encoding in ("", "identity"):
        return raw
    if encoding not in ("gzip", "x-gzip"):
        raise BatchError(415, "unsupported_encoding", "Content-Encoding must be gzip or absent")
    if not raw.startswith(GZIP_MAGIC):
        # The server already decompressed it (aiohttp's auto_decompress); JSON never starts so.
        return raw
    limit = config.max_decompressed_bytes
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        body = inflater.decompress(raw, limit + 1)  # bounded: a gzip bomb stops here
    except zlib.error:
        raise BatchError(400, "bad_gzip", "body is not valid gzip") from None
    if len(body) > limit:
        raise BatchError(413, "too_large", f"decompressed body exceeds {limit} bytes")
    if not inflater.eof or inflater.unused_data:
        raise BatchError(400, "bad_gzip", "gzip stream is truncated or has trailing data")
    return body


def parse_batch(raw: bytes, content_encoding: str, device_id: str, config: CollectorConfig) -> Batch:
    """CPU-bound (decompress, parse, validate): run it off the event loop."""
    body = decode_body(raw, content_encoding, config)
    if len(body) > config.max_decompressed_bytes:
        raise BatchError(413, "too_large", f"body exceeds {config.max_decompressed_bytes} bytes")
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        raise BatchError(400, "bad_json", "body is not valid JSON") from None
    if not isinstance(document, dict) or not isinstance(document.get("events"), list):
        raise BatchError(400, "bad_request", 'body must be an object with an "events" list')
    events = document["events"]
    if len(events) > config.max_events_per_batch:
        raise BatchError(400, "too_many_events", f"at most {config.max_events_per_batch} events per batch")
    batch = Batch()
    seen: set[str] = set()
    for event in events:
        try:
            validate_event(event)
        except schema.ContractError as exc:
            batch.rejected.append({"id": _reported_id(event), "error": str(exc)})
            continue
        except RecursionError:
            batch.rejected.append({"id": _reported_id(event), "error": "event is nested too deeply"})
            continue
        if event["device_id"] != device_id:
            batch.rejected.append({"id": event["id"], "error": "device_id is not the authenticated device's"})
            continue
        if event["id"] in seen:
            continue  # the same id twice in one batch: store and ack it once
        seen.add(event["id"])
        batch.valid.append(
            (event, normalise_ts(event["ts"]), json.dumps(event, separators=(",", ":"), ensure_ascii=False))
        )
        batch.acked.append(event["id"])
    return batch


def _reported_id(event: object) -> str | None:
    if isinstance(event, dict) and isinstance(event.get("id"), str) and len(event["id"]) <= MAX_REPORTED_ID:
        return event["id"]
    return None


def store_batch(db: sqlite_utils.Database, batch: Batch, device_id: str) -> int:
    """Writer fn, one transaction: insert events not stored before, raise their alerts,
    touch the device. Returns how many events were new."""
    ids = json.dumps([event["id"] for event, _, _ in batch.valid])
    existing = {row["id"] for row in db.query(
        "SELECT id FROM events WHERE id IN (SELECT value FROM json_each(?))", (ids,)
    )}
    fresh = [item for item in batch.valid if item[0]["id"] not in existing]
    received_at = utc_now()
    db.conn.executemany(
        "INSERT OR IGNORE INTO events (id, type, device_id, user, ts, received_at, body) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [(event["id"], event["type"], event["device_id"], event["user"], ts, received_at, body)
         for event, ts, body in fresh],
    )
    raise_alerts(db, [(event, ts) for event, ts, _ in fresh])
    record.append_events(db, fresh)  # the hash-chained record, same transaction
    usage_rollup(db, fresh)  # what the weekly report counts
    db.execute("UPDATE devices SET last_seen = ? WHERE device_id = ?", (received_at, device_id))
    return len(fresh)


async def events_handler(request: web.Request) -> web.Response:
    device = await authenticate_device(request)
    if device is None:
        return json_error(401, "invalid_node_key", reenroll=True)
    config = request.app[CONFIG]
    try:
        raw = await read_body(request, config.max_body_bytes)
    except BodyError:
        return json_error(400, "bad_gzip", "the request body could not be read or inflated")
    if raw is None:
        return json_error(413, "too_large", f"body exceeds {config.max_body_bytes} bytes")
    loop = asyncio.get_running_loop()
    encoding = request.headers.get("Content-Encoding", "")
    try:
        batch = await loop.run_in_executor(None, parse_batch, raw, encoding, device.device_id, config)
    except BatchError as exc:
        return json_error(exc.status, exc.error, exc.detail)
    stored = 0
    if batch.valid:
        stored = await request.app[STORE].write(lambda db: store_batch(db, batch, device.device_id))
    if batch.rejected:
        log.info("device %s: %d event(s) rejected", device.device_id, len(batch.rejected))
    log.debug("device %s: %d acked, %d new", device.device_id, len(batch.acked), stored)
    return web.json_response({"acked": batch.acked, "rejected": batch.rejected})
