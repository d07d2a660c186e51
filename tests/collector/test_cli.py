"""`shadowmap collector serve` and `token create` as real subprocesses."""
from __future__ import annotations

import os
import queue
import re
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

REPO_ROOT = Path(__file__).resolve().parents[2]
LISTENING = re.compile(r"^listening on (http://127\.0\.0\.1:(\d+))$")
PASSWORD_LINE = re.compile(r"created admin account 'admin' with password: (\S+)")


def shadowmap(*args: str) -> list[str]:
    return [sys.executable, "-m", "shadowmap.cli", *args]


def child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "SHADOWMAP_ADMIN_PASSWORD"}
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _pump(stream, pending: queue.Queue) -> None:
    for line in stream:
        pending.put(line)


def start_serve(db: Path, secret_file: Path) -> tuple[subprocess.Popen, list[str], str]:
    """Start `serve` on an ephemeral port; return it, its stdout lines so far and its URL."""
    proc = subprocess.Popen(
        shadowmap("collector", "serve", "--db", str(db), "--host", "127.0.0.1", "--port", "0",
                  "--enroll-secret-file", str(secret_file)),
        cwd=REPO_ROOT, env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    # A reader thread: select() on a buffered text pipe misses lines already buffered.
    pending: queue.Queue = queue.Queue()
    threading.Thread(target=_pump, args=(proc.stdout, pending), daemon=True).start()
    lines: list[str] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            line = pending.get(timeout=0.5)
        except queue.Empty:
            if proc.poll() is not None:
                break
            continue
        lines.append(line.rstrip("\n"))
        match = LISTENING.match(lines[-1])
        if match:
            return proc, lines, match.group(1)
    proc.kill()
    raise AssertionError(f"serve did not start: stdout={lines} stderr={proc.stderr.read()}")


def stop(proc: subprocess.Popen) -> str:
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)  # stdout belongs to the pump thread; stderr is small
    stderr = proc.stderr.read()
    assert proc.returncode == 0, stderr
    return stderr


def test_serve_answers_healthz_and_prints_the_admin_password_once(tmp_path):
    db, secret_file = tmp_path / "var" / "collector.db", tmp_path / "secret"
    proc, lines, url = start_serve(db, secret_file)
    try:
        assert requests.get(f"{url}/healthz", timeout=5).json() == {"status": "ok"}
        [password] = [m.group(1) for line in lines if (m := PASSWORD_LINE.search(line))]
        # the printed password logs in
        session = requests.Session()
        form = session.get(f"{url}/login", timeout=5).text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
        response = session.post(f"{url}/login", data={"csrf_token": csrf, "username": "admin", "password": password},
                                allow_redirects=False, timeout=10)
        assert response.status_code == 303
    finally:
        stderr = stop(proc)
    assert str(secret_file) in stderr  # the enroll secret path is logged
    assert password not in stderr
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert db.exists()

    proc, lines, url = start_serve(db, secret_file)  # second start: nothing printed again
    try:
        assert requests.get(f"{url}/healthz", timeout=5).status_code == 200
        assert not any(PASSWORD_LINE.search(line) for line in lines)
    finally:
        stop(proc)


def test_a_node_whose_secrets_key_does_not_open_the_database_refuses_to_start(tmp_path):
    # a second node given a key of its own would start, then fail every enrollment
    db, secret_file = tmp_path / "var" / "collector.db", tmp_path / "secret"
    proc, _, _ = start_serve(db, secret_file)   # seals the org key with var/secrets.key
    stop(proc)
    other = tmp_path / "other.key"
    refused = subprocess.run(shadowmap("collector", "serve", "--db", str(db), "--host", "127.0.0.1", "--port", "0",
                                       "--enroll-secret-file", str(secret_file)),
                             cwd=REPO_ROOT, env={**child_env(), "SHADOWMAP_SECRETS_KEY_FILE": str(other)},
                             capture_output=True, text=True, timeout=60)
    assert refused.returncode != 0 and "listening on" not in refused.stdout
    assert "every collector node needs the same secrets key file" in refused.stderr and str(other) in refused.stderr


def test_token_create_prints_a_token_that_opens_the_alerts_api(tmp_path):
    db, secret_file = tmp_path / "collector.db", tmp_path / "secret"
    created = subprocess.run(shadowmap("collector", "token", "create", "--db", str(db), "--name", "siem"),
                             cwd=REPO_ROOT, env=child_env(), capture_output=True, text=True, timeout=60)
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip()
    assert len(token) >= 32
    proc, _, url = start_serve(db, secret_file)
    try:
        ok = requests.get(f"{url}/api/v1/alerts", headers={"Authorization": f"Bearer {token}"}, timeout=5)
        assert ok.status_code == 200 and ok.json() == {"alerts": []}
        bad = requests.get(f"{url}/api/v1/alerts", headers={"Authorization": "Bearer x" + token}, timeout=5)
        assert bad.status_code == 401
    finally:
        stop(proc)


def test_record_and_report_are_collector_subcommands_with_the_one_db_option():
    from click.testing import CliRunner

    from shadowmap.cli import main
    from shadowmap.collector.cli_options import DB_HELP

    runner = CliRunner()
    listed = runner.invoke(main, ["collector", "--help"])
    assert listed.exit_code == 0 and "record" in listed.output and "report" in listed.output
    for path in (["collector", "serve"], ["collector", "token", "create"], ["collector", "policy", "show"],
                 ["collector", "record", "export"], ["collector", "record", "sinks"], ["collector", "report", "weekly"]):
        result = runner.invoke(main, [*path, "--help"], terminal_width=400)
        assert result.exit_code == 0 and "--db" in result.output and DB_HELP.split(" (")[0] in result.output, path
    top = runner.invoke(main, ["--help"])
    assert "record" not in top.output.split("Commands:")[1] and "report" not in top.output.split("Commands:")[1]
    for old in (["record", "--help"], ["report", "weekly", "--help"]):  # the old names still answer, unlisted
        assert runner.invoke(main, old).exit_code == 0, old
