"""The finding "Risky AI agent or MCP setup": which combinations of an agent's or MCP server's
risk flags raise it is the policy's choice (``agent_risks``: the first entry whose flags one
server or settings file shows all of gives the alert its reason and severity). The flags and
their evidence come from the agent (``mcp_server.observed``, ``ai_config.risk`` and ``browser_extension.observed`` events,
and ``ai_tool.observed`` of a running process, e.g. a codex started with flags its managed requirements forbid)."""
from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

import sqlite_utils

from shadowmap import contract
from shadowmap.collector.store.sqlite import org

RISK_EVENT_TYPES = frozenset({"mcp_server.observed", "ai_config.risk", "browser_extension.observed",
                              "ai_tool.observed"})
MAX_EVIDENCE = 20  # risks kept on the alert's facts


def carries_risks(event: dict) -> bool:
    return event["type"] in RISK_EVENT_TYPES and bool(event["data"].get("risks"))


def policy_entries(db: sqlite_utils.Database) -> list[dict]:
    """The stored policy's agent_risks entries (the default policy's when it names none)."""
    policy = json.loads(org.current_policy(db)[0])
    entries = policy.get("agent_risks")
    return entries if isinstance(entries, list) else contract.default_policy().get("agent_risks", [])


def matching_entry(flags: set[str], entries: list[dict]) -> dict | None:
    for entry in entries:
        if set(entry.get("all_of", ())) <= flags:
            return entry
    return None


@dataclass
class RiskySetup:
    """One event whose flags the policy raises: the alert's facts and severity."""
    item: tuple[dict, str]
    severity: str | None
    facts: dict


def risky_setups(db: sqlite_utils.Database, events: Iterable[tuple[dict, str]]) -> list[RiskySetup]:
    """The events (given as (event, normalised ts)) whose risks the policy raises."""
    candidates = [item for item in events if carries_risks(item[0])]
    if not candidates:
        return []
    entries = policy_entries(db)
    found = []
    for event, ts in candidates:
        data = event["data"]
        risks = [r for r in data["risks"] if isinstance(r, dict)]
        entry = matching_entry({str(r.get("flag")) for r in risks}, entries)
        if entry is None:
            continue
        where = data.get("config_path") or data.get("path")
        facts = {"reason": entry.get("name") or " + ".join(entry["all_of"]),
                 "path": where, "risks": risks[:MAX_EVIDENCE]}
        if data.get("name") and event["type"] == "mcp_server.observed":
            facts["mcp_server"] = data["name"]
        if event["type"] == "ai_tool.observed":     # a running process: which one
            facts["process"] = data.get("exe") or data.get("process")
        if data.get("workspace"):
            facts["workspace"] = data["workspace"]
        if data.get("extension_id"):
            facts["extension"] = (f"{data.get('name') or data['extension_id']} ({data['extension_id']}) in "
                                  f"{data.get('browser')} profile {data.get('profile')}")
        found.append(RiskySetup((event, ts), entry.get("severity"), facts))
    return found
