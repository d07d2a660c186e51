"""A fleet of 10,000 simulated agents against 2 collector nodes sharing one PostgreSQL, all
on loopback on this machine (a throwaway cluster: initdb into a temp folder, fsync on).

Phases, each bounded in time:
  enrollment   every agent enrolls (enroll secret -> node key), spread over the nodes;
  steady       every agent lives its day at once, on the agent's own clocks (agent/settings.py):
               a heartbeat every 5 minutes, a policy poll with If-None-Match every 5 minutes
               (304 once it holds the ETag), and its events uploaded as they come, at three
               times a busy user's rate (docs/scale.md), in a realistic mix (tool sightings,
               scanned pastes, now and then a blocked secret), 1 % of batches a burst of 200
               events; ack latency p50/p99 measured here, at the fleet's steady rate.
               --stress: ten times that (a batch of ~8 events and a poll every ~30 s);
  backlog      --backlog-agents agents come back with full spools and drain them in the
               uploader's batches (500 events, one request in flight each, as
               agent/uploader.py sends): sustained events/s.
Reference, same run, same PostgreSQL: the same events as raw batched inserts (an INSERT of
500 rows through psycopg's executemany, a commit each) into a table with only the id key,
the issue's reference; and, as the ceiling, the same batches as COPY (a bulk load, not
inserts). Also printed: database bytes per million stored events (pg_database_size before
and after). Targets (issue 14): >= 15,000 events/s and >= 0.3 x the raw batched inserts;
p99 ack <= 500 ms at the steady rate.

    .venv/bin/python bench/fleet.py [--agents 10000] [--nodes 2] [--steady 60] [--backlog 20] [--stress]
    .venv/bin/python bench/fleet.py --smoke     # 200 agents, a few seconds each phase
"""
from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import os
import random
import secrets
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import psycopg

from shadowmap.agent.config import SETTINGS
from shadowmap.agent.events import new_event_id

REPO = Path(__file__).resolve().parents[1]
TARGET_EVENTS_PER_SECOND = 15_000
TARGET_RAW_RATIO = 0.3
TARGET_P99_MS = 500.0
BATCH = next(setting.default for setting in SETTINGS if setting.name == "upload_batch")  # what an agent sends
TOOLS = ["chatgpt", "claude", "cursor", "gemini", "perplexity", "lovable", "deepseek", "notebooklm"]
BURST_EVENTS, BURST_SHARE = 200, 0.01
BUSY_USER_EVENTS_A_DAY, PEAK_FACTOR = 150, 3  # docs/scale.md's sizing
# Larger than the tests' settings: this is the database's own workload, on the same 2 cores
BENCH_SETTINGS = {"shared_buffers": "256MB", "max_wal_size": "2GB", "checkpoint_timeout": "15min"}


def now_ts() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def event(device_id: str, user: str, rng: random.Random) -> dict:
    base = {"schema": "shadowmap.event/1", "id": new_event_id(), "device_id": device_id, "user": user,
            "ts": now_ts()}
    tool = rng.choice(TOOLS)
    roll = rng.random()
    if roll < 0.7:
        return {**base, "type": "ai_tool.observed",
                "data": {"tool_id": tool, "source": "extension", "domain": "example.ai", "browser": "chrome"}}
    secret = roll > 0.98
    data_class = "secret" if secret else "pii"
    finding = {"entity_type": "AWS_ACCESS_KEY" if secret else "EMAIL_ADDRESS", "data_class": data_class, "count": 1,
               "score": 0.9, "hashes": [uuid.uuid4().hex * 2], "reason": "bench"}
    return {**base, "type": "paste.scanned",
            "data": {"channel": "paste", "tool_id": tool, "domain": "example.ai", "data_classes": [data_class],
                     "findings": [finding], "action": "block" if secret else rng.choice(["allow", "warn"]),
                     "reason": "policy", "text_length": 400, "elapsed_ms": 5.0}}


def heartbeat(device_id: str, user: str) -> dict:
    return {"schema": "shadowmap.event/1", "id": new_event_id(), "device_id": device_id, "user": user,
            "ts": now_ts(), "type": "agent.heartbeat",
            "data": {"agent_version": "0.1.0", "hostname": device_id[:40], "os": "linux", "spool_depth": 0}}


