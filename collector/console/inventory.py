"""The inventory: which AI tools are in use, by how many users and devices, in which teams, and
with which accounts (users and accounts by tier: corporate, personal, unknown)."""
from __future__ import annotations

import sqlite_utils

from shadowmap.collector.alerts.findings import USAGE_EVENT_TYPES
from shadowmap.collector.report import sso
from shadowmap.collector.store.sqlite import account_tiers, catalog_overlay, inventory
from shadowmap.collector.store.sqlite.teams import TeamIndex
from shadowmap.detectors.catalog import load_catalog

MAX_DAYS = 3650


def tool_inventory(db: sqlite_utils.Database, since: str) -> list[dict]:
    """Tools seen in usage events since ``since`` (ISO timestamp), most used first."""
    rows = inventory.tool_use_since(db, INVENTORY_EVENT_TYPES, since)
    overlay_vendors = catalog_overlay.vendors(db)
    teams = TeamIndex(db)
    catalog = load_catalog()
    tools: dict[str, dict] = {}
    for row in rows:
        tool = tools.get(row["tool_id"])
        if tool is None:
            known = catalog.by_id(row["tool_id"])
            tool = tools[row["tool_id"]] = {
                "tool_id": row["tool_id"], "name": known.name if known else row["tool_id"],
                "vendor": known.vendor if known else overlay_vendors.get(row["tool_id"], ""),
                "category": known.category if known else ("org catalog" if row["tool_id"] in overlay_vendors else ""),
                "users": set(), "devices": set(), "events": 0,
                "first_seen": row["first_seen"], "last_seen": row["last_seen"]}
        tool["users"].add(row["user"])
        tool["devices"].add(row["device_id"])
        tool["events"] += row["events"]
        tool["first_seen"] = min(tool["first_seen"], row["first_seen"])
        tool["last_seen"] = max(tool["last_seen"], row["last_seen"])
    tiers = sso.tool_tiers(account_tiers.by_tool_user_tier(db, since))
    result = []
    for tool in tools.values():
        tool["accounts"] = tiers.get(tool["tool_id"])      # None: no sign-in seen on it
        tool["teams"] = teams.teams(sorted(tool["users"]), sorted(tool["devices"]))
        tool["user_count"], tool["device_count"] = len(tool.pop("users")), len(tool.pop("devices"))
        result.append(tool)
    return sorted(result, key=lambda t: (-t["user_count"], -t["events"], t["tool_id"]))


INVENTORY_EVENT_TYPES = USAGE_EVENT_TYPES | {"ai_tool.usage", "ai_tool.unknown_signal"}
