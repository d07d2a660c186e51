"""`make run`: the whole system on one machine, on loopback.

Starts the collector on its embedded SQLite default under ./var, enrolls a local agent to
it, starts the agent, registers the native-messaging host for the local Chromium, and
prints the dashboard URL and how to load the extension. Ctrl+C stops everything.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import re
import secrets
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXTENSION_DIR = ROOT / "extension_bridge" / "extension"
READY_TIMEOUT_S = 120  # the agent loads and verifies the spaCy model before it is ready


class Child:
    """A subprocess whose output is echoed with a prefix, and watched for a ready line."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str] | None = None):
        self.name = name
        self.proc = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            env={**os.environ, **(env or {})}, start_new_session=True,
        )
        self.lines: list[str] = []
        self._seen = threading.Condition()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            print(f"[{self.name}] {line}", end="", flush=True)
            with self._seen:
                self.lines.append(line)
                self._seen.notify_all()
        with self._seen:
            self._seen.notify_all()

    def wait_for(self, pattern: str, timeout: float = READY_TIMEOUT_S) -> re.Match[str]:
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self._seen:
            while True:
                for line in self.lines:
                    if m := regex.search(line):
                        return m
                if self.proc.poll() is not None:
                    raise SystemExit(f"{self.name} exited with code {self.proc.returncode} before it was ready")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise SystemExit(f"{self.name} was not ready after {timeout:.0f} s")
                self._seen.wait(min(left, 0.5))

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)


def shadowmap(*args: str) -> list[str]:
    return [sys.executable, "-m", "shadowmap.cli", *args]


def admin_password(var: Path) -> str:
    """A stable local admin password, kept 0600 under var/ (or taken from the environment)."""
    if env := os.environ.get("SHADOWMAP_ADMIN_PASSWORD"):
        return env
    path = var / "admin_password"
    try:  # created 0600 (never readable by others, not even briefly); a planted link is not followed
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError:
        if path.is_symlink():
            raise SystemExit(f"{path} is a symbolic link; remove it") from None
    else:
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(18) + "\n")
    return path.read_text().strip()


def socket_path(var: Path) -> Path:
    # AF_UNIX paths are limited to 107 bytes; fall back to the runtime dir for deep checkouts.
    path = var / "agent" / "agent.sock"
    if len(str(path)) < 100:
        return path
    runtime = Path(os.environ.get("XDG_RUNTIME_DIR", "/tmp")) / f"shadowmap-{os.getuid()}"
    return private_folder(runtime) / "agent.sock"


def private_folder(path: Path) -> Path:
    """A folder only we can enter: made 0700, or, if it exists (in /tmp anyone can make it
    first), refused unless it is a real folder of ours that nobody else can enter."""
    with contextlib.suppress(FileExistsError):
        path.mkdir(mode=0o700)
    info = path.lstat()
    if not stat.S_ISDIR(info.st_mode):
        raise SystemExit(f"refusing to use {path}: it is not a folder (a link or a file someone made)")
    if info.st_uid != os.geteuid():
        raise SystemExit(f"refusing to use {path}: it belongs to uid {info.st_uid}, not to us; remove it")
    if info.st_mode & 0o077:
        raise SystemExit(f"refusing to use {path}: its mode {info.st_mode & 0o777:o} lets others in; "
                         "remove it or chmod 700 it")
    return path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="make run", description=__doc__)
    ap.add_argument("--var-dir", default=str(ROOT / "var"), help="where the databases and state live")
    ap.add_argument("--port", type=int, default=int(os.environ.get("SHADOWMAP_PORT", "8765")))
    ap.add_argument("--no-bridge", action="store_true", help="do not register the native host for Chromium")
    ap.add_argument("--exit-when-ready", action="store_true", help="start everything, report, stop (for tests)")
    args = ap.parse_args(argv)

    var = Path(args.var_dir).resolve()
    (var / "agent").mkdir(parents=True, exist_ok=True)
    password = admin_password(var)
    sock = socket_path(var)
    children: list[Child] = []
    try:
        collector = Child("collector", shadowmap(
            "collector", "serve", "--db", str(var / "collector.db"),
            "--host", "127.0.0.1", "--port", str(args.port)),
            env={"SHADOWMAP_ADMIN_PASSWORD": password})
        children.append(collector)
        url = collector.wait_for(r"listening on (http://\S+)").group(1).rstrip("/")

        state = var / "agent"
        if not (state / "enrollment.json").exists():
            subprocess.run(shadowmap("agent", "enroll", "--collector", url,
                                     "--secret-file", str(var / "enroll_secret"),
                                     "--state-dir", str(state)), check=True)
        agent = Child("agent", shadowmap("agent", "run", "--state-dir", str(state),
                                         "--socket", str(sock), "--collector", url))
        children.append(agent)
        agent.wait_for(r"agent ready on")

        if not args.no_bridge:
            subprocess.run(shadowmap("bridge", "install", "--browser", "chromium",
                                     "--socket", str(sock)), check=True)

        print(f"""
shadowmap is running.
  dashboard   {url}/   (user: admin, password: {'$SHADOWMAP_ADMIN_PASSWORD' if os.environ.get('SHADOWMAP_ADMIN_PASSWORD') else var / 'admin_password'})
  agent       socket {sock}, state {state}
  extension   chromium → chrome://extensions → Developer mode → Load unpacked → {EXTENSION_DIR}
              then paste into https://chatgpt.com/ or https://claude.ai/
Press Ctrl+C to stop.""", flush=True)
        if args.exit_when_ready:
            return 0
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        while all(c.proc.poll() is None for c in children):
            time.sleep(0.5)
        dead = [c.name for c in children if c.proc.poll() is not None]
        print(f"stopping: {', '.join(dead)} exited", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        for child in reversed(children):
            child.stop()


if __name__ == "__main__":
    sys.exit(main())
