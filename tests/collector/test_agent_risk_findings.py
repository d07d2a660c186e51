"""The finding "Risky AI agent or MCP setup", through the real server: the agent's risk flags
become an alert when the policy's agent_risks entries say so, at the entry's severity, with the
risks as evidence; flags no entry names stay inventory; an org can switch the finding off."""
from __future__ import annotations

import json
import uuid

from support.db_rows import rows

from shadowmap import contract
from shadowmap.collector.state import STORE
from shadowmap.collector.store.sqlite import org


def server_event(device_id: str, name: str, flags: list[str], user: str = "dana") -> dict:
    event = {"schema": "shadowmap.event/1", "id": str(uuid.uuid4()), "type": "mcp_server.observed",
             "device_id": device_id, "user": user, "ts": "2026-12-06T10:00:00.000Z",
             "data": {"tool_id": "cursor", "config_path": "/home/dana/.cursor/mcp.json", "name": name,
                      "transport": "stdio", "command": "uvx", "package": "mcp-shell-server",
                      "risks": [{"flag": flag, "evidence": f"seen: {flag}"} for flag in flags]}}
    contract.validate_event(event)
    return event


def settings_event(device_id: str, flags: list[str]) -> dict:
    event = {"schema": "shadowmap.event/1", "id": str(uuid.uuid4()), "type": "ai_config.risk",
             "device_id": device_id, "user": "dana", "ts": "2026-12-06T10:00:00.000Z",
             "data": {"tool_id": "claude-code", "path": "/home/dana/.claude/settings.json",
                      "risks": [{"flag": flag, "evidence": f"seen: {flag}"} for flag in flags]}}
    contract.validate_event(event)
    return event


def risky_alerts(config) -> list[dict]:
    return rows(config.db_path, "SELECT * FROM alerts WHERE finding_id = 'risky_agent_setup' ORDER BY id")


async def test_the_default_policy_grades_combinations_of_flags(client, device, config, console):
    did = device["device_id"]
    await console.post_events(client, device, [
        server_event(did, "sh", ["plaintext_secret", "shell_exec"]),
        settings_event(did, ["permissions_bypass"]),
    ])
    by_tool = {a["tool_id"]: a for a in risky_alerts(config)}
    assert set(by_tool) == {"cursor", "claude-code"}
    assert by_tool["cursor"]["severity"] == "critical"                 # credentials + shell exec
    assert by_tool["cursor"]["finding"] == "Risky AI agent or MCP setup"
    facts = json.loads(by_tool["cursor"]["facts"])
    assert facts["mcp_server"] == "sh" and facts["path"] == "/home/dana/.cursor/mcp.json"
    assert {r["flag"] for r in facts["risks"]} == {"plaintext_secret", "shell_exec"}
    assert "credentials" in facts["reason"]
    assert by_tool["claude-code"]["severity"] == "high"                # the finding's default
    assert json.loads(by_tool["claude-code"]["facts"])["path"] == "/home/dana/.claude/settings.json"


async def test_flags_no_entry_names_are_inventory_only(client, device, config, console):
    await console.post_events(client, device, [server_event(device["device_id"], "fetch", ["network_egress"]),
                                               server_event(device["device_id"], "plain", [])])
    assert risky_alerts(config) == []
    assert len(rows(config.db_path, "SELECT * FROM events WHERE type = 'mcp_server.observed'")) == 2


async def test_an_org_policy_decides_and_can_switch_the_finding_off(client, device, config, console):
    did = device["device_id"]
    policy = contract.default_policy() | {"agent_risks": [{"all_of": ["network_egress"], "severity": "low"}]}
    await client.app[STORE].write(lambda db: org.set_policy(db, policy))
    await console.post_events(client, device, [server_event(did, "fetch", ["network_egress"]),
                                               server_event(did, "sh", ["plaintext_secret", "shell_exec"])])
    [alert] = risky_alerts(config)
    assert (alert["severity"], json.loads(alert["facts"])["mcp_server"]) == ("low", "fetch")

    await client.app[STORE].write(lambda db: org.set_policy(db, contract.default_policy() | {"agent_risks": []}))
    await console.post_events(client, device, [settings_event(did, ["permissions_bypass"])])
    assert len(risky_alerts(config)) == 1                               # nothing new raised


async def test_a_sideloaded_ai_extension_raises_a_medium_risky_setup(client, device, config, console):
    event = {"schema": "shadowmap.event/1", "id": str(uuid.uuid4()), "type": "browser_extension.observed",
             "device_id": device["device_id"], "user": "dana", "ts": "2026-12-06T10:00:00.000Z",
             "data": {"tool_id": "sider", "browser": "chrome", "profile": "Default", "profile_user": "dana",
                      "extension_id": "difoiogjjojoaoomphldepapgpbgkhkb", "name": "Sider", "enabled": True,
                      "permissions": [], "ai_hosts": [], "all_sites": False,
                      "risks": [{"flag": "sideloaded_extension",
                                 "evidence": "not from a store or policy: loaded unpacked (developer mode)"}]}}
    contract.validate_event(event)
    await console.post_events(client, device, [event])
    [alert] = risky_alerts(config)
    facts = json.loads(alert["facts"])
    assert (alert["severity"], alert["tool_id"]) == ("medium", "sider")
    assert facts["extension"] == "Sider (difoiogjjojoaoomphldepapgpbgkhkb) in chrome profile Default"
    assert "mcp_server" not in facts
