"""Ingest's CPU work, run in parse worker processes (shadowmap.collector.api.parse_pool):
bound and decode a batch, validate each event against the contract, and sum up what the
writer needs (usage counts, keyed-hash sightings, alert inputs) into a compact Batch."""
from __future__ import annotations

import hashlib
import json
import logging
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from shadowmap import contract
from shadowmap.collector.alerts import hash_sightings
from shadowmap.collector.alerts.agent_risks import carries_risks
from shadowmap.collector.alerts.personal_accounts import is_personal
from shadowmap.collector.alerts.protection import WATCHED_EVENT_TYPES
from shadowmap.collector.alerts.raising import AlertInputs
from shadowmap.collector.alerts.raising import summarise as summarise_alerts
from shadowmap.collector.api.compiled_schema import UnsupportedSchema, compile_schema
from shadowmap.collector.api.ingest_rekey import rekey_event
from shadowmap.collector.api.sessions import SESSION_EVENT
from shadowmap.collector.config import CollectorConfig
from shadowmap.collector.store.sqlite import usage_rollup as usage
from shadowmap.collector.timestamps import normalise_ts, utc_now

log = logging.getLogger(__name__)

GZIP_MAGIC = b"\x1f\x8b"
MAX_REPORTED_ID = 64


def _compile_event_check() -> Callable[[object], bool] | None:
    try:
        return compile_schema(contract.event_schema())
    except UnsupportedSchema as exc:
        log.warning("event schema not compilable (%s); validating with jsonschema only", exc)
        return None


# Accepts only valid events; whatever it refuses is judged by contract.validate_event.
_fast_event_check = _compile_event_check()


def validate_event(event: object) -> None:
    """Raise contract.ContractError unless ``event`` satisfies events.v1."""
    if _fast_event_check is None or not _fast_event_check(event):
        contract.validate_event(event)


