"""What agents observed on laptops, as the console's MCP servers and browser extensions pages
list it: the latest observation of each MCP server (per device, user, config file and name)
and of each AI browser extension (per device, user, browser, profile and store id), with when
it was first and last seen; and the alerts whose facts name a server or an extension.
Portable SQL (SQLite and PostgreSQL: json_extract and json_each are rewritten there).

These live only in the events table (mcp_server.observed, browser_extension.observed: sent
when new or changed, and once a day), read through its (type, ts) index."""
from __future__ import annotations

import json
from typing import Any

import sqlite_utils

MCP_SERVER = "mcp_server.observed"
BROWSER_EXTENSION = "browser_extension.observed"
NAMED_FACTS = ("mcp_server", "extension")  # alert facts that name what an agent observed
MAX_OBSERVATIONS = 20_000  # latest observations read for one page at most
# what makes one observation "the same thing, seen again" (the newest of each is kept)
PLACES = {
    MCP_SERVER: ("config_path", "name"),
    BROWSER_EXTENSION: ("browser", "profile", "extension_id"),
}


def latest_observations(db: sqlite_utils.Database, event_type: str, device_id: str | None = None,
                        limit: int = MAX_OBSERVATIONS) -> list[dict[str, Any]]:
    """The newest observation of each thing of ``event_type`` (a key of PLACES) per device and
    user (of one device, or of all): device_id, user, first_seen, last_seen, sightings, data
    (the event's data)."""
    place = ", ".join(f"json_extract(body, '$.data.{field}')" for field in PLACES[event_type])
    one_device, params = ("", (event_type, limit)) if device_id is None else (
        " AND device_id = ?", (event_type, device_id, limit))
    rows = db.execute(
        "SELECT device_id, user, first_seen, ts, sightings, body FROM ("
        " SELECT device_id, user, ts, body, row_number() OVER (PARTITION BY device_id, user, "
        f"{place} ORDER BY ts DESC, id DESC) AS newest, min(ts) OVER (PARTITION BY device_id, user, {place}) AS first_seen,"
        f" count(*) OVER (PARTITION BY device_id, user, {place}) AS sightings FROM events WHERE type = ?{one_device}"
        ") AS observed WHERE newest = 1 ORDER BY ts DESC LIMIT ?", params)
    found = []
    for device_id, user, first_seen, last_seen, sightings, body in rows:
        try:
            data = json.loads(body).get("data")
        except (ValueError, AttributeError):
            continue
        if isinstance(data, dict):
            found.append({"device_id": str(device_id), "user": str(user), "first_seen": str(first_seen),
                          "last_seen": str(last_seen), "sightings": int(sightings), "data": data})
    return found


def alerts_with_fact(db: sqlite_utils.Database, fact: str, limit: int = 5_000) -> list[dict[str, Any]]:
    """The alerts whose facts carry ``fact`` (mcp_server, extension), newest first: id, finding,
    severity, status, user, device_ids (decoded), last_seen, the fact's value and the path."""
    if fact not in NAMED_FACTS:
        raise ValueError(f"not a fact that names an observation: {fact}")
    rows = db.query(
        "SELECT id, finding_id, finding, severity, status, user, device_ids, last_seen, "
        f"json_extract(facts, '$.{fact}') AS named, json_extract(facts, '$.path') AS path FROM alerts "
        f"WHERE json_extract(facts, '$.{fact}') IS NOT NULL ORDER BY last_seen DESC, id DESC LIMIT ?", (limit,))
    found = []
    for row in rows:
        row["device_ids"] = json.loads(row["device_ids"] or "[]")
        found.append(row)
    return found


def hostnames(db: sqlite_utils.Database) -> dict[str, str]:
    """device_id -> hostname, of every enrolled device."""
    return {str(row[0]): str(row[1]) for row in db.execute("SELECT device_id, hostname FROM devices")}
