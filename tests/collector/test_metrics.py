"""Operations: /metrics in Prometheus text format (ingest rate, rejects by reason, queue
depths, alert counts) behind an API token, /readyz, and JSON log lines from the server."""
from __future__ import annotations

import json
import os
import subprocess
import sys

from prometheus_client.parser import text_string_to_metric_families

from shadowmap.collector.state import STORE
from shadowmap.collector.store.sqlite.accounts import create_api_token


def samples(text: str) -> dict[tuple, float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


async def test_metrics_count_ingest_rejects_queues_and_alerts(client, device, make):
    assert (await client.get("/metrics")).status == 401
    token = await client.app[STORE].write(lambda db: create_api_token(db, "prometheus", "viewer"))
    auth = {"Authorization": f"Bearer {token}"}
    good = [make.paste(device["device_id"]) for _ in range(3)]
    bad = dict(make.heartbeat(device["device_id"]), ts="yesterday")
    foreign = make.heartbeat("another-device")
    response = await client.post("/api/v1/events", json={"events": [*good, bad, foreign]}, headers=device["headers"])
    assert response.status == 200
    assert (await client.post("/api/v1/events", data=b"{not json", headers=device["headers"])).status == 400
    assert (await client.post("/api/v1/events", json={"events": []}, headers={"Authorization": "Bearer nope"})).status == 401

    response = await client.get("/metrics", headers=auth)
    assert response.status == 200 and response.content_type == "text/plain"
    got = samples(await response.text())
    assert got[("shadowmap_ingest_events_total", (("outcome", "acked"),))] == 3
    assert got[("shadowmap_ingest_events_total", (("outcome", "rejected"),))] == 2
    assert got[("shadowmap_ingest_rejects_total", (("reason", "schema"),))] == 1
    assert got[("shadowmap_ingest_rejects_total", (("reason", "device_mismatch"),))] == 1
    assert got[("shadowmap_ingest_rejects_total", (("reason", "bad_json"),))] == 1
    assert got[("shadowmap_ingest_rejects_total", (("reason", "invalid_node_key"),))] == 1
    assert got[("shadowmap_ingest_requests_total", (("status", "200"),))] == 1
    assert got[("shadowmap_ingest_events_per_second", ())] == 3 / 60
    alerts = await client.app[STORE].read(lambda db: list(db.query(
        "SELECT status, severity, count(*) AS n FROM alerts GROUP BY 1, 2")))
    for row in alerts:
        assert got[("shadowmap_alerts", (("severity", row["severity"]), ("status", row["status"])))] == row["n"]
    assert got[("shadowmap_record_entries", ())] == 3
    assert ("shadowmap_queue_depth", (("queue", "outbound_pending"),)) in got
    assert ("shadowmap_queue_depth", (("queue", "store_writes"),)) in got


async def test_readyz_says_ready_once_migrated(client):
    response = await client.get("/readyz")
    assert response.status == 200 and await response.json() == {"status": "ready"}


def test_collector_serve_logs_json_lines(tmp_path):
    env = {**os.environ, "SHADOWMAP_ADMIN_PASSWORD": "a long enough password"}
    env.pop("SHADOWMAP_LOG_FORMAT", None)
    server = subprocess.Popen([sys.executable, "-m", "shadowmap.cli", "collector", "serve", "--port", "0",
                               "--db", str(tmp_path / "c.db")], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, env=env)
    try:
        assert server.stdout.readline().startswith("listening on http://127.0.0.1:")
    finally:
        server.terminate()
        _, stderr = server.communicate(timeout=30)
    lines = [json.loads(line) for line in stderr.splitlines() if line.strip()]
    assert lines and all({"ts", "level", "logger", "message"} <= set(line) for line in lines)
    assert any("database" in line["message"] for line in lines)
