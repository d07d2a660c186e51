"""AI browser extensions (viewer role): every extension an agent found installed in a browser
profile that is an AI tool or whose permissions reach AI tool hosts (browser_extension.observed),
one row per store id: its name and versions, the browsers, whether it came from a store or
was sideloaded (the agent's sideloaded_extension flag and its evidence), whether it can read
every site, its risk flags, the devices and users it is on, when it was first and last seen,
and the alerts whose facts name it. Searchable, filterable by browser, install and risk,
paged. The list read is recorded by record/reads.py (subject ``extensions``)."""
from __future__ import annotations

from typing import Any

import sqlite_utils
from aiohttp import web

from shadowmap.collector.alerts.filters import tool_name
from shadowmap.collector.console.auth import require_page
from shadowmap.collector.console.listing import Listing
from shadowmap.collector.console.mcp_servers import MAX_ALERTS_SHOWN, flags_of
from shadowmap.collector.console.pages import render
from shadowmap.collector.state import STORE
from shadowmap.collector.store.sqlite import device_views, observations
from shadowmap.contract import enums

SIDELOADED = "sideloaded_extension"  # the agent_risk flag of an extension not installed from a store
INSTALLS = ("store", "sideloaded")


def extensions(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    """One row per extension id, sideloaded and alerted ones first, then the most recently seen."""
    names = observations.hostnames(db)
    found: dict[str, dict[str, Any]] = {}
    for seen in observations.latest_observations(db, observations.BROWSER_EXTENSION):
        data = seen["data"]
        extension_id = str(data.get("extension_id", ""))
        row = found.setdefault(extension_id, {
            "extension_id": extension_id, "name": str(data.get("name", "")), "versions": set(), "browsers": set(),
            "profiles": 0, "enabled": 0, "all_sites": False, "ai_hosts": set(), "permissions": set(), "tools": set(),
            "devices": {}, "users": set(), "risks": {}, "first_seen": seen["first_seen"],
            "last_seen": seen["last_seen"], "alerts": []})
        if seen["last_seen"] >= row["last_seen"]:
            row["name"] = str(data.get("name", row["name"]))  # the newest name wins
        row["versions"].update([str(data["version"])] if data.get("version") else [])
        row["browsers"].add(str(data.get("browser", "")))
        row["profiles"] += 1
        row["enabled"] += data.get("enabled") is not False
        row["all_sites"] = row["all_sites"] or data.get("all_sites") is True
        row["ai_hosts"].update(str(h) for h in data.get("ai_hosts") or [])
        row["permissions"].update(str(p) for p in data.get("permissions") or [])
        if data.get("tool_id"):
            row["tools"].add(tool_name(data["tool_id"], None))
        row["devices"][seen["device_id"]] = names.get(seen["device_id"], seen["device_id"][:8])
        row["users"].add(str(data.get("profile_user") or seen["user"]))
        for risk in flags_of(data):
            row["risks"].setdefault(risk["flag"], risk["evidence"])
        row["first_seen"] = min(row["first_seen"], seen["first_seen"])
        row["last_seen"] = max(row["last_seen"], seen["last_seen"])
    for alert in observations.alerts_with_fact(db, "extension"):
        for extension_id, row in found.items():
            if f"({extension_id})" in str(alert["named"]):
                row["alerts"].append(alert)
    rows = [{**row, "versions": sorted(row["versions"]), "browsers": sorted(row["browsers"]),
             "ai_hosts": sorted(row["ai_hosts"]), "permissions": sorted(row["permissions"]), "tools": sorted(row["tools"]),
             "users": sorted(row["users"]), "hosts": sorted(row["devices"].values()),
             "host_links": sorted(row["devices"].items(), key=lambda item: item[1]),
             "install": "sideloaded" if SIDELOADED in row["risks"] else "store",
             "active_alerts": sum(1 for a in row["alerts"] if a["status"] in enums.ACTIVE_ALERT_STATUSES)}
            for row in found.values()]
    rows.sort(key=lambda r: r["last_seen"], reverse=True)
    rows.sort(key=lambda r: (-r["active_alerts"], r["install"] != "sideloaded", -len(r["risks"])))
    return rows


async def extensions_handler(request: web.Request) -> web.Response:
    principal = await require_page(request, "viewer")
    rows, enrolled = await request.app[STORE].read(lambda db: (extensions(db), device_views.enrolled_count(db)))
    listing = Listing(request.query, "/extensions", {"browser": enums.BROWSERS, "install": INSTALLS,
                                                     "risk": enums.AGENT_RISKS})
    chosen = listing.filters
    matching = [
        row for row in rows
        if (not chosen["browser"] or chosen["browser"] in row["browsers"])
        and (not chosen["install"] or row["install"] == chosen["install"])
        and (not chosen["risk"] or chosen["risk"] in row["risks"])
        and listing.matches(row["extension_id"], row["name"], row["tools"], row["browsers"], row["users"], row["hosts"],
                            list(row["devices"]), row["ai_hosts"], list(row["risks"]))]
    return render(request, "extensions.html", principal, extensions=listing.page_of(matching), listing=listing,
                  browsers=enums.BROWSERS, installs=INSTALLS, risks=enums.AGENT_RISKS, seen_any=bool(rows),
                  alerts_shown=MAX_ALERTS_SHOWN, enrolled=enrolled)


ROUTES = [web.get("/extensions", extensions_handler)]
