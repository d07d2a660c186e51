"""The daemon wiring in-process (real engine, spool, socket), and the CLI's clear errors."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from shadowmap.agent.config import load_config
from shadowmap.agent.daemon import AgentDaemon
from shadowmap.agent.spool import Spool

REPO = Path(__file__).resolve().parents[2]


def test_heartbeat_ipc_and_bounded_shutdown_with_collector_down(tmp_path, engine, catalog, summarize, connect):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        down = f"http://127.0.0.1:{probe.getsockname()[1]}"
    config = load_config(state_dir=tmp_path / "state", socket_path=tmp_path / "run" / "agent.sock",
                         collector_url=down, mode="user", env={"SHADOWMAP_AGENT_CONFIG": ""},
                         discovery=False, upload_interval=0.1,
                         backoff_base=0.05, backoff_max=0.1, request_timeout=2.0)
    daemon = AgentDaemon(config, engine, catalog, summarize)
    daemon.start()
    try:
        assert connect(config.socket_path).request({"type": "ping"})["type"] == "pong"
        deadline = time.monotonic() + 10
        while not daemon.spool.depth() and time.monotonic() < deadline:
            time.sleep(0.05)
        [beat] = [e for e in daemon.spool.next_batch(10) if e["type"] == "agent.heartbeat"]
        assert beat["data"]["hostname"] == socket.gethostname()
        assert beat["data"]["os"] and "spool_depth" in beat["data"]
    finally:
        started = time.monotonic()
        daemon.stop(flush_timeout=1.0)
        assert time.monotonic() - started < 10          # flush attempts are bounded
    assert not config.socket_path.exists()
    reopened = load_config(state_dir=tmp_path / "state", socket_path=tmp_path / "x", mode="user", env={})
    assert Spool(reopened.spool_path).depth() == 1      # the unsent heartbeat is still there


def test_run_with_a_corrupt_spool_fails_clearly(tmp_path):
    state = tmp_path / "state"
    state.mkdir()
    (state / "spool.db").write_bytes(b"this is not a database" * 100)
    result = subprocess.run(
        [sys.executable, "-m", "shadowmap.cli", "agent", "run", "--state-dir", str(state),
         "--socket", str(tmp_path / "agent.sock"), "--collector", "http://127.0.0.1:9"],
        cwd=REPO, capture_output=True, text=True, timeout=120,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))})
    assert result.returncode == 1
    assert "cannot open the agent state" in result.stderr and "Traceback" not in result.stderr


def test_agent_status_finds_an_agent_listening_away_from_its_state(tmp_path, procs):
    """make run in a deep checkout puts the socket in the runtime dir (AF_UNIX paths are
    short): the running agent notes its address in its state, and status finds it there."""
    state, runtime = tmp_path / "state", tmp_path / "run"
    state.mkdir()
    runtime.mkdir()
    sock = runtime / "agent.sock"
    procs.agent(state, sock, "http://127.0.0.1:9")
    result = subprocess.run([sys.executable, "-m", "shadowmap.cli", "agent", "status", "--state-dir", str(state)],
                            cwd=REPO, capture_output=True, text=True, timeout=60,
                            env={**os.environ, "SHADOWMAP_AGENT_CONFIG": ""})
    assert result.returncode == 0, result.stderr
    assert f"socket:       {sock} (agent " in result.stdout and "answering" in result.stdout, result.stdout
