"""Real subprocesses for tests: stdout read line by line in the background, stderr to a
log file, stopped with SIGTERM and killed if they do not go; and a running collector."""
from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def shadowmap_argv(*args: str) -> list[str]:
    """The `shadowmap` command as this interpreter runs it from the checkout."""
    return [sys.executable, "-m", "shadowmap.cli", *args]


def repo_env(extra: dict | None = None) -> dict:
    """The environment with the checkout first on PYTHONPATH, plus ``extra``."""
    path = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": path, **(extra or {})}


class Proc:
    def __init__(self, argv: list[str], log_path: Path, env: dict | None = None):
        self.log_path = log_path
        with open(log_path, "ab") as log:     # the child has its own copy of the descriptor
            self.popen = subprocess.Popen(argv, cwd=REPO, env=env, stdout=subprocess.PIPE,
                                          stderr=log, text=True, start_new_session=True)
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

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int | None:
        if self.popen.poll() is None:
            self.popen.send_signal(sig)
        try:
            return self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            return self.popen.wait(timeout=10)


@dataclass
class CollectorProcess:
    """A running `shadowmap collector serve` (see start_collector)."""
    url: str
    db_path: Path
    log_path: Path
    enroll_secret: str
    proc: Proc


@contextmanager
def start_collector(workdir: Path, admin_password: str, timeout: float = 60) -> Iterator[CollectorProcess]:
    """A real collector process on a free loopback port, with its database, enroll secret and
    log (its stderr) in ``workdir``, and an admin account with ``admin_password``; stopped on exit."""
    db_path, log_path = workdir / "collector.db", workdir / "collector.log"
    proc = Proc(shadowmap_argv("collector", "serve", "--db", str(db_path), "--host", "127.0.0.1", "--port", "0"),
                log_path, repo_env({"SHADOWMAP_ADMIN_PASSWORD": admin_password}))
    try:
        url = proc.wait_for_line("listening on ", timeout).split()[-1]
        yield CollectorProcess(url, db_path, log_path, (workdir / "enroll_secret").read_text().strip(), proc)
    finally:
        proc.stop()
