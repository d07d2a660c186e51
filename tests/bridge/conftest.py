"""Fixtures for the native host tests: a tiny agent stand-in on a Unix socket and a way to
run the real host as a subprocess and read back everything it wrote on stdout as frames.

The stand-in speaks the real framing and answers like the agent's IPC contract; the agent
itself is tested in tests/agent.
"""
from __future__ import annotations

import io
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from shadowmap.ipc import framing

REPO = Path(__file__).resolve().parents[2]
ORIGIN = "chrome-extension://nldlllnfaifhanllgflnbpocnceommpe/"

Answer = Callable[[dict], bytes | None]  # request -> raw bytes to send back (None: close)


def default_answer(request: dict) -> bytes | None:
    reply: dict = {"type": "pong", "agent_version": "standin"} if request.get("type") == "ping" else {
        "type": "verdict", "action": "allow", "reason": "", "findings": [], "event_id": "e1"}
    reply["seen_browser"] = request.get("browser")
    if "id" in request:
        reply["id"] = request["id"]
    return framing.encode(reply, limit=framing.MAX_FROM_BROWSER)


@dataclass
class AgentStandIn:
    path: Path
    answer: Answer = default_answer
    requests: list[dict] = field(default_factory=list)
    connections: int = 0
    close_after_each_reply: bool = False

    def serve(self, server: socket.socket) -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve_one, args=(conn,), daemon=True).start()

    def _serve_one(self, conn: socket.socket) -> None:
        with conn, conn.makefile("rb") as reader:
            while True:
                try:
                    request = framing.read_frame(reader)
                except (framing.FrameError, OSError):
                    return
                if request is None:
                    return
                self.requests.append(request)
                data = self.answer(request)
                if data is None:
                    return
                conn.sendall(data)
                if self.close_after_each_reply:
                    return


@pytest.fixture
def short_dir() -> Iterator[Path]:
    # Unix socket paths are limited to ~108 bytes; pytest's tmp_path can be longer
    path = Path(tempfile.mkdtemp(prefix="smb-", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def agent(short_dir: Path) -> Iterator[AgentStandIn]:
    standin = AgentStandIn(short_dir / "agent.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(standin.path))
    server.listen()
    threading.Thread(target=standin.serve, args=(server,), daemon=True).start()
    yield standin
    server.close()


def parse_frames(data: bytes) -> list[dict]:
    """Every byte of the host's stdout must belong to a well-formed frame."""
    stream = io.BytesIO(data)
    frames = []
    while (message := framing.read_frame(stream)) is not None:
        frames.append(message)
    assert stream.tell() == len(data)
    return frames


@dataclass
class HostRun:
    frames: list[dict]
    returncode: int
    stderr: str


def run_host(stdin: bytes, socket_path: Path, argv: list[str] | None = None, timeout: float = 60) -> HostRun:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHADOWMAP_")}
    env["SHADOWMAP_AGENT_SOCKET"] = str(socket_path)
    proc = subprocess.run(
        [sys.executable, "-m", "shadowmap.bridge.host", *(argv if argv is not None else [ORIGIN])],
        input=stdin, capture_output=True, env=env, cwd=REPO, timeout=timeout,
    )
    stderr = proc.stderr.decode("utf-8", "replace")
    assert "Traceback" not in stderr
    return HostRun(parse_frames(proc.stdout), proc.returncode, stderr)


@pytest.fixture(name="run_host")
def run_host_fixture() -> Callable[..., HostRun]:
    """The helper as a fixture: test modules are imported by path, not as a package."""
    return run_host


@pytest.fixture(name="parse_frames")
def parse_frames_fixture() -> Callable[[bytes], list[dict]]:
    return parse_frames
