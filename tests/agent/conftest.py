"""Shared fixtures: the REAL detection engine (loaded once per session: seconds), the
bundled catalog, and helpers to talk framed JSON over a Unix socket."""
from __future__ import annotations

import socket
import subprocess
import types
from pathlib import Path

import pytest
from support.processes import Proc, repo_env, shadowmap_argv
from support.waiting import wait_until  # noqa: F401 - the agent tests import it from here

from shadowmap.ipc import framing


@pytest.fixture(scope="session")
def engine():
    from shadowmap.detectors.engine import DetectorSettings, ScanEngine
    return ScanEngine(DetectorSettings())


@pytest.fixture(scope="session")
def catalog():
    from shadowmap.detectors.catalog import load_catalog
    return load_catalog()


@pytest.fixture(scope="session")
def summarize():
    from shadowmap.detectors.hashing import summarize
    return summarize


class Client:
    """One connection to the agent, speaking extension_bridge.framing."""

    def __init__(self, path: Path, timeout: float = 30.0):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(str(path))
        self.stream = self.sock.makefile("rb")

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def send(self, msg: dict) -> None:
        self.send_raw(framing.encode(msg, limit=framing.MAX_FROM_BROWSER))

    def receive(self) -> dict | None:
        return framing.read_frame(self.stream, limit=framing.MAX_TO_BROWSER)

    def request(self, msg: dict) -> dict:
        self.send(msg)
        reply = self.receive()
        assert reply is not None, "the agent closed the connection"
        return reply

    def close(self) -> None:
        self.stream.close()
        self.sock.close()


@pytest.fixture
def connect():
    clients: list[Client] = []

    def make(path: Path) -> Client:
        client = Client(path)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


# -- real subprocesses: the collector and the agent ------------------------------------


def free_port() -> int:
    """A loopback port nobody listens on (the collector is 'down' there)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def spawn():
    """Start plain child processes (fake AI tools: copies of `sleep` under catalog names);
    all are killed at teardown."""
    started: list[subprocess.Popen] = []

    def run(*args: str, cwd: Path | None = None) -> subprocess.Popen:
        proc = subprocess.Popen(list(args), cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        started.append(proc)
        return proc
    yield run
    for proc in started:
        proc.kill()
        proc.wait(timeout=10)


@pytest.fixture
def procs():
    """Start shadowmap subprocesses; every one still alive is killed at teardown."""
    started: list[Proc] = []

    def collector(db: Path, port: int = 0, secret_file: Path | None = None) -> tuple[Proc, str]:
        args = ["collector", "serve", "--db", str(db), "--port", str(port)]
        if secret_file:
            args += ["--enroll-secret-file", str(secret_file)]
        proc = Proc(shadowmap_argv(*args), db.parent / "collector.log", repo_env())
        started.append(proc)
        url = proc.wait_for_line("listening on ", 60).split("listening on ", 1)[1].strip()
        return proc, url

    def agent(state: Path, sock: Path, collector_url: str, *extra: str) -> Proc:
        args = ["agent", "run", "--state-dir", str(state), "--socket", str(sock),
                "--collector", collector_url, "--upload-interval", "0.2", "--backoff-max", "0.5",
                "--heartbeat-interval", "3600", "--policy-refresh-interval", "0.5", *extra]
        # discovery off: these tests count paste events exactly and must not read this
        # machine's real homes (tests/agent/test_discovery_* cover discovery)
        proc = Proc(shadowmap_argv(*args), state.parent / "agent.log",
                    repo_env({"SHADOWMAP_BACKOFF_BASE": "0.1", "SHADOWMAP_DISCOVERY": "0", "SHADOWMAP_AGENT_CONFIG": ""}))
        started.append(proc)
        proc.wait_for_line("agent ready on ", 120)
        return proc

    yield types.SimpleNamespace(collector=collector, agent=agent, free_port=free_port, wait_until=wait_until)
    for proc in started:
        if proc.popen.poll() is None:
            proc.popen.kill()
            proc.popen.wait(timeout=30)


@pytest.fixture
def collector(tmp_path, procs):
    """A real collector subprocess: (db path, base URL, enroll secret file)."""
    db = tmp_path / "c" / "collector.db"
    db.parent.mkdir()
    _, url = procs.collector(db)
    return db, url, db.parent / "enroll_secret"
