"""The inventory: which AI tools are in use, by how many users and devices, in which teams."""
from __future__ import annotations

import json

import sqlite_utils

from collector.findings import USAGE_EVENT_TYPES
from collector.teams import TeamIndex
from detectors.catalog import load_catalog

MAX_DAYS = 3650


def tool_inventory(db: sqlite_utils.Database, since: str) -> list[dict]:
    """Tools seen in usage events since ``since`` (ISO timestamp), most used first."""
    rows = db.query(
        "SELECT json_extract(body, '$.data.tool_id') AS tool_id, user, device_id, min(ts) AS first_seen, "
        "max(ts) AS last_seen, count(*) AS events FROM events "
        "WHERE type IN (SELECT value FROM json_each(?)) AND ts >= ? AND json_extract(body, '$.data.tool_id') IS NOT NULL "
        "GROUP BY 1, 2, 3", (_types(), since))
    teams = TeamIndex(db)
    catalog = load_catalog()
    tools: dict[str, dict] = {}
    for row in rows:
        tool = tools.get(row["tool_id"])
        if tool is None:
            known = catalog.by_id(row["tool_id"])
            tool = tools[row["tool_id"]] = {
                "tool_id": row["tool_id"], "name": known.name if known else row["tool_id"],
                "vendor": known.vendor if known else "", "category": known.category if known else "",
                "users": set(), "devices": set(), "events": 0,
                "first_seen": row["first_seen"], "last_seen": row["last_seen"]}
        tool["users"].add(row["user"])
        tool["devices"].add(row["device_id"])
        tool["events"] += row["events"]
        tool["first_seen"] = min(tool["first_seen"], row["first_seen"])
        tool["last_seen"] = max(tool["last_seen"], row["last_seen"])
    result = []
    for tool in tools.values():
        tool["teams"] = teams.teams(sorted(tool["users"]), sorted(tool["devices"]))
        tool["user_count"], tool["device_count"] = len(tool.pop("users")), len(tool.pop("devices"))
        result.append(tool)
    return sorted(result, key=lambda t: (-t["user_count"], -t["events"], t["tool_id"]))


def _types() -> str:
    return json.dumps(sorted(USAGE_EVENT_TYPES))
