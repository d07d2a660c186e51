"""Operations: GET /metrics (Prometheus text format: ingest rate, rejects by reason, queue
depths, alert counts) and GET /readyz (the store answers and is fully migrated). Ingest is
counted by a middleware that reads the ingest reply, so ingest itself stays untouched."""
from __future__ import annotations

import json
import time
from collections import deque
from dataclasses import dataclass, field

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from shadowmap.collector import outbound, ratelimit
from shadowmap.collector.auth import require_api
from shadowmap.collector.migrations import MIGRATIONS
from shadowmap.collector.record import chain
from shadowmap.collector.state import STORE

INGEST_PATH = "/api/v1/events"
RATE_WINDOW_SECONDS = 60.0


@dataclass
class Metrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)
    recent: deque = field(default_factory=deque)  # (monotonic time, events acked)

    def __post_init__(self) -> None:
        r = self.registry
        self.events = Counter("shadowmap_ingest_events", "Events received at ingest, by outcome", ["outcome"], registry=r)
        self.requests = Counter("shadowmap_ingest_requests", "Ingest requests, by HTTP status", ["status"], registry=r)
        self.rejects = Counter("shadowmap_ingest_rejects", "Refused batches and events, by reason", ["reason"], registry=r)
        self.rate = Gauge("shadowmap_ingest_events_per_second", "Events acked per second over the last minute", registry=r)
        self.queues = Gauge("shadowmap_queue_depth", "Items waiting, by queue", ["queue"], registry=r)
        self.alerts = Gauge("shadowmap_alerts", "Alerts, by status and severity", ["status", "severity"], registry=r)
        self.record = Gauge("shadowmap_record_entries", "Entries in the hash-chained record", registry=r)

    def count_acked(self, acked: int) -> None:
        now = time.monotonic()
        self.recent.append((now, acked))
        while self.recent and self.recent[0][0] < now - RATE_WINDOW_SECONDS:
            self.recent.popleft()

    def events_per_second(self) -> float:
        now = time.monotonic()
        return sum(n for at, n in self.recent if at >= now - RATE_WINDOW_SECONDS) / RATE_WINDOW_SECONDS


METRICS = web.AppKey("metrics", Metrics)


def reject_reason(error: str) -> str:
    if error.startswith("device_id is not"):
        return "device_mismatch"
    if "nested too deeply" in error:
        return "too_deep"
    return "schema"


@web.middleware
async def ingest_metrics_middleware(request: web.Request, handler) -> web.StreamResponse:
    if request.path != INGEST_PATH or request.method != "POST":
        return await handler(request)
    response = await handler(request)
    metrics = request.app[METRICS]
    metrics.requests.labels(str(response.status)).inc()
    body = getattr(response, "body", None)
    try:
        reply = json.loads(body) if isinstance(body, (bytes, bytearray)) else {}
    except ValueError:
        reply = {}
    if response.status == 200 and isinstance(reply, dict):
        acked, rejected = reply.get("acked") or [], reply.get("rejected") or []
        metrics.events.labels("acked").inc(len(acked))
        metrics.events.labels("rejected").inc(len(rejected))
        metrics.count_acked(len(acked))
        for item in rejected:
            metrics.rejects.labels(reject_reason(str(item.get("error", "")))).inc()
    elif isinstance(reply, dict):
        metrics.rejects.labels(str(reply.get("error", f"http_{response.status}"))[:40]).inc()
    return response


def _snapshot(db) -> dict:
    return {
        "alerts": [dict(row) for row in db.query(
            "SELECT status, severity, count(*) AS n FROM alerts GROUP BY status, severity")],
        "outbound": outbound.depths(db),
        "record": chain.head(db)[0],
    }


async def metrics_handler(request: web.Request) -> web.Response:
    """Prometheus scrapes it with an API token (`authorization: credentials` in its scrape
    config): counts of alerts are not for anonymous eyes."""
    await require_api(request, "viewer")
    metrics = request.app[METRICS]
    store = request.app[STORE]
    snapshot = await store.read(_snapshot)
    metrics.rate.set(metrics.events_per_second())
    metrics.alerts.clear()
    for row in snapshot["alerts"]:
        metrics.alerts.labels(row["status"], row["severity"]).set(row["n"])
    metrics.queues.labels("outbound_pending").set(snapshot["outbound"]["pending"])
    metrics.queues.labels("outbound_dead_letters").set(snapshot["outbound"]["dead"])
    writer_queue = getattr(store, "_queue", None)
    metrics.queues.labels("store_writes").set(writer_queue.qsize() if writer_queue is not None else 0)
    metrics.record.set(snapshot["record"])
    return web.Response(body=generate_latest(metrics.registry), headers={"Content-Type": CONTENT_TYPE_LATEST})


async def readyz_handler(request: web.Request) -> web.Response:
    expected = max(migration.number for migration in MIGRATIONS)
    try:
        applied = await request.app[STORE].read(
            lambda db: db.execute("SELECT coalesce(max(number), 0) FROM _migrations").fetchone()[0])
    except Exception as exc:  # not ready is an answer, not an error
        return web.json_response({"status": "not_ready", "detail": type(exc).__name__}, status=503)
    if applied < expected:
        return web.json_response({"status": "not_ready", "detail": "migrations pending"}, status=503)
    return web.json_response({"status": "ready"})


ROUTES = [web.get("/metrics", metrics_handler), web.get("/readyz", readyz_handler)]


def install(app: web.Application) -> None:
    app[METRICS] = Metrics()
    app.middlewares.append(ingest_metrics_middleware)
    ratelimit.install(app)
    app.add_routes(ROUTES)