def agent_body(events: list[dict]) -> bytes:
    """A request body as agent/uploader.py builds it."""
    return gzip.compress(json.dumps({"events": events}, separators=(",", ":")).encode("utf-8"))


@dataclass
class Agent:
    device_id: str
    user: str
    headers: dict
    node: int
    etag: str | None = None


@dataclass
class Phase:
    events: int = 0
    requests: int = 0
    errors: int = 0
    not_modified: int = 0
    failures: Counter[str] = field(default_factory=Counter)  # what each error was: an HTTP status or an exception
    elapsed: float = 0.0
    latencies: list[float] = field(default_factory=list)

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else float("nan")

    @property
    def rate(self) -> float:
        return self.events / self.elapsed if self.elapsed else 0.0


def throwaway_cluster(settings: dict[str, str]):
    """The tests' throwaway PostgreSQL (tests/support/pg_cluster.py), not yet started."""
    sys.path.append(str(REPO / "tests"))
    from support.pg_cluster import PgCluster
    return PgCluster(settings)


def start_nodes(db_url: str, workdir: Path, count: int,
                profile: Path | None = None) -> tuple[list[subprocess.Popen], list[str]]:
    env = {**os.environ, "SHADOWMAP_ADMIN_PASSWORD": "bench admin password", "SHADOWMAP_LOG_FORMAT": "text",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    procs, urls = [], []
    for index in range(count):   # one after the other: the first applies the migrations
        with open(workdir / f"node{index}.log", "w") as log:
            # --profile: each node under cProfile (its event loop's thread; the store's threads are not seen)
            profiler = ["-m", "cProfile", "-o", str(profile / f"node{index}.prof")] if profile else []
            proc = subprocess.Popen([sys.executable, *profiler, "-m", "shadowmap.cli", "collector", "serve", "--port", "0",
                                     "--host", "127.0.0.1", "--db", db_url, "--enroll-secret-file",
                                     str(workdir / "enroll_secret"),
                                     # every simulated laptop enrolls from 127.0.0.1: a rollout behind one NAT
                                     "--enroll-per-second", "1000", "--enroll-burst", "1000"], stdout=subprocess.PIPE, stderr=log, text=True,
                                    env=env, cwd=REPO)
        procs.append(proc)
        line = proc.stdout.readline() if proc.stdout else ""
        if not line.startswith("listening on "):
            stop_nodes(procs)
            raise SystemExit(f"collector node {index} did not start: {line!r}; see {workdir / f'node{index}.log'}")
        urls.append(line.split()[-1])
    return procs, urls


def stop_nodes(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


async def post(session: aiohttp.ClientSession, urls: list[str], agent: Agent, body: bytes, phase: Phase) -> None:
    """One upload, acked or retried on the other node (a load balancer's failover)."""
    for _attempt in range(len(urls) * 2):
        started = time.perf_counter()
        try:
            async with session.post(f"{urls[agent.node]}/api/v1/events", data=body, headers=agent.headers) as response:
                reply = await response.json() if response.status == 200 else None
                phase.requests += 1
                if reply is not None:
                    phase.latencies.append(time.perf_counter() - started)
                    phase.events += len(reply["acked"])
                    return
                phase.errors += 1
                phase.failures[f"upload HTTP {response.status}"] += 1
                await asyncio.sleep(float(response.headers.get("Retry-After", "0.2")))
        except (TimeoutError, aiohttp.ClientError) as exc:
            phase.errors += 1
            phase.failures[f"upload {type(exc).__name__}"] += 1
        agent.node = (agent.node + 1) % len(urls)


async def enroll_all(session: aiohttp.ClientSession, urls: list[str], secret: str, count: int,
                     concurrency: int) -> tuple[list[Agent], float]:
    agents: list[Agent] = []
    queue = iter(range(count))
    started = time.perf_counter()

    async def worker() -> None:
        for n in queue:
            node = n % len(urls)
            async with session.post(f"{urls[node]}/api/v1/enroll", json={
                    "enroll_secret": secret, "host_identifier": f"fleet-{n}-{uuid.uuid4()}",
                    "hostname": f"laptop-{n}", "os": "linux"}) as response:
                if response.status != 200:
                    raise SystemExit(f"enrollment refused: HTTP {response.status} {await response.text()}")
                body = await response.json()
            agents.append(Agent(body["device_id"], f"user{n}@acme.example",
                                {"Authorization": f"Bearer {body['node_key']}", "Content-Encoding": "gzip",
                                 "Content-Type": "application/json"}, node))

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return agents, time.perf_counter() - started


async def steady(session: aiohttp.ClientSession, urls: list[str], agents: list[Agent], seconds: float,
                 cadence: Cadence) -> Phase:
    """Every agent on its own clocks at once, as agent/uploader.py and the policy pull run:
    a heartbeat every cadence.heartbeat seconds, a policy poll (with its ETag) every
    cadence.poll seconds, and its events uploaded as they come (the uploader wakes on each
    spooled event), a batch every cadence.events seconds on average (exponential gaps),
    holding cadence.mean_events (1 % of them a burst). Each clock starts at a random point
    of its period, so the fleet's rate is steady from the first second."""
    phase = Phase()
    started = time.perf_counter()
    deadline = started + seconds

    async def clock(period: float, rng: random.Random, tick, jitter: bool = True) -> None:
        wait = rng.uniform(0, period)      # laptops do not wake in lockstep
        while time.perf_counter() + wait < deadline:   # (a tick due after the phase is not waited for)
            await asyncio.sleep(wait)
            await tick()
            wait = rng.uniform(0.5 * period, 1.5 * period) if jitter else rng.expovariate(1 / period)

    async def live(agent: Agent, rng: random.Random) -> None:
        async def beat() -> None:
            await post(session, urls, agent, agent_body([heartbeat(agent.device_id, agent.user)]), phase)

        async def events() -> None:
            count = (BURST_EVENTS if rng.random() < BURST_SHARE else
                     1 + (int(rng.expovariate(1 / cadence.mean_events)) if cadence.mean_events else 0))
            await post(session, urls, agent, agent_body([event(agent.device_id, agent.user, rng)
                                                         for _ in range(count)]), phase)

        async def poll() -> None:
            headers = {"Authorization": agent.headers["Authorization"]}
            if agent.etag:
                headers["If-None-Match"] = agent.etag
            try:
                async with session.get(f"{urls[agent.node]}/api/v1/policy", headers=headers) as response:
                    phase.not_modified += response.status == 304
                    agent.etag = response.headers.get("ETag", agent.etag)
                    await response.read()
            except (TimeoutError, aiohttp.ClientError) as exc:
                phase.errors += 1
                phase.failures[f"policy poll {type(exc).__name__}"] += 1

        await asyncio.gather(clock(cadence.heartbeat, rng, beat), clock(cadence.poll, rng, poll),
                             clock(cadence.events, rng, events, jitter=False))

    await asyncio.gather(*(live(agent, random.Random(n)) for n, agent in enumerate(agents)))
    phase.elapsed = time.perf_counter() - started
    return phase


@dataclass(frozen=True)
class Cadence:
    """How often each agent sends what (seconds): heartbeats, policy polls, event batches."""
    heartbeat: float
    poll: float
    events: float
    mean_events: float

    def rates(self, agents: int) -> str:
        return (f"{agents / self.heartbeat:,.0f} heartbeats/s, {agents / self.poll:,.0f} policy polls/s, "
                f"{agents / self.events:,.0f} event batches/s of {1 + self.mean_events:.0f} events on average, "
                f"1 % of them {BURST_EVENTS}")


def agent_cadence() -> Cadence:
    """The agent's own defaults (agent/settings.py), and events at three times a busy user's
    day (docs/scale.md: 150 events in 8 working hours), uploaded as they come."""
    setting = {item.name: item.default for item in SETTINGS}
    return Cadence(heartbeat=float(setting["heartbeat_interval"]), poll=float(setting["policy_refresh_interval"]),
                   events=8 * 3600 / (BUSY_USER_EVENTS_A_DAY * PEAK_FACTOR), mean_events=0.0)


# --stress: the cadence runs before 2026-12-07 14:00 UTC used, ten times the agent's own: a
# batch of ~8 events and a policy poll per agent every ~30 s (heartbeats at the agent's own).
STRESS = Cadence(heartbeat=300.0, poll=30.0, events=30.0, mean_events=8.0)


async def backlog(session: aiohttp.ClientSession, urls: list[str], agents: list[Agent], seconds: float,
                  rate_hint: float) -> Phase:
    """Agents with full spools drain them: one 500-event request in flight each."""
    rng = random.Random(7)
    per_agent = int(seconds * rate_hint / BATCH / len(agents)) + 2
    bodies = {agent.device_id: [agent_body([event(agent.device_id, agent.user, rng) for _ in range(BATCH)])
                                for _ in range(per_agent)] for agent in agents}   # prepared ahead
    phase = Phase()
    progress(f"bodies ready; backlog phase ({seconds:.0f} s)")
    started = time.perf_counter()
    deadline = started + seconds

    async def drain(agent: Agent) -> None:
        for body in bodies[agent.device_id]:
            if time.perf_counter() >= deadline:
                return
            await post(session, urls, agent, body, phase)

    await asyncio.gather(*(drain(agent) for agent in agents))
    phase.elapsed = time.perf_counter() - started
    return phase


RAW_COLUMNS = "id, type, device_id, \"user\", ts, received_at, body"


def raw_inserts(db_url: str, events: int) -> dict[str, float]:
    """The references, events/s: the same rows in batches of 500, a commit each, into a table
    with only the id key, as INSERTs (executemany: psycopg pipelines the batch) and as COPY."""
    rng = random.Random(2)
    batches = []
    for _ in range(max(1, events // BATCH)):
        rows = [event("dev-raw", "raw@acme.example", rng) for _ in range(BATCH)]
        batches.append([(e["id"], e["type"], e["device_id"], e["user"], e["ts"], e["ts"],
                         json.dumps(e, separators=(",", ":"))) for e in rows])
    rates = {}
    with psycopg.connect(db_url, autocommit=True) as conn:
        for way in ("insert", "copy"):
            conn.execute("CREATE TABLE raw_events (id TEXT PRIMARY KEY, type TEXT NOT NULL, device_id TEXT NOT NULL, "
                         "\"user\" TEXT NOT NULL, ts TEXT NOT NULL, received_at TEXT NOT NULL, body TEXT NOT NULL)")
            started = time.perf_counter()
            for rows in batches:
                with conn.transaction(), conn.cursor() as cursor:
                    if way == "insert":
                        cursor.executemany(f"INSERT INTO raw_events ({RAW_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                                           rows)
                    else:
                        with cursor.copy(f"COPY raw_events ({RAW_COLUMNS}) FROM STDIN") as copy:
                            for row in rows:
                                copy.write_row(row)
            rates[way] = len(batches) * BATCH / (time.perf_counter() - started)
            conn.execute("DROP TABLE raw_events")
    return rates


def progress(message: str) -> None:
    print(f"  [{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def lane_catch_up(db_url: str, limit: float = 120.0) -> tuple[int, float]:
    """(batches acknowledged whose lane pass, their alerts and record entries, had not yet
    committed when a phase ended; seconds until none is left): how late alerts can come
    after an ack (the ack wait, docs/scale.md)."""
    started = time.perf_counter()
    with psycopg.connect(db_url, autocommit=True) as conn:
        def depth() -> int:
            row = conn.execute("SELECT count(*) FROM ingest_lane").fetchone()
            return int(row[0]) if row else 0
        at_end = left = depth()
        while left and time.perf_counter() - started < limit:
            time.sleep(0.05)
            left = depth()
    return at_end, time.perf_counter() - started if not left else float("inf")


def database_bytes(db_url: str) -> tuple[int, int]:
    """(pg_database_size, events stored)."""
    with psycopg.connect(db_url) as conn:
        conn.execute("CHECKPOINT")
        size = conn.execute("SELECT pg_database_size(current_database())").fetchone()
        stored = conn.execute("SELECT count(*) FROM event_ids").fetchone()
    return int(size[0]) if size else 0, int(stored[0]) if stored else 0


async def run(args: argparse.Namespace, urls: list[str], secret: str, db_url: str) -> dict:
    connector = aiohttp.TCPConnector(limit=args.connections)
    timeout = aiohttp.ClientTimeout(total=15)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        agents, enroll_seconds = await enroll_all(session, urls, secret, args.agents, concurrency=32)
        size_before, _ = database_bytes(db_url)
        progress(f"enrolled {len(agents):,} agents in {enroll_seconds:.1f} s; steady phase")
        steady_phase = await steady(session, urls, agents, args.steady, args.cadence)
        steady_lane = await asyncio.to_thread(lane_catch_up, db_url)
        progress(f"steady phase done in {steady_phase.elapsed:.1f} s; preparing the backlog")
        backlog_phase = await backlog(session, urls, agents[:args.backlog_agents], args.backlog,
                                      rate_hint=args.rate_hint)
        backlog_lane = await asyncio.to_thread(lane_catch_up, db_url)
    size_after, stored = database_bytes(db_url)
    return {"agents": agents, "enroll_seconds": enroll_seconds, "steady": steady_phase, "backlog": backlog_phase,
            "bytes": size_after - size_before, "stored": stored, "lane": (steady_lane, backlog_lane)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--agents", type=int, default=10_000)
    parser.add_argument("--nodes", type=int, default=2)
    parser.add_argument("--steady", type=float, default=60.0, help="seconds of the steady phase")
    parser.add_argument("--stress", action="store_true", help="the steady phase at ten times the agent's own cadence "
                        "(a batch of ~8 events and a policy poll per agent every ~30 s)")
    parser.add_argument("--backlog", type=float, default=20.0, help="seconds of the backlog phase")
    parser.add_argument("--backlog-agents", type=int, default=64, help="agents draining full spools at once")
    parser.add_argument("--rate-hint", type=float, default=30_000, help="events/s the backlog bodies are prepared for")
    parser.add_argument("--connections", type=int, default=256, help="the load generator's connection pool")
    parser.add_argument("--profile", type=Path, default=None, metavar="DIR", help="run each node under cProfile, "
                        "writing DIR/node<N>.prof when it stops (read with python -m pstats)")
    parser.add_argument("--smoke", action="store_true", help="200 agents, 3 s phases (checks the bench runs; the "
                        "figures are not the targets')")
    args = parser.parse_args()
    args.cadence = STRESS if args.stress else agent_cadence()
    if args.smoke:  # every clock ticks within the short phase
        args.cadence = Cadence(heartbeat=1.0, poll=1.0, events=1.0, mean_events=2.0)
    if args.smoke:
        args.agents, args.steady, args.backlog = 200, 3.0, 3.0
        args.backlog_agents, args.rate_hint = 8, 5_000
    with tempfile.TemporaryDirectory(prefix="shadowmap-fleet-bench-") as tmp, throwaway_cluster(BENCH_SETTINGS) as cluster:
        workdir = Path(tmp)
        (workdir / "enroll_secret").write_text(secrets.token_urlsafe(32) + "\n")
        (workdir / "enroll_secret").chmod(0o600)
        db_url = cluster.create_database("fleet")
        procs, urls = start_nodes(db_url, workdir, args.nodes, args.profile)
        load_before = os.getloadavg()[0]
        try:
            result = asyncio.run(run(args, urls, (workdir / "enroll_secret").read_text().strip(), db_url))
        finally:
            stop_nodes(procs)
            node_errors = logged_errors(workdir, args.nodes)
        load_after = os.getloadavg()[0]
        backlog_phase: Phase = result["backlog"]
        raw = raw_inserts(cluster.url("fleet"), max(BATCH * 20, min(backlog_phase.events, 300_000)))
    report(args, result, raw, load_before, load_after, node_errors)


def logged_errors(workdir: Path, nodes: int) -> list[str]:
    """The nodes' logged errors, each as its message and the last line of its traceback."""
    errors = []
    for index in range(nodes):
        lines = (workdir / f"node{index}.log").read_text(errors="replace").splitlines()
        for number, line in enumerate(lines):
            if " ERROR " in line:
                tail = next((later for later in lines[number + 1:number + 80] if later and not later.startswith(" ")
                             and "Traceback" not in later), "")
                errors.append(f"node{index}: {line.split(' ERROR ', 1)[1][:120]} | {tail[:200]}")
    return errors


def report(args: argparse.Namespace, result: dict, raw: dict[str, float], load_before: float, load_after: float,
           node_errors: list[str]) -> None:
    steady_phase: Phase = result["steady"]
    backlog_phase: Phase = result["backlog"]
    per_million = result["bytes"] / max(result["stored"], 1) * 1e6
    print(f"fleet: {args.agents:,} agents, {args.nodes} collector nodes, one PostgreSQL (all on loopback)")
    print(f"enrollment: {args.agents:,} agents in {result['enroll_seconds']:.1f} s "
          f"({args.agents / result['enroll_seconds']:,.0f}/s)")
    print(f"steady ({args.steady:.0f} s{', --stress' if args.stress else ''}: {args.cadence.rates(args.agents)}): "
          f"{steady_phase.events:,} events in {steady_phase.requests:,} uploads = {steady_phase.rate:,.0f} events/s; "
          f"ack p50 {steady_phase.percentile(0.5):.0f} ms, p99 {steady_phase.percentile(0.99):.0f} ms; "
          f"policy polls answered 304: {steady_phase.not_modified:,}; errors {steady_phase.errors}"
          + (f" ({', '.join(f'{what}: {n:,}' for what, n in steady_phase.failures.most_common())})"
             if steady_phase.failures else ""))
    print(f"backlog ({args.backlog:.0f} s, {args.backlog_agents} agents draining batches of {BATCH}): "
          f"{backlog_phase.events:,} events = {backlog_phase.rate:,.0f} events/s; ack p50 "
          f"{backlog_phase.percentile(0.5):.0f} ms, p99 {backlog_phase.percentile(0.99):.0f} ms; "
          f"errors {backlog_phase.errors}")
    for phase, (queued, seconds) in zip(("steady", "backlog"), result["lane"], strict=True):
        print(f"lane after the {phase} phase: {queued:,} acknowledged batches still without their alerts and record "
              f"entries, all done {seconds:.2f} s later" if queued else
              f"lane after the {phase} phase: every acknowledged batch had its alerts and record entries")
    print(f"database: {result['stored']:,} events stored, {result['bytes'] / 1e6:,.0f} MB grown = "
          f"{per_million / 1e9:.2f} GB per million events (all tables and indexes)")
    print(f"raw batched inserts (INSERT of {BATCH} rows by executemany, a commit each), same PostgreSQL, same run: "
          f"{raw['insert']:,.0f} events/s; ratio ingest/raw: {backlog_phase.rate / raw['insert']:.2f}")
    print(f"raw COPY of the same batches (a bulk load, the ceiling): {raw['copy']:,.0f} events/s; "
          f"ratio ingest/COPY: {backlog_phase.rate / raw['copy']:.2f}")
    if node_errors:
        print(f"the nodes logged {len(node_errors)} errors, e.g.:")
        for line in sorted(set(node_errors))[:5]:
            print(f"  {line}")
    if args.smoke:  # a broken bench must fail: events acked in both phases, nothing refused
        if not steady_phase.events or not backlog_phase.events or steady_phase.errors or backlog_phase.errors:
            raise SystemExit("smoke: a phase acked nothing or had errors; see the node logs")
        print("smoke: ok (too small for the targets to mean anything)")
        return
    verdict = {True: "MET", False: "NOT MET"}
    print(f"target >= {TARGET_EVENTS_PER_SECOND:,} events/s: {verdict[backlog_phase.rate >= TARGET_EVENTS_PER_SECOND]}; "
          f">= {TARGET_RAW_RATIO} x raw batched inserts: {verdict[backlog_phase.rate >= TARGET_RAW_RATIO * raw['insert']]}; "
          f"steady p99 <= {TARGET_P99_MS:.0f} ms: {verdict[steady_phase.percentile(0.99) <= TARGET_P99_MS]} "
          f"(load average {load_before:.1f} before, {load_after:.1f} after, {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
