"""Issue 16, item 8: any local user can reach the system agent's socket. Many connections
of one OS user cannot grow the agent's memory past that user's budget, and one user's big,
slow scans cannot keep another user's paste waiting behind all of them."""
from __future__ import annotations

import contextlib
import socket
import sys
import threading
import time
from pathlib import Path

import pytest
from support.processes import Proc, repo_env

from shadowmap.agent.enroll import EnrollmentHolder
from shadowmap.agent.handlers import RequestHandlers
from shadowmap.agent.ipc_session import serve_connection
from shadowmap.agent.policy import PolicyStore
from shadowmap.agent.spool import Spool
from shadowmap.contract import host
from shadowmap.ipc import framing

# The agent's real IPC server in its own process; each request is held for a second, as a
# request waiting for the scan engine would be, so frames pile up if nothing bounds them.
AGENT_SCRIPT = """
import sys, threading, time
from shadowmap.agent.ipc import IPCServer
def handle(message, user):
    time.sleep(1.0)
    return {"type": "pong"}
server = IPCServer(sys.argv[1], handle, mode="user")
server.start()
print("ready", flush=True)
threading.Event().wait()
"""

@pytest.fixture(scope="module")
def engine():
    from shadowmap.detectors.engine import DetectorSettings, ScanEngine
    return ScanEngine(DetectorSettings())


@pytest.fixture(scope="module")
def catalog():
    from shadowmap.detectors.catalog import load_catalog
    return load_catalog()


@pytest.fixture(scope="module")
def summarize():
    from shadowmap.detectors.hashing import summarize
    return summarize


MIB = 1024 * 1024
FRAME_MIB = 12
CONNECTIONS = 10          # more than the per-user cap


def _kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} for {pid}")


def _send_big_frame(path: Path, frame: bytes, outcomes: list[str]) -> None:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(30)
    try:
        sock.connect(str(path))
        sock.sendall(frame)
        reply = framing.read_frame(sock.makefile("rb"), limit=framing.MAX_TO_BROWSER)
        outcomes.append("closed" if reply is None else str(reply.get("type")) + ":" + str(reply.get("error")))
    except OSError as exc:
        outcomes.append(f"oserror:{exc.__class__.__name__}")
    finally:
        sock.close()


def test_connections_of_one_user_cannot_grow_the_agent_past_its_budget(tmp_path):
    sock_path = tmp_path / "run" / "agent.sock"
    proc = Proc([sys.executable, "-c", AGENT_SCRIPT, str(sock_path)], tmp_path / "agent.log", env=repo_env())
    try:
        proc.wait_for_line("ready", timeout=60)
        pid = proc.popen.pid
        baseline_kib = _kib(pid, "VmRSS")
        pad = "x" * (FRAME_MIB * MIB)
        frame = framing.encode({"type": "ping", "pad": pad}, limit=64 * MIB)
        outcomes: list[str] = []
        threads = [threading.Thread(target=_send_big_frame, args=(sock_path, frame, outcomes))
                   for _ in range(CONNECTIONS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        peak_growth = (_kib(pid, "VmHWM") - baseline_kib) * 1024
    finally:
        proc.stop()
    print(f"peak RSS growth {peak_growth / MIB:.1f} MiB for {CONNECTIONS} x {FRAME_MIB} MiB frames")
    assert len(outcomes) == CONNECTIONS
    # everything the agent held at once is inside one user's budget (plus the interpreter's slack)
    assert peak_growth <= host.AGENT_BUFFER_BYTES_PER_USER + 16 * MIB, (peak_growth / MIB, outcomes)
    # the connections over the per-user cap were refused; the others were answered
    assert outcomes.count("pong:None") == host.AGENT_CONNECTIONS_PER_USER, outcomes


class PacedEngine:
    """The real engine, taking the time a big scan takes: 1 s per MiB of text. It notes when
    each scan starts, and whose it is (bob's paste is the small one)."""

    def __init__(self, engine):
        self.engine = engine
        self.started: list[tuple[float, str]] = []

    def scan(self, text):
        self.started.append((time.monotonic(), "bob" if len(text) < 1000 else "alice"))
        time.sleep(len(text) / MIB)
        return self.engine.scan(text[:1000])


def _paste(user: str, text: str, handle, closing: threading.Event) -> float:
    """One scan request over a real socket pair served as `user`; its round trip in seconds."""
    agent_end, host_end = socket.socketpair()
    with agent_end, host_end:
        server = threading.Thread(target=lambda: _serve(agent_end, user, handle, closing), daemon=True)
        server.start()
        started = time.monotonic()
        host_end.sendall(framing.encode({"type": "scan", "channel": "paste", "text": text,
                                         "url": "https://chatgpt.com/"}, limit=host.MAX_TO_AGENT))
        host_end.settimeout(120)
        reply = framing.read_frame(host_end.makefile("rb"))
        elapsed = time.monotonic() - started
        assert reply is not None and reply.get("type") == "verdict", reply
        host_end.shutdown(socket.SHUT_WR)
        server.join(10)
        return elapsed


def _serve(conn: socket.socket, user: str, handle, closing: threading.Event) -> None:
    with conn.makefile("rb") as reader, contextlib.suppress(OSError):
        serve_connection(reader, conn.sendall, user, handle, closing)


def test_one_users_big_scans_do_not_starve_another_users_paste(tmp_path, engine, catalog, summarize):
    state = tmp_path / "state"
    state.mkdir()
    spool = Spool(state / "spool.db")
    paced = PacedEngine(engine)
    handlers = RequestHandlers(paced, catalog, summarize, PolicyStore(state / "policy.json"),
                               spool, EnrollmentHolder(state))
    closing = threading.Event()
    big = "lorem ipsum " * (MIB // 12)          # a MiB: a second of scanning each
    scan_s = len(big) / MIB
    alice = [threading.Thread(target=_paste, args=("alice", big, handlers.handle, closing), daemon=True)
             for _ in range(8)]
    try:
        for thread in alice:
            thread.start()
            time.sleep(0.02)               # alice's scans are queued before bob pastes
        time.sleep(0.2)
        bob_arrives = time.monotonic()
        bob_s = _paste("bob", "my small paste", handlers.handle, closing)
        for thread in alice:
            thread.join(60)
    finally:
        closing.set()
        spool.close()
    [bob_scanned] = [at for at, whose in paced.started if whose == "bob"]
    jumped = sum(1 for at, whose in paced.started if whose == "alice" and bob_arrives < at < bob_scanned)
    print(f"bob's paste took {bob_s:.2f} s behind alice's {scan_s:.2f} s scans; {jumped} of hers went first")
    # bob waits for the scan in progress and at most one more of alice's, not all she queued
    assert jumped <= 1, f"{jumped} of alice's scans started after bob's paste arrived and before it"
