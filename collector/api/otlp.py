"""OTLP/HTTP intake: the telemetry Claude Code, Codex and Copilot export, kept as sessions.

- POST /v1/logs, POST /v1/metrics (the OTLP/HTTP paths, so a tool's exporter needs only the
  collector's address as OTEL_EXPORTER_OTLP_ENDPOINT): application/x-protobuf or
  application/json, gzip allowed, bounded before and after inflating.
- Authorization: Bearer <a device's node key> (the agent's MDM profile gives the tools the
  device's key) or <an API token with the analyst role> (a fleet-wide token in managed settings).
- What is kept: per session, the tool, user, models, version, times, counts of prompts, turns
  and tool calls, MCP servers, permission mode (Codex) and lines added (Claude Code's metric)
  -> ai_sessions (collector/store/sqlite/otel_sessions.py), and each request's slices to the
  hash-chained record (a `note` entry, subject `otlp:<sender>`). Prompts and bodies are never read.

Answers follow OTLP/HTTP: 200 with an empty Export*ServiceResponse in the request's encoding;
400 for a body that is not OTLP (not retried by exporters); 401 without credentials."""
from __future__ import annotations

import asyncio
import uuid
from typing import Any

import sqlite_utils
from aiohttp import web
from google.protobuf import json_format
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2

from shadowmap.collector import record
from shadowmap.collector.api import otlp_decode
from shadowmap.collector.api.devices import MAX_NODE_KEY_LENGTH
from shadowmap.collector.errors import ApiError
from shadowmap.collector.http import BodyError, bearer_token, read_body
from shadowmap.collector.principals import require_api
from shadowmap.collector.state import STORE
from shadowmap.collector.store.sqlite import devices, otel_sessions
from shadowmap.collector.timestamps import utc_now


async def _sender(request: web.Request) -> tuple[str, str]:
    """(who sent it, the OS user a user-mode node key is bound to): a device by its node key, else
    an API token; ApiError 401/403 otherwise."""
    token = bearer_token(request)
    if token is not None and len(token) <= MAX_NODE_KEY_LENGTH:
        device = await request.app[STORE].read(devices.device_by_node_key_hash, devices.hash_node_key(token))
        if device is not None:
            return device.device_id, device.os_user
    principal = await require_api(request, "analyst")        # a token that may add data (viewers only read)
    return principal.name, ""


async def _body(request: web.Request) -> bytes:
    try:
        raw = await read_body(request, otlp_decode.MAX_WIRE_BYTES)
    except BodyError:
        raise ApiError(400, "bad_body", "the request body could not be read") from None
    if raw is None:
        raise ApiError(413, "too_large", f"body exceeds {otlp_decode.MAX_WIRE_BYTES} bytes")
    return raw


def _answer(request: web.Request, response: Any) -> web.Response:
    if request.content_type == "application/json":
        return web.Response(body=json_format.MessageToJson(response).encode(), content_type="application/json")
    return web.Response(body=response.SerializeToString(), content_type="application/x-protobuf")


async def _intake(request: web.Request, message: type, read: Any, response: Any) -> web.Response:
    sender, os_user = await _sender(request)        # before the body is read: no work for strangers
    raw = await _body(request)
    content_type, encoding = request.headers.get("Content-Type", ""), request.headers.get("Content-Encoding", "")
    try:   # off the event loop: decoding 4 MB of records takes up to a second of CPU
        found = await asyncio.get_running_loop().run_in_executor(
            None, lambda: read(otlp_decode.parse(otlp_decode.inflate(raw, encoding), content_type, message)))
    except otlp_decode.OtlpError as exc:
        raise ApiError(400, "bad_otlp", str(exc)) from None
    if found:
        slices = [seen.as_slice() for seen in found.values()]
        await request.app[STORE].write(_keep, sender, os_user, slices, f"otlp-{uuid.uuid4()}", utc_now())
    return _answer(request, response)


def _keep(db: sqlite_utils.Database, sender: str, os_user: str, slices: list[dict[str, Any]], event_id: str,
          now: str) -> None:
    """Writer fn: the slices added to their sessions and, in the same transaction, to the record
    (agent-read sessions reach it as events; these arrive as no event, so as a note of what came)."""
    otel_sessions.add_slices(db, sender, os_user, slices, event_id, now)
    record.append(db, "note", f"otlp:{sender}"[:500], sender, {"id": event_id, "os_user": os_user, "sessions": slices})


async def otlp_logs_handler(request: web.Request) -> web.Response:
    return await _intake(request, logs_service_pb2.ExportLogsServiceRequest, otlp_decode.sessions_from_logs,
                         logs_service_pb2.ExportLogsServiceResponse())


async def otlp_metrics_handler(request: web.Request) -> web.Response:
    return await _intake(request, metrics_service_pb2.ExportMetricsServiceRequest, otlp_decode.sessions_from_metrics,
                         metrics_service_pb2.ExportMetricsServiceResponse())


ROUTES = [
    web.post("/v1/logs", otlp_logs_handler),
    web.post("/v1/metrics", otlp_metrics_handler),
]
