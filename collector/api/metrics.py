"""Operations: GET /metrics (Prometheus text format: ingest rate, rejects by reason, queue
depths, alert counts) and GET /readyz (the store answers and is fully migrated). Ingest's
figures are the counts ingest keeps as it answers (shadowmap.collector.api.ingest_counts)."""
from __future__ import annotations

from collections.abc import Iterator

from aiohttp import web
from prometheus_client import CollectorRegistry, Gauge, generate_latest
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

from shadowmap.collector.api import ratelimit
from shadowmap.collector.api.ingest_counts import INGEST_COUNTS, IngestCounts
from shadowmap.collector.principals import require_api
from shadowmap.collector.state import STORE
from shadowmap.collector.store.migrations import latest
from shadowmap.collector.store.sqlite import health, ingest_lane


class IngestCollector(Collector):
    """Exposes ingest's own counts as Prometheus counters, read at each scrape."""

    def __init__(self, counts: IngestCounts) -> None:
        self.counts = counts

    def collect(self) -> Iterator[Metric]:
        for name, documentation, label, counter in (
                ("shadowmap_ingest_events", "Events received at ingest, by outcome", "outcome", self.counts.events),
                ("shadowmap_ingest_requests", "Ingest requests, by HTTP status", "status", self.counts.requests),
                ("shadowmap_ingest_rejects", "Refused batches and events, by reason", "reason", self.counts.rejects),
                ("shadowmap_ingest_lane", "The ingest lane's passes and the batches they did (PostgreSQL)", "what",
                 self.counts.lane)):
            family = CounterMetricFamily(name, documentation, labels=[label])
            for value, count in sorted(counter.items()):
                family.add_metric([value], count)
            yield family


class Metrics:
    def __init__(self, counts: IngestCounts) -> None:
        self.registry = r = CollectorRegistry()
        self.counts = counts
        r.register(IngestCollector(counts))
        self.rate = Gauge("shadowmap_ingest_events_per_second", "Events acked per second over the last minute", registry=r)
        self.queues = Gauge("shadowmap_queue_depth", "Items waiting, by queue", ["queue"], registry=r)
        self.alerts = Gauge("shadowmap_alerts", "Alerts, by status and severity", ["status", "severity"], registry=r)
        self.record = Gauge("shadowmap_record_entries", "Entries in the hash-chained record", registry=r)


METRICS = web.AppKey("metrics", Metrics)


async def metrics_handler(request: web.Request) -> web.Response:
    """Prometheus scrapes it with an API token (`authorization: credentials` in its scrape
    config): counts of alerts are not for anonymous eyes."""
    await require_api(request, "viewer")
    metrics = request.app[METRICS]
    store = request.app[STORE]
    snapshot = await store.read(health.snapshot)
    metrics.rate.set(metrics.counts.events_per_second())
    metrics.alerts.clear()
    for row in snapshot["alerts"]:
        metrics.alerts.labels(row["status"], row["severity"]).set(row["n"])
    metrics.queues.labels("outbound_pending").set(snapshot["outbound"]["pending"])
    metrics.queues.labels("outbound_dead_letters").set(snapshot["outbound"]["dead"])
    metrics.queues.labels("store_writes").set(store.pending_writes())
    metrics.queues.labels("ingest_lane").set(await store.read(ingest_lane.depth))
    metrics.record.set(snapshot["record"])
    return web.Response(body=generate_latest(metrics.registry), headers={"Content-Type": CONTENT_TYPE_LATEST})


async def readyz_handler(request: web.Request) -> web.Response:
    try:
        applied = await request.app[STORE].read(health.migrated_to)
    except Exception as exc:  # not ready is an answer, not an error
        return web.json_response({"status": "not_ready", "detail": type(exc).__name__}, status=503)
    if applied < latest():
        return web.json_response({"status": "not_ready", "detail": "migrations pending"}, status=503)
    return web.json_response({"status": "ready"})


ROUTES = [web.get("/metrics", metrics_handler), web.get("/readyz", readyz_handler)]


def install(app: web.Application) -> None:
    app[METRICS] = Metrics(app[INGEST_COUNTS])
    ratelimit.install(app)
    app.add_routes(ROUTES)
