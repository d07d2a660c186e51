"""Durability with exact counts against the REAL collector: a full spool reports exactly what
it dropped; kill -9 in the middle of uploading loses and duplicates nothing. And IPC across
OS users: a second user (created here) is attributed its own uid through the system socket
whatever its message claims, and cannot reach a per-user agent's socket at all."""
from __future__ import annotations

import json
import os
import pwd
import signal
import socket
import sqlite3
import subprocess
import tempfile
from pathlib import Path

import pytest

from shadowmap.agent import events
from shadowmap.agent.config import load_config
from shadowmap.agent.daemon import AgentDaemon
from shadowmap.agent.enroll import enroll, read_secret
from shadowmap.agent.spool import Spool

from .conftest import wait_until

TEST_USER = "smtestuser"


def stored(db: Path, kind: str | None = None) -> list[str]:
    conn = sqlite3.connect(db, timeout=10)
    try:
        sql, args = ("SELECT id FROM events WHERE type = ?", [kind]) if kind else ("SELECT id FROM events", [])
        return [r[0] for r in conn.execute(sql, args)]
    finally:
        conn.close()


def observed(i: int) -> dict:
    return events.ai_tool_observed(device_id=events.UNENROLLED_DEVICE, user="alice", tool_id="ollama",
                                   source="process", process=f"ollama-{i:04d}")


def test_full_spool_drops_oldest_and_the_heartbeat_reports_exactly_that(
        tmp_path, engine, catalog, summarize, collector):
    db, url, secret_file = collector
    state = tmp_path / "state"
    size = len(json.dumps(observed(0), separators=(",", ":")).encode())
    config = load_config(state_dir=state, socket_path=tmp_path / "run" / "a.sock", collector_url=url,
                         mode="user", env={"SHADOWMAP_AGENT_CONFIG": ""}, discovery=False,
                         spool_max_bytes=size * 20 + size // 2, heartbeat_interval=3600,
                         policy_refresh_interval=3600, upload_interval=0.2)
    daemon = AgentDaemon(config, engine, catalog, summarize)          # collector not enrolled yet
    sent = [observed(i) for i in range(50)]
    for event in sent:
        daemon.spool.put(event)
    assert (daemon.spool.depth(), daemon.spool.dropped()) == (20, 30)
    beat = daemon.heartbeat()
    assert beat["data"]["spool_dropped"] == 30 and beat["data"]["spool_depth"] == 20
    kept = [e["id"] for e in daemon.spool.next_batch(100)]
    dropped = daemon.spool.dropped()                 # the heartbeat pushed out one or two more
    assert dropped in (31, 32) and len(kept) == 51 - dropped
    assert kept == [e["id"] for e in sent[dropped:]] + [beat["id"]]      # the oldest went first
    enroll(url, read_secret(secret_file), state)
    daemon.start()
    try:
        wait_until(lambda: daemon.spool.depth() == 0 and len(stored(db, "agent.heartbeat")) == 2, 60,
                   "the spool to drain")
        final_dropped = daemon.spool.dropped()     # the start-up heartbeat may push out one more
    finally:
        daemon.stop(flush_timeout=2)
    arrived = stored(db, "ai_tool.observed")
    assert sorted(arrived) == sorted(e["id"] for e in sent[50 - len(arrived):])     # the newest
    assert final_dropped in (dropped, dropped + 1)
    assert len(stored(db)) + final_dropped == 50 + 2          # sent = stored + reported dropped


def test_kill_9_in_the_middle_of_uploading_loses_and_duplicates_nothing(tmp_path, procs, collector):
    db, url, secret_file = collector
    state = tmp_path / "state"
    state.mkdir()
    enroll(url, read_secret(secret_file), state)
    spool = Spool(state / "spool.db")
    sent = [observed(i) for i in range(400)]
    for event in sent:
        spool.put(event)
    spool.close()
    sock = tmp_path / "run" / "agent.sock"
    os.environ["SHADOWMAP_UPLOAD_BATCH"] = "5"
    try:
        agent = procs.agent(state, sock, url)
    finally:
        del os.environ["SHADOWMAP_UPLOAD_BATCH"]
    wait_until(lambda: len(stored(db)) >= 20, 60, "the upload to be under way")
    agent.popen.send_signal(signal.SIGKILL)
    agent.popen.wait(timeout=30)
    at_kill = len(stored(db))
    assert 20 <= at_kill < 400, at_kill                  # killed mid-upload
    procs.agent(state, sock, url)
    wait_until(lambda: len(stored(db, "ai_tool.observed")) == 400, 90, "every event at the collector")
    ids = stored(db, "ai_tool.observed")
    assert sorted(ids) == sorted(e["id"] for e in sent)  # each exactly once


@pytest.fixture(scope="module")
def second_user():
    if subprocess.run(["id", TEST_USER], capture_output=True).returncode != 0:
        subprocess.run(["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", TEST_USER], check=True)
    yield pwd.getpwnam(TEST_USER)
    subprocess.run(["userdel", TEST_USER], capture_output=True)


CLIENT = r"""
import json, socket, struct, sys
s = socket.socket(socket.AF_UNIX)
try:
    s.connect(sys.argv[1])
except OSError as exc:
    print(json.dumps({"refused": exc.__class__.__name__})); sys.exit(0)
body = json.dumps({"type": "visit", "url": "https://claude.ai/new", "user": "root", "uid": 0}).encode()
s.sendall(struct.pack("<I", len(body)) + body)
n = struct.unpack("<I", s.recv(4))[0]
print(s.recv(n).decode())
"""


def run_as(user: pwd.struct_passwd, *args: str) -> dict:
    result = subprocess.run(["/usr/bin/python3", "-c", CLIENT, *args], capture_output=True, text=True,
                            timeout=30, user=user.pw_uid, group=user.pw_gid, cwd="/")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize("mode", ["system", "user"])
def test_ipc_attributes_the_os_user_and_per_user_sockets_refuse_others(
        mode, second_user, engine, catalog, summarize):
    run_dir = Path(tempfile.mkdtemp(prefix="smipc-"))
    os.chmod(run_dir, 0o755)                            # every user may reach the system socket
    try:
        config = load_config(state_dir=run_dir / "state", socket_path=run_dir / "sock" / "agent.sock",
                             mode=mode, env={"SHADOWMAP_AGENT_CONFIG": ""}, discovery=False,
                             collector_url=f"http://127.0.0.1:{_free_port()}", heartbeat_interval=3600)
        daemon = AgentDaemon(config, engine, catalog, summarize)
        daemon.start()
        try:
            reply = run_as(second_user, str(config.socket_path))
            if mode == "user":
                assert reply == {"refused": "PermissionError"}
                assert not [e for e in daemon.spool.next_batch(10) if e["type"] == "ai_tool.observed"]
                return
            assert reply["type"] == "ack"
            [event] = [e for e in daemon.spool.next_batch(10) if e["type"] == "ai_tool.observed"]
            assert event["user"] == TEST_USER               # from SO_PEERCRED, not the message
        finally:
            daemon.stop(flush_timeout=0)
    finally:
        subprocess.run(["rm", "-rf", str(run_dir)], check=False)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
