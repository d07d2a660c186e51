"""Simulated laptops running the agent's real enrollment, spool and uploader code
(shadowmap.agent.enroll / spool / uploader) against several collector nodes over HTTP.

Each agent has its own state folder (host identifier, enrollment.json, spool). The only
thing simulated is the load balancer: an agent posts to one node and, when the uploader
reports a failed attempt (node gone, connection cut mid-batch), moves on to the next node,
as a load balancer's health check would send it elsewhere."""
from __future__ import annotations

import dataclasses
import random
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import requests

from shadowmap.agent.enroll import EnrollmentHolder
from shadowmap.agent.events import new_event_id
from shadowmap.agent.settings import AgentConfig
from shadowmap.agent.spool import Spool
from shadowmap.agent.uploader import Uploader

TOOLS = ("chatgpt", "claude", "cursor", "gemini")
USERS = tuple(f"user{n}@acme.example" for n in range(12))   # few users: alerts race on shared keys
# The same leaked secret hashes across many laptops: one finding x tool x user key, many nodes.
SHARED_SECRET_HASH = "ab" * 32


def now_ts() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def fleet_event(device_id: str, user: str, rng: random.Random) -> dict:
    """A laptop's mix: tool sightings, heartbeats, scanned pastes, now and then a blocked secret."""
    base = {"schema": "shadowmap.event/1", "id": new_event_id(), "device_id": device_id, "user": user,
            "ts": now_ts()}
    tool = rng.choice(TOOLS)
    roll = rng.random()
    if roll < 0.45:
        return {**base, "type": "ai_tool.observed",
                "data": {"tool_id": tool, "source": "extension", "domain": "example.ai", "browser": "chrome"}}
    if roll < 0.55:
        return {**base, "type": "agent.heartbeat",
                "data": {"agent_version": "0.1.0", "hostname": device_id[:60], "os": "linux", "spool_depth": 0}}
    secret = roll > 0.85
    data_class = "secret" if secret else "pii"
    finding = {"entity_type": "AWS_ACCESS_KEY" if secret else "EMAIL_ADDRESS", "data_class": data_class,
               "count": 1, "score": 0.9, "hashes": [SHARED_SECRET_HASH if secret else "cd" * 32],
               "reason": "fleet test"}
    return {**base, "type": "paste.scanned",
            "data": {"channel": "paste", "tool_id": tool, "domain": "example.ai", "data_classes": [data_class],
                     "findings": [finding], "action": "block" if secret else rng.choice(["allow", "warn"]),
                     "reason": "policy", "text_length": 300, "elapsed_ms": 4.0}}


class NodeChoice:
    """The harness's load balancer: round-robin start, next node on failure (shared, thread-safe)."""

    def __init__(self, urls: Sequence[str]):
        self.urls = list(urls)
        self._next = 0
        self._lock = threading.Lock()

    def first(self) -> int:
        with self._lock:
            self._next += 1
            return self._next % len(self.urls)

    def after(self, index: int) -> int:
        return (index + 1) % len(self.urls)


class InFlight:
    """How many upload requests are under way to each node right now (observation only)."""

    def __init__(self) -> None:
        self.by_node: dict[str, int] = {}
        self._lock = threading.Lock()

    def change(self, url: str, delta: int) -> None:
        node = urlsplit(url).netloc
        with self._lock:
            self.by_node[node] = self.by_node.get(node, 0) + delta

    def at(self, base_url: str) -> int:
        return self.by_node.get(urlsplit(base_url).netloc, 0)


class CountingSession(requests.Session):
    """The uploader's own requests.Session, counting the posts under way per node."""

    def __init__(self, in_flight: InFlight):
        super().__init__()
        self.in_flight = in_flight

    def post(self, url, *args, **kwargs):
        self.in_flight.change(url, +1)
        try:
            return super().post(url, *args, **kwargs)
        finally:
            self.in_flight.change(url, -1)


class SimulatedAgent:
    def __init__(self, index: int, base_dir: Path, secret_file: Path, nodes: NodeChoice,
                 in_flight: InFlight, request_timeout: float = 10.0):
        self.index = index
        self.state_dir = base_dir / f"agent{index:04d}"
        self.state_dir.mkdir(parents=True, mode=0o700)
        # a laptop's own identity (else every agent here would read the same /etc/machine-id)
        (self.state_dir / "host_identifier").write_text(f"fleet-laptop-{index:04d}-{new_event_id()}\n")
        self.nodes = nodes
        self.node = nodes.first()
        self.user = USERS[index % len(USERS)]
        self.rng = random.Random(index)
        self.config = AgentConfig(state_dir=self.state_dir, socket_path=self.state_dir / "agent.sock",
                                  collector_url=nodes.urls[self.node], enroll_secret_file=secret_file,
                                  upload_batch=50, backoff_base=0.05, backoff_max=0.5,
                                  request_timeout=request_timeout)
        self.spool = Spool(self.state_dir / "spool.db")
        self.identity = EnrollmentHolder(self.state_dir, secret_file)
        self.uploader = Uploader(self.config, self.spool, self.identity)
        self.uploader.session = CountingSession(in_flight)
        self.spooled: list[str] = []      # every event id this laptop spooled
        self.attempts_failed = 0

    def _point_at(self, node: int) -> None:
        self.node = node
        self.uploader.config = dataclasses.replace(self.config, collector_url=self.nodes.urls[node])

    def spool_events(self, count: int) -> None:
        device_id = self.identity.current.device_id if self.identity.current else "unenrolled"
        for _ in range(count):
            event = fleet_event(device_id, self.user, self.rng)
            self.spool.put(event)
            self.spooled.append(event["id"])

    def upload(self, timeout: float = 10.0, max_rounds: int = 6) -> bool:
        """Flush the spool through the uploader; on a failed attempt try the next node.
        True once the spool is empty."""
        for _ in range(max_rounds):
            if self.uploader.flush(timeout):
                return True
            self.attempts_failed += 1
            self._point_at(self.nodes.after(self.node))
        return self.spool.depth() == 0

    def close(self) -> None:
        self.uploader.session.close()
        self.spool.close()


def make_agents(count: int, base_dir: Path, secret_file: Path, urls: Sequence[str],
                in_flight: InFlight) -> list[SimulatedAgent]:
    nodes = NodeChoice(urls)
    return [SimulatedAgent(i, base_dir, secret_file, nodes, in_flight) for i in range(count)]


def run_round(agents: Sequence[SimulatedAgent], events_each: int, workers: int = 16) -> list[bool]:
    """Every agent spools ``events_each`` events and uploads them; the agents run concurrently."""
    def one(agent: SimulatedAgent) -> bool:
        agent.spool_events(events_each)
        return agent.upload()

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(one, agents))