class BatchError(Exception):
    def __init__(self, status: int, error: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.error, self.detail = status, error, detail

    def __reduce__(self):  # raised in a parse worker process, re-raised in the handler
        return BatchError, (self.status, self.error, self.detail)


REPO_ACTIVITY = "ai_agent.repo_activity"


@dataclass
class Batch:
    """A parsed batch, kept compact: it comes back from a parse worker process, and the
    writer's process unpickles it."""
    # The valid events (first occurrence of each id) as `events` rows for INSERT_EVENTS, in
    # id order (the id index takes them page by page): [id, type, user, ts, offset, length]
    # as one JSON text, and their stored bodies, end to end, as one UTF-8 blob.
    rows_json: bytes = b"[]"
    bodies: bytes = b""
    received_at: str = ""
    acked: list[str] = field(default_factory=list)  # their ids, in the order received
    digests: list[str] = field(default_factory=list)  # sha256 of each one's stored body (the record)
    rejected: list[dict] = field(default_factory=list)
    # Worked out in the worker for all valid events, for the writer to use when every one
    # turns out new and no org overlay names a tool for an untooled event (the usual case);
    # otherwise the writer reads the new events back from their stored bodies.
    usage_counts: usage.Counts = field(default_factory=dict)
    sighting_rows: list[hash_sightings.SightingRow] = field(default_factory=list)
    alert_inputs: AlertInputs | None = None
    # The few events the writer needs whole, as (event, ts, body): those without a tool id
    # (an overlay may name one; the unknown-tools queue), repo activity, set-ups with risk
    # flags (the policy grades them), personal-account sign-ins, what the device watch reads, and the decisions on
    # warnings (the usage rollup moves a paste sent anyway to reached).
    special: list[tuple[dict, str, str]] = field(default_factory=list)

    def summarise(self, valid: list[tuple[dict, str, str]]) -> None:
        self.usage_counts = usage.count(valid)
        items = [(event, ts) for event, ts, _ in valid]
        self.sighting_rows = hash_sightings.rows(hash_sightings.sightings_of(items))
        self.alert_inputs = summarise_alerts(items)
        self.special = [item for item in valid
                        if not item[0]["data"].get("tool_id") or item[0]["type"] == REPO_ACTIVITY
                        or carries_risks(item[0]) or is_personal(item[0]) or item[0]["type"] in WATCHED_EVENT_TYPES
                        or item[0]["type"] == usage.DECISION_EVENT or item[0]["type"] == SESSION_EVENT]


# ~40 µs of parsing an event: a body this small takes well under a millisecond
SMALL_BODY_BYTES = 4096


def decode_body(raw: bytes, content_encoding: str, limit: int) -> bytes:
    """The body inflated, refused past ``limit`` bytes (a gzip bomb stops there)."""
    encoding = content_encoding.strip().lower()
    if encoding in ("", "identity"):
        return raw
    if encoding not in ("gzip", "x-gzip"):
        raise BatchError(415, "unsupported_encoding", "Content-Encoding must be gzip or absent")
    if not raw.startswith(GZIP_MAGIC):
        # The server already decompressed it (aiohttp's auto_decompress); JSON never starts so.
        return raw
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


# orjson reads integers beyond 64 bits as floats: a body holding a number of 19 or more
# digits is read by the standard library instead, so the stored event is the one received.
# (Digits -> "0", ":,[" -> ":", "-" kept, whitespace dropped, anything else -> "x".)
_NUMBER_SHAPE = bytes.maketrans(bytes(range(256)), bytes(
    ord("0") if 48 <= c <= 57 else ord(":") if c in b":,[" else c if c == ord("-") else ord("x") for c in range(256)))
_LONG_NUMBERS = (b":" + b"0" * 19, b":-" + b"0" * 19)


def load_document(body: bytes) -> tuple[object, bool]:
    """The parsed body and whether orjson read it (then every string is valid Unicode, every
    number finite and exact). Bodies orjson refuses (lone surrogates, NaN, UTF-16, very deep
    nesting) or could read inexactly go to the standard library, which stays the judge."""
    shape = body.translate(_NUMBER_SHAPE, b" \t\n\r")
    if not any(long_number in shape for long_number in _LONG_NUMBERS):
        try:
            return orjson.loads(body), True
        except orjson.JSONDecodeError:
            pass
    try:
        return json.loads(body), False
    except (ValueError, RecursionError):
        raise BatchError(400, "bad_json", "body is not valid JSON") from None


def _stdlib_body(event: dict) -> str:
    """The event as stored, for events the standard library parsed: NaN and infinities
    raise ValueError here, lone surrogates when the caller encodes it."""
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _events_of(raw: bytes, content_encoding: str, config: CollectorConfig) -> tuple[list[Any], bool]:
    """The batch's list of events, and whether orjson read them (see load_document)."""
    body = decode_body(raw, content_encoding, config.max_decompressed_bytes)
    if len(body) > config.max_decompressed_bytes:
        raise BatchError(413, "too_large", f"body exceeds {config.max_decompressed_bytes} bytes")
    document, by_orjson = load_document(body)
    if not isinstance(document, dict) or not isinstance(document.get("events"), list):
        raise BatchError(400, "bad_request", 'body must be an object with an "events" list')
    events = document["events"]
    if len(events) > config.max_events_per_batch:
        raise BatchError(400, "too_many_events", f"at most {config.max_events_per_batch} events per batch")
    return events, by_orjson


def small_body(raw: bytes, content_encoding: str) -> bytes | None:
    """The body inflated if it is at most SMALL_BODY_BYTES (a heartbeat, a few events: parsed
    where it arrives, cheaper than a worker process's round trip), else None; anything
    wrong with it is for parse_batch to say."""
    if len(raw) > SMALL_BODY_BYTES:
        return None
    try:
        return decode_body(raw, content_encoding, SMALL_BODY_BYTES)
    except BatchError:
        return None


def parse_batch(raw: bytes, content_encoding: str, device_id: str, config: CollectorConfig,
                received_at: str | None = None, bound_user: str | None = None,
                pepper: bytes | None = None) -> Batch:
    """CPU-bound (decompress, parse, validate): run it off the event loop. ``received_at``:
    when the request came in (default: now). ``bound_user``: a user-mode device's OS user,
    bound to its node key at enrollment; its events about anyone else are rejected.
    ``pepper``: the collector's own key; the hashes of personal data are keyed again with
    it before they are stored (ingest_rekey.py)."""
    batch = Batch(received_at=received_at or utc_now())
    events, by_orjson = _events_of(raw, content_encoding, config)
    # the fast check only sees what orjson built (plain str, 64-bit int, finite float)
    fast_check = _fast_event_check if by_orjson else None
    valid: list[tuple[dict, str, str]] = []
    rows: list[tuple[str, str, str, str, bytes]] = []
    seen: set[str] = set()
    for event in events:
        if fast_check is None or not fast_check(event):
            try:
                contract.validate_event(event)
            except contract.ContractError as exc:
                batch.rejected.append({"id": _reported_id(event), "error": _encodable(str(exc))})
                continue
            except RecursionError:
                batch.rejected.append({"id": _reported_id(event), "error": "event is nested too deeply"})
                continue
        event_id = event["id"]
        if event["device_id"] != device_id:
            batch.rejected.append({"id": event_id, "error": "device_id is not the authenticated device's"})
            continue
        if bound_user is not None and event["user"] != bound_user:
            batch.rejected.append({"id": event_id, "error": "user is not the OS user this user-mode device "
                                                            "enrolled as; its node key speaks for no one else"})
            continue
        if event_id in seen:
            continue  # the same id twice in one batch: store and ack it once
        try:
            ts = normalise_ts(event["ts"])
        except (ValueError, OverflowError):
            batch.rejected.append({"id": event_id, "error": "ts: not a real date and time"})
            continue
        if pepper is not None:
            rekey_event(event, pepper)   # what is stored, chained and exported: no org-key lookups
        try:
            stored = orjson.dumps(event) if by_orjson else _stdlib_body(event).encode("utf-8")
        except ValueError:
            batch.rejected.append({"id": event_id, "error": "event holds a value JSON text cannot carry "
                                                            "(NaN, infinity or a lone surrogate)"})
            continue
        seen.add(event_id)
        valid.append((event, ts, stored.decode("utf-8")))
        rows.append((event_id, event["type"], event["user"], ts, stored))
        batch.digests.append(hashlib.sha256(stored).hexdigest())
        batch.acked.append(event_id)
    rows.sort()
    located, offset = [], 1  # SQLite's substr counts from 1
    for event_id, event_type, user, ts, stored in rows:
        located.append((event_id, event_type, user, ts, offset, len(stored)))
        offset += len(stored)
    batch.rows_json, batch.bodies = orjson.dumps(located), b"".join(row[4] for row in rows)
    batch.summarise(valid)
    return batch


def _reported_id(event: object) -> str | None:
    if isinstance(event, dict) and isinstance(event.get("id"), str) and len(event["id"]) <= MAX_REPORTED_ID:
        return _encodable(event["id"])
    return None


def _encodable(text: str) -> str:
    """``text`` as the JSON reply can carry it: a lone surrogate (which the standard library
    parses from a \\ud800 escape) is written as its escape instead."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("ascii", "replace")
    return text
