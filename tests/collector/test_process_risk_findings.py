"""A running AI tool's risks (ai_tool.observed from process discovery: a codex started with
flags its managed requirements forbid) count toward "Risky AI agent or MCP setup" through the
policy's agent_risks entries, like an MCP server's, on the real server."""
from __future__ import annotations

import json
import uuid

from support.db_rows import rows

from shadowmap import contract
from shadowmap.collector.state import STORE
from shadowmap.collector.store.sqlite import org

EXE = "/home/dana/.nvm/versions/node/v22.11.0/bin/node"
DRIFT = [{"flag": "managed_settings_drift",
          "evidence": "codex runs with --yolo (approval_policy never) while the managed requirements allow only "
                      "untrusted, on-request"},
         {"flag": "managed_settings_drift",
          "evidence": "codex runs with --yolo (sandbox_mode danger-full-access) while the managed requirements "
                      "allow only read-only, workspace-write"}]


def codex_seen(device_id: str, risks: list[dict], change: str = "new") -> dict:
    data = {"tool_id": "codex-cli", "source": "process", "process": "codex", "matched_by": "cmdline", "exe": EXE,
            "version": "0.42.0", "process_user": "dana", "change": change,
            "first_seen": "2026-12-06T09:00:00Z", "last_seen": "2026-12-06T10:00:00Z"}
    if risks:
        data["risks"] = risks
    event = {"schema": "shadowmap.event/1", "id": str(uuid.uuid4()), "type": "ai_tool.observed",
             "device_id": device_id, "user": "dana", "ts": "2026-12-06T10:00:00.000Z", "data": data}
    contract.validate_event(event)
    return event


def risky_alerts(config) -> list[dict]:
    return rows(config.db_path, "SELECT * FROM alerts WHERE finding_id = 'risky_agent_setup' ORDER BY id")


async def test_a_drifting_codex_raises_a_risky_setup_naming_its_process(client, device, config, console):
    did = device["device_id"]
    await console.post_events(client, device, [codex_seen(did, [])])
    assert risky_alerts(config) == []                                  # a codex without risks is inventory

    await console.post_events(client, device, [codex_seen(did, DRIFT, "changed")])
    [alert] = risky_alerts(config)
    assert (alert["tool_id"], alert["user"], alert["severity"]) == ("codex-cli", "dana", "high")
    facts = json.loads(alert["facts"])
    assert facts["process"] == EXE and facts["risks"] == DRIFT
    assert facts["reason"] == "a config or a running tool that asks for what the tool's managed settings forbid"
    assert "mcp_server" not in facts and facts["path"] is None

    await console.post_events(client, device, [codex_seen(did, DRIFT, "daily")])
    [again] = risky_alerts(config)                                     # the same alert, bumped
    assert again["id"] == alert["id"] and again["count"] == 2


async def test_the_policy_decides_whether_a_running_tools_drift_is_a_finding(client, device, config, console):
    did = device["device_id"]
    policy = contract.default_policy() | {"agent_risks": [{"all_of": ["managed_settings_drift"], "severity": "critical",
                                                           "name": "runs against the managed settings"}]}
    await client.app[STORE].write(lambda db: org.set_policy(db, policy))
    await console.post_events(client, device, [codex_seen(did, DRIFT)])
    [alert] = risky_alerts(config)
    assert alert["severity"] == "critical"
    assert json.loads(alert["facts"])["reason"] == "runs against the managed settings"

    await client.app[STORE].write(lambda db: org.set_policy(db, contract.default_policy() | {"agent_risks": []}))
    await console.post_events(client, device, [codex_seen(did, DRIFT, "daily")])
    [unchanged] = risky_alerts(config)
    assert unchanged["count"] == alert["count"]          # switched off: nothing counted
