"""The inventory: which AI tools are in use, by how many users and devices, in which teams."""
from __future__ import annotations

import json

import sqlite_utils

from shadowmap.collector.alerts.findings import USAGE_EVENT_TYPES
from shadowmap.collector.store.sqlite import catalog_overlay
from shadowmap.collector.store.sqlite.teams import TeamIndex
from shadowmap.detectors.catalog import load_catalog

MAX_DAYS = 3650


# An event's tool: its own tool_id, else the org catalog overlay's entry for its domain
# (port dropped, lowercase) or process -- the same key ingest attributes new events by.
EVENT_TOOLS = """
    SELECT e.ts, e.user, e.device_id,
           coalesce(json_extract(e.body, '$.data.tool_id'), (SELECT o.tool_id FROM catalog_overlay o WHERE
               (o.kind = 'domain' AND o.name = rtrim(lower(CASE WHEN instr(e.domain, ':') > 0
                    THEN substr(e.domain, 1, instr(e.domain, ':') - 1) ELSE e.domain END), '.'))
               OR (e.domain IS NULL AND o.kind = 'process' AND o.name = substr(e.process, 1, 256)))) AS tool_id
    FROM (SELECT ts, user, device_id, body, nullif(json_extract(body, '$.data.domain'), '') AS domain,
                 json_extract(body, '$.data.process') AS process
          FROM events WHERE type IN (SELECT value FROM json_each(?)) AND ts >= ?) e
"""


def tool_inventory(db: sqlite_utils.Database, since: str) -> list[dict]:
    """Tools seen in usage events since ``since`` (ISO timestamp), most used first."""
    rows = db.query(
        f"SELECT tool_id, user, device_id, min(ts) AS first_seen, max(ts) AS last_seen, count(*) AS events "
        f"FROM ({EVENT_TOOLS}) WHERE tool_id IS NOT NULL GROUP BY 1, 2, 3", (_types(), since))
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
    result = []
    for tool in tools.values():
        tool["teams"] = teams.teams(sorted(tool["users"]), sorted(tool["devices"]))
        tool["user_count"], tool["device_count"] = len(tool.pop("users")), len(tool.pop("devices"))
        result.append(tool)
    return sorted(result, key=lambda t: (-t["user_count"], -t["events"], t["tool_id"]))


INVENTORY_EVENT_TYPES = USAGE_EVENT_TYPES | {"ai_tool.usage", "ai_tool.unknown_signal"}


def _types() -> str:
    return json.dumps(sorted(INVENTORY_EVENT_TYPES))
