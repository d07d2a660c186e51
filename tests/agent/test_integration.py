"""The agent and the REAL collector, both as subprocesses: enrollment, kill -9 with the
collector down, and a collector outage during which nothing is lost or duplicated."""
from __future__ import annotations

import json
import os
import signal
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

AWS_KEY = "AKIAZ3MHQ4WXRT6PLN2B"
PAGE = "https://chatgpt.com/c/42"
REPO = Path(__file__).resolve().parents[2]


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "shadowmap.cli", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=60, env={**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))})


def collector_ids(db: Path, event_type: str = "paste.scanned") -> list[str]:
    conn = sqlite3.connect(db, timeout=10)
    try:
        return [r[0] for r in conn.execute("SELECT id FROM events WHERE type = ?", [event_type])]
    finally:
        conn.close()


def outbox_ids(state: Path) -> list[str]:
    conn = sqlite3.connect(state / "spool.db", timeout=10)
    try:
        return [r[0] for r in conn.execute("SELECT id FROM outbox ORDER BY seq")]
    finally:
        conn.close()


def scan(connect, sock: Path, text: str) -> dict:
    reply = connect(sock).request({"type": "scan", "channel": "paste", "url": PAGE, "text": text})
    assert reply["type"] == "verdict", reply
    return reply


def test_enroll_command(tmp_path, procs):
    db = tmp_path / "c" / "collector.db"
    db.parent.mkdir()
    _, url = procs.collector(db)
    state = tmp_path / "state"
    result = cli("agent", "enroll", "--collector", url, "--secret-file", str(db.parent / "enroll_secret"),
                 "--state-dir", str(state))
    assert result.returncode == 0, result.stderr
    assert "enrolled as device" in result.stdout
    path = state / "enrollment.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    enrollment = json.loads(path.read_text())
    assert set(enrollment) == {"collector_url", "device_id", "node_key", "org_key"}
    assert enrollment["collector_url"] == url

    wrong = tmp_path / "wrong_secret"
    wrong.write_text("not-the-secret\n")
    refused = cli("agent", "enroll", "--collector", url, "--secret-file", str(wrong),
                  "--state-dir", str(tmp_path / "other"))
    assert refused.returncode == 1 and "the collector refused the enroll secret" in refused.stderr
    assert "Traceback" not in refused.stderr

    down = cli("agent", "enroll", "--collector", f"http://127.0.0.1:{procs.free_port()}",
               "--secret-file", str(db.parent / "enroll_secret"), "--state-dir", str(tmp_path / "x"))
    assert down.returncode == 1 and "unreachable" in down.stderr and "Traceback" not in down.stderr

    status = cli("agent", "status", "--state-dir", str(state), "--socket", str(tmp_path / "none.sock"))
    assert status.returncode == 0 and enrollment["device_id"] in status.stdout


def test_kill_9_with_collector_down_loses_nothing(tmp_path, procs, connect):
    db = tmp_path / "c" / "collector.db"
    db.parent.mkdir()
    state, sock = tmp_path / "state", tmp_path / "run" / "agent.sock"
    collector, url = procs.collector(db)
    assert cli("agent", "enroll", "--collector", url, "--secret-file", str(db.parent / "enroll_secret"),
               "--state-dir", str(state)).returncode == 0
    assert collector.stop() == 0

    agent = procs.agent(state, sock, f"http://127.0.0.1:{procs.free_port()}")
    verdict = scan(connect, sock, f"prod creds: {AWS_KEY}")
    assert verdict["action"] == "block"
    agent.popen.send_signal(signal.SIGKILL)
    agent.popen.wait(timeout=30)
    assert verdict["event_id"] in outbox_ids(state)          # survived kill -9

    _, url = procs.collector(db)
    agent = procs.agent(state, sock, url)
    procs.wait_until(lambda: verdict["event_id"] in collector_ids(db), 60, "the event at the collector")
    procs.wait_until(lambda: not outbox_ids(state), 60, "the spool to empty")
    assert collector_ids(db).count(verdict["event_id"]) == 1
    assert agent.stop() == 0
    raw = db.read_bytes() + b"".join(p.read_bytes() for p in db.parent.glob("collector.db-wal"))
    assert AWS_KEY.encode() not in raw


def test_collector_outage_each_event_arrives_once(tmp_path, procs, connect):
    """Unenrolled agent + enroll secret file: it enrolls itself when the collector appears."""
    db = tmp_path / "c" / "collector.db"
    db.parent.mkdir()
    secret = tmp_path / "enroll_secret"
    secret.write_text("outage-test-secret-0123456789\n")
    secret.chmod(0o600)
    state, sock = tmp_path / "state", tmp_path / "run" / "agent.sock"
    port = procs.free_port()
    url = f"http://127.0.0.1:{port}"
    agent = procs.agent(state, sock, url, "--enroll-secret-file", str(secret))

    sent = [scan(connect, sock, f"message {i} for the team, nothing secret")["event_id"] for i in range(3)]
    sent += [scan(connect, sock, f"key {i}: {AWS_KEY}")["event_id"] for i in range(3)]
    assert set(sent) <= set(outbox_ids(state))

    collector, _ = procs.collector(db, port=port, secret_file=secret)
    procs.wait_until(lambda: set(sent) <= set(collector_ids(db)), 60, "all events at the collector")
    procs.wait_until(lambda: not outbox_ids(state), 60, "the spool to empty")
    more = scan(connect, sock, f"after the outage {AWS_KEY}")["event_id"]
    procs.wait_until(lambda: more in collector_ids(db), 30, "a fresh event at the collector")

    arrived = collector_ids(db)
    assert sorted(arrived) == sorted(sent + [more])             # each exactly once, none extra
    assert (state / "enrollment.json").exists()
    procs.wait_until(lambda: (state / "policy.json").exists(), 30, "the policy pulled from the collector")
    cached = json.loads((state / "policy.json").read_text())
    assert cached["policy"]["version"] == 1 and cached["etag"]
    assert agent.stop() == 0
    assert collector.stop() == 0
