"""Collector ingest, sustained: a real `shadowmap collector serve` (SQLite file, WAL,
synchronous=FULL) receiving gzip batches of 1000 events from several enrolled devices over
loopback HTTP, with node-key auth, schema validation, alerts, the hash-chained record and
the usage rollup all on. Reference, measured in the same run on the same disk: the same
events written as raw batched SQLite inserts (one executemany + commit per 1000), i.e. the
ceiling the store itself allows. Budget (DESIGN.md): >= 20,000 events/s on 2 cores.

    .venv/bin/python bench/collector_ingest.py [--seconds 15] [--devices 8] [--inflight 2]
"""
from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

import aiohttp

BUDGET_EVENTS_PER_SECOND = 20_000
BATCH = 1000
TOOLS = ["chatgpt", "claude", "cursor", "gemini", "perplexity", "lovable", "deepseek", "notebooklm"]


def now_ts() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def event(device_id: str, rng: random.Random) -> dict:
    """A realistic mix: mostly tool sightings, some scanned pastes, a few blocked secrets."""
    base = {"schema": "shadowmap.event/1", "id": str(uuid.uuid4()), "device_id": device_id,
            "user": f"{device_id}-owner@acme.example", "ts": now_ts()}  # one person per laptop
    tool = rng.choice(TOOLS)
    roll = rng.random()
    if roll < 0.75:
        return {**base, "type": "ai_tool.observed",
                "data": {"tool_id": tool, "source": "extension", "domain": "example.ai", "browser": "chrome"}}
    secret = roll > 0.97
    data_class = "secret" if secret else "pii"
    finding = {"entity_type": "AWS_ACCESS_KEY" if secret else "EMAIL_ADDRESS", "data_class": data_class, "count": 1,
               "score": 0.9, "hashes": [uuid.uuid4().hex * 2], "reason": "bench"}
    return {**base, "type": "paste.scanned",
            "data": {"channel": "paste", "tool_id": tool, "domain": "example.ai", "data_classes": [data_class],
                     "findings": [finding], "action": "block" if secret else rng.choice(["allow", "warn"]),
                     "reason": "policy", "text_length": 400, "elapsed_ms": 5.0}}


def start_server(workdir: Path) -> tuple[subprocess.Popen, str]:
    env = {**os.environ, "SHADOWMAP_ADMIN_PASSWORD": "bench admin password", "SHADOWMAP_LOG_FORMAT": "text"}
    server = subprocess.Popen([sys.executable, "-m", "shadowmap.cli", "collector", "serve", "--port", "0",
                               "--db", str(workdir / "collector.db")], stdout=subprocess.PIPE,
                              stderr=open(workdir / "server.log", "w"), text=True, env=env)
    line = server.stdout.readline()
    if not line.startswith("listening on "):
        server.kill()
        raise SystemExit(f"collector did not start: {line!r}; see {workdir / 'server.log'}")
    return server, line.split()[-1]


async def enroll(session: aiohttp.ClientSession, url: str, secret: str, n: int) -> tuple[str, dict]:
    async with session.post(f"{url}/api/v1/enroll", json={
            "enroll_secret": secret, "host_identifier": f"bench-{n}-{uuid.uuid4()}", "hostname": f"bench-{n}",
            "os": "linux"}) as response:
        body = await response.json()
    return body["device_id"], {"Authorization": f"Bearer {body['node_key']}", "Content-Encoding": "gzip",
                               "Content-Type": "application/json"}


async def drive(url: str, secret: str, devices: int, inflight: int, seconds: float) -> tuple[int, float, int]:
    rng = random.Random(1)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=devices * inflight)) as session:
        enrolled = [await enroll(session, url, secret, n) for n in range(devices)]
        # bodies prepared ahead so the load generator spends its CPU on sending
        bodies = {device: [gzip.compress(json.dumps({"events": [event(device, rng) for _ in range(BATCH)]}).encode(), 1)
                           for _ in range(int(seconds * 40 / devices) + 4)] for device, _ in enrolled}
        acked = errors = 0
        deadline = 0.0

        async def worker(device: str, headers: dict) -> None:
            nonlocal acked, errors
            while time.perf_counter() < deadline and bodies[device]:
                body = bodies[device].pop()
                async with session.post(f"{url}/api/v1/events", data=body, headers=headers) as response:
                    reply = await response.json()
                    if response.status == 200:
                        acked += len(reply["acked"])
                    else:
                        errors += 1
                        await asyncio.sleep(float(response.headers.get("Retry-After", "0.1")))

        started = time.perf_counter()
        deadline = started + seconds
        await asyncio.gather(*(worker(device, headers) for device, headers in enrolled for _ in range(inflight)))
        return acked, time.perf_counter() - started, errors


def raw_sqlite(workdir: Path, events: int) -> float:
    """The reference: the same rows, batched executemany into the same table shape."""
    conn = sqlite3.connect(workdir / "raw.db")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE events (id TEXT PRIMARY KEY, type TEXT NOT NULL, device_id TEXT NOT NULL, user TEXT "
                 "NOT NULL, ts TEXT NOT NULL, received_at TEXT NOT NULL, body TEXT NOT NULL)")
    rng = random.Random(2)
    batches = []
    for _ in range(max(1, events // BATCH)):
        rows = [event("dev-raw", rng) for _ in range(BATCH)]
        batches.append([(e["id"], e["type"], e["device_id"], e["user"], e["ts"], e["ts"], json.dumps(e)) for e in rows])
    started = time.perf_counter()
    for rows in batches:
        with conn:
            conn.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    elapsed = time.perf_counter() - started
    conn.close()
    return len(batches) * BATCH / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--devices", type=int, default=8)
    parser.add_argument("--inflight", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="shadowmap-ingest-bench-") as tmp:
        workdir = Path(tmp)
        server, url = start_server(workdir)
        try:
            secret = (workdir / "enroll_secret").read_text().strip()
            acked, elapsed, errors = asyncio.run(drive(url, secret, args.devices, args.inflight, args.seconds))
        finally:
            server.terminate()
            server.wait(timeout=30)
        rate = acked / elapsed
        reference = raw_sqlite(workdir, acked)
    print(f"collector ingest: {acked} events in {elapsed:.1f} s = {rate:,.0f} events/s "
          f"({args.devices} devices x {args.inflight} in flight, batches of {BATCH}, gzip; {errors} non-200 replies)")
    print(f"raw batched SQLite inserts, same run: {reference:,.0f} events/s")
    print(f"ratio ingest/raw: {rate / reference:.2f}")
    print(f"budget >= {BUDGET_EVENTS_PER_SECOND:,} events/s: {'MET' if rate >= BUDGET_EVENTS_PER_SECOND else 'NOT MET'}"
          f" (load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
