"""The unknown-tool score of a listener on a local-model-server port, end to end: a real process
listens on a model server's port, the agent's own network discovery reports it (tool_id null,
source listener, the port and the process name only), and the real collector queues it with
the local_model_port signal, scored with the weights collector/alerts/unknown_tools.py
publishes; an AI-looking name on top reaches the alert threshold, a plain one does not, and
a connection (no port) never carries the signal."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from shadowmap.agent.config import load_config
from shadowmap.agent.discovery.service import Discovery
from shadowmap.collector.alerts import unknown_tools
from shadowmap.detectors.ai_names import DISTINCT_MODEL_PORTS
from shadowmap.detectors.catalog import load_catalog

pytestmark = pytest.mark.both_backends
WEIGHT = unknown_tools.WEIGHTS
LISTEN = ("import socket, sys\n"
          "for port in {ports}:\n"
          "    s = socket.socket()\n"
          "    try:\n        s.bind(('127.0.0.1', port)); break\n"
          "    except OSError:\n        s.close()\n"
          "s.listen(); print(port, flush=True); sys.stdin.read()")


def listener_named(tmp_path: Path, name: str) -> tuple[subprocess.Popen, int]:
    """A real process called ``name`` (a copy of the interpreter) listening on the first free
    model-server port no catalog tool claims."""
    catalog = load_catalog()
    free = sorted(DISTINCT_MODEL_PORTS - {p for tool in catalog.tools for p in tool.local_ports})
    program = tmp_path / name
    shutil.copy(os.path.realpath(sys.executable), program)
    proc = subprocess.Popen([str(program), "-c", LISTEN.format(ports=free)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    return proc, int(proc.stdout.readline())


def agent_sightings(tmp_path: Path, name: str) -> list[dict]:
    """What the agent's network discovery reports about the process ``name`` (event data)."""
    config = load_config(state_dir=tmp_path / "state", socket_path=tmp_path / "agent.sock", mode="user",
                         env={"SHADOWMAP_AGENT_CONFIG": ""})
    discovery = Discovery(config, load_catalog(), user="agent", org_key=lambda: b"k" * 32, homes=[],
                          resolver=lambda h: [], ports=None)
    return [o.data for o in discovery.network() if o.data.get("process") == name]


def queued(config, make) -> dict[str, dict]:
    return {r["name"]: r | {"signals": set(json.loads(r["signals"]))}
            for r in make.select_rows(config.db_path, "SELECT * FROM unknown_tools")}


def unknown_alerts(config, make) -> list[dict]:
    return make.select_rows(config.db_path, "SELECT * FROM alerts WHERE finding_id = 'unknown_subprocessor'")


@pytest.fixture
def listen(tmp_path):
    started: list[subprocess.Popen] = []

    def run(name: str) -> tuple[list[dict], int]:
        proc, port = listener_named(tmp_path, name)
        started.append(proc)
        return agent_sightings(tmp_path, name), port
    yield run
    for proc in started:
        proc.kill()
        proc.wait(timeout=10)


async def test_a_model_server_listener_with_an_ai_name_is_queued_and_alerted(client, device, config, make, console,
                                                                             listen):
    [sighting], port = listen("llm-serve")
    assert (sighting["tool_id"], sighting["source"], sighting["port"]) == (None, "listener", port)
    did = device["device_id"]
    await console.post_events(client, device, [make.observed(did, data=sighting)])

    row = queued(config, make)["llm-serve"]
    assert (row["kind"], row["signals"]) == ("process", {"local_model_port", "ai_name"})
    expected = round(1 - (1 - WEIGHT["local_model_port"]) * (1 - WEIGHT["ai_name"]), 3)
    assert row["score"] == expected >= unknown_tools.ALERT_SCORE
    [alert] = unknown_alerts(config, make)
    assert alert["tool_id"] is None and alert["severity"] == "medium"

    # the same program also seen running: one entry, both signals kept, still one alert
    await console.post_events(client, device, [make.observed(did, data={
        "tool_id": None, "source": "process", "process": "llm-serve", "matched_by": "name"})])
    row = queued(config, make)["llm-serve"]
    assert row["signals"] == {"local_model_port", "ai_name", "process_running"} and row["count"] == 2
    assert row["score"] == round(1 - (1 - WEIGHT["local_model_port"]) * (1 - WEIGHT["ai_name"])
                                 * (1 - WEIGHT["process_running"]), 3)
    assert len(unknown_alerts(config, make)) == 1


async def test_a_plainly_named_listener_is_queued_below_the_alert(client, device, config, make, console, listen):
    [sighting], _ = listen("acme-infer")
    did = device["device_id"]
    await console.post_events(client, device, [
        make.observed(did, data=sighting),
        # the same name connecting somewhere: a connection has no port, so no model-port signal
        make.observed(did, data={"tool_id": None, "source": "network", "process": "acme-infer2",
                                 "domain": "api.acme-infer.example", "matched_by": "remote_address"}),
    ])
    found = queued(config, make)
    assert found["acme-infer"]["signals"] == {"local_model_port"}
    assert found["acme-infer"]["score"] == WEIGHT["local_model_port"] < unknown_tools.ALERT_SCORE
    assert "local_model_port" not in found["api.acme-infer.example"]["signals"]
    assert unknown_alerts(config, make) == []
