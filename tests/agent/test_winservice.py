"""The Windows service's runner, on Linux: it builds the real agent (real engine, real
SQLite spool, real socket), serves until the service is told to stop, and stops cleanly.
The SCM shell around it (ShadowmapService, pywin32) runs only on Windows."""
from __future__ import annotations

import socket
import threading
import time

import pytest

from shadowmap.agent import winservice
from shadowmap.agent.config import load_config
from shadowmap.agent.ipc import SocketInUse
from shadowmap.ipc.agent_link import AgentLink


@pytest.fixture
def runner(tmp_path, engine, catalog, summarize):
    sock = tmp_path / "run" / "agent.sock"

    def load():
        return load_config(state_dir=tmp_path / "state", socket_path=sock, mode="user", env={},
                           discovery=False, heartbeat_interval=3600.0)
    return winservice.AgentRunner(load=load, engine=lambda: (engine, catalog, summarize)), sock


def test_runs_until_stopped_and_stops_cleanly(runner):
    agent_runner, sock = runner
    stop, ready = threading.Event(), threading.Event()
    addresses: list[str] = []
    errors: list[BaseException] = []

    def serve():
        try:
            agent_runner.run(stop, ready=lambda address: (addresses.append(address), ready.set()))
        except BaseException as exc:        # reported to the test thread
            errors.append(exc)
            ready.set()

    thread = threading.Thread(target=serve)
    thread.start()
    assert ready.wait(60) and not errors, errors
    assert addresses == [str(sock)]
    link = AgentLink(sock)
    try:
        assert link.request({"type": "ping", "id": 1})["type"] == "pong"
    finally:
        link.close()
    # `shadowmap agent status` asks through the same link the native host uses
    from shadowmap import __version__
    from shadowmap.agent.cli import _probe
    assert _probe(str(sock)) == f"agent {__version__} answering"
    stop.set()                                  # what SvcStop does
    thread.join(timeout=30)
    assert not thread.is_alive() and not errors
    assert not sock.exists()                    # the listener is gone with the agent
    assert _probe(str(sock)) == "no agent answering"


def test_a_busy_address_fails_the_start_and_leaves_nothing_running(runner):
    agent_runner, sock = runner
    sock.parent.mkdir(parents=True)
    squatter = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)     # someone already listens there
    squatter.bind(str(sock))
    squatter.listen(1)
    try:
        before = set(threading.enumerate())
        with pytest.raises(SocketInUse):
            agent_runner.run(threading.Event())
        deadline = time.monotonic() + 10
        while (left := [t for t in threading.enumerate() if t not in before and t.is_alive()]) \
                and time.monotonic() < deadline:
            time.sleep(0.1)
        assert left == []                        # the failed agent left no thread running
    finally:
        squatter.close()


def test_service_identity_matches_the_msi():
    from shadowmap.mdm import windows
    assert windows.SERVICE_NAME == winservice.SERVICE_NAME
    assert windows.PYTHON_CLASS == winservice.SERVICE_CLASS
    module, _, cls = winservice.SERVICE_CLASS.rpartition(".")
    assert module == winservice.__name__ and cls == "ShadowmapService"
