"""Shared pieces for the packaging tests: a collector on loopback, processes whose output
is read line by line, and the agent venv built once per session (from the wheelhouse)."""
from __future__ import annotations

import os
import queue
import secrets
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


class Proc:
    """A subprocess whose stdout is read in the background; stderr goes to a log file."""

    def __init__(self, args: list[str], log_path: Path, env: dict | None = None):
        self.log_path = log_path
        self.log = open(log_path, "ab")
        self.popen = subprocess.Popen(args, cwd=REPO, env=env, stdout=subprocess.PIPE,
                                      stderr=self.log, text=True, start_new_session=True)
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.popen.stdout is not None
        for line in self.popen.stdout:
            self.lines.put(line.rstrip("\n"))

    def wait_for_line(self, prefix: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                if self.popen.poll() is not None:
                    break
                continue
            if line.startswith(prefix):
                return line
        raise AssertionError(f"no {prefix!r} line; log:\n{self.log_path.read_text()[-3000:]}")

    def stop(self, timeout: float = 30) -> int | None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
        try:
            return self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            return self.popen.wait(timeout=10)
        finally:
            self.log.close()


def wait_until(predicate, timeout: float, what: str, interval: float = 0.25):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@pytest.fixture(scope="module")
def collector(tmp_path_factory):
    """A real collector on 127.0.0.1 with a known enroll secret."""
    folder = tmp_path_factory.mktemp("collector")
    secret = secrets.token_urlsafe(24)
    secret_file = folder / "enroll_secret"
    secret_file.write_text(secret + "\n")
    secret_file.chmod(0o600)
    db = folder / "collector.db"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = Proc([sys.executable, "-m", "shadowmap.cli", "collector", "serve", "--db", str(db), "--port", "0",
                 "--enroll-secret-file", str(secret_file)], folder / "collector.log", env)
    try:
        line = proc.wait_for_line("listening on ", timeout=60)
        yield {"url": line.split()[-1], "secret": secret, "secret_file": secret_file, "db": db}
    finally:
        proc.stop()


@pytest.fixture(scope="session")
def helpers():
    """Proc and wait_until for test modules (importlib mode: tests cannot import conftest)."""
    return Proc, wait_until
