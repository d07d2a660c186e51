"""Tools outside the catalog, seen by the agent: a running process whose name looks like an AI
tool's and a listener on a local-model-server port are reported (tool_id null, name or port
only, never arguments), within a daily cap; a real collector queues them for review."""
from __future__ import annotations

import shutil
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from shadowmap import contract
from shadowmap.agent.config import load_config
from shadowmap.agent.discovery import Observation
from shadowmap.agent.discovery.budget import UnknownBudget
from shadowmap.agent.discovery.processes import ai_looking_name
from shadowmap.agent.discovery.service import Discovery
from shadowmap.detectors.ai_names import DISTINCT_MODEL_PORTS, model_server_listener

from .conftest import wait_until


def valid(observation: Observation) -> None:
    contract.validate_event({"schema": "shadowmap.event/1", "id": str(uuid.uuid4()), "type": observation.event_type,
                             "device_id": "d1", "user": "dana", "ts": "2026-12-06T10:00:00Z",
                             "data": observation.data})


def discovery(tmp_path, catalog, ports=None) -> Discovery:
    config = load_config(state_dir=tmp_path / "state", socket_path=tmp_path / "agent.sock", mode="user",
                         env={"SHADOWMAP_AGENT_CONFIG": ""})
    return Discovery(config, catalog, user="agent", org_key=lambda: b"k" * 32, homes=[], resolver=lambda h: [],
                     ports=ports)


def test_a_running_ai_looking_program_is_reported_by_name_only(tmp_path, catalog):
    program = tmp_path / "acme-llm-server"  # (llama-server is catalogued now: llama.cpp)
    shutil.copy("/bin/sleep", program)
    proc = subprocess.Popen([str(program), "60"])
    try:
        found = wait_until(lambda: [o for o in discovery(tmp_path, catalog, ports={}).processes()
                                    if o.data.get("process") == "acme-llm-server"], 10, "the sighting")
    finally:
        proc.kill()
        proc.wait()
    [sighting] = found
    valid(sighting)
    assert (sighting.data["tool_id"], sighting.data["source"], sighting.data["matched_by"]) == (None, "process", "name")


@pytest.mark.parametrize(("info", "name"), [
    ({"name": "python3", "exe": "/usr/bin/python3", "cmdline": ["python3", "-m", "vllm.entrypoints.openai.api_server"]},
     "vllm.entrypoints.openai.api_server"),                     # the module an interpreter runs
    ({"name": "python3", "exe": "/usr/bin/python3", "cmdline": ["python3", "/opt/gpt4all/app.py"]}, None),
    ({"name": "node", "exe": "/usr/bin/node", "cmdline": ["node", "/srv/autogpt/server.js"]}, None),  # folders unread
    ({"name": "ssh-agent", "exe": "/usr/bin/ssh-agent", "cmdline": ["ssh-agent"]}, None),
    ({"name": "gpg-agent", "exe": "/usr/bin/gpg-agent", "cmdline": ["gpg-agent", "--daemon"]}, None),
    ({"name": "llamafile", "exe": "/home/d/llamafile", "cmdline": ["llamafile", "--api-key=sk-gpt-x"]}, "llamafile"),
    ({"name": "sh", "exe": "/bin/sh", "cmdline": ["sh", "-c", "--token=gpt"]}, None),   # options never read
    # Copilot Money, a budgeting app, is no AI tool (detectors/ai_names.py NOT_AI_PROGRAMS);
    # another program named in another case still is looked at.
    ({"name": "Copilot", "exe": "/Applications/Copilot.app/Contents/MacOS/Copilot", "cmdline": []}, None),
    ({"name": "copilot-proxy", "exe": "/opt/cp/copilot-proxy", "cmdline": []}, "copilot-proxy"),
])
def test_which_name_an_uncatalogued_process_goes_by(info, name):
    assert ai_looking_name(info) == name


def test_a_listener_on_a_model_server_port_is_reported(tmp_path, catalog):
    uncatalogued = sorted(DISTINCT_MODEL_PORTS - {p for tool in catalog.tools for p in tool.local_ports})
    listener = subprocess.Popen([sys.executable, "-c", (
        "import socket, sys\n"
        f"for port in {uncatalogued}:\n"
        "    s = socket.socket()\n"
        "    try:\n        s.bind(('127.0.0.1', port)); break\n"
        "    except OSError:\n        s.close()\n"
        "s.listen(); print(port, flush=True); sys.stdin.read()")],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        port = int(listener.stdout.readline())
        found = [o for o in discovery(tmp_path, catalog).network()
                 if o.data.get("source") == "listener" and o.data.get("port") == port]
    finally:
        listener.kill()
        listener.wait()
    [sighting] = found
    valid(sighting)
    assert (sighting.data["tool_id"], sighting.data["matched_by"]) == (None, "port")
    assert sighting.data["process"].startswith("python")


@pytest.mark.parametrize("process, port, reported", [
    ("python3", 11434, True),        # a distinct model server port: any process
    ("koboldcpp", 5001, True),
    ("node", 3001, False),           # Browsersync's UI by default: a generic port, a plain name
    ("anythingllm-server", 3001, True),
    ("node", 8080, False),
    ("llama-server", 8080, True),
])
def test_which_listeners_on_model_server_ports_are_worth_reporting(process, port, reported):
    assert model_server_listener(process, port) is reported


def test_the_daily_cap_never_drops_catalogued_tools():
    def seen(name: str, tool_id: str | None) -> Observation:
        return Observation("ai_tool.observed", ("process", tool_id, "dana", name), "", "dana",
                           {"tool_id": tool_id, "source": "process", "process": name})
    cap = UnknownBudget(cap=2)
    day = datetime(2026, 12, 6, 9, tzinfo=UTC)
    batch = [seen("a-gpt", None), seen("b-llm", None), seen("c-llama", None), seen("ollama", "ollama")]
    kept = cap.admit(batch, day)
    assert [o.data["process"] for o in kept] == ["a-gpt", "b-llm", "ollama"]
    assert "capped at 2" in (cap.limitation() or "")
    assert [o.data["process"] for o in cap.admit(batch, day)] == ["a-gpt", "b-llm", "ollama"]   # stable
    fresh = [seen("d-gpt", None), seen("e-llm", None)]               # a new day: a new allowance
    assert [o.data["process"] for o in cap.admit(fresh, day + timedelta(days=1))] == ["d-gpt", "e-llm"]
    assert cap.limitation() is None
