"""MCP servers (viewer role): every MCP server an agent found wired into an AI tool's config
(mcp_server.observed), one row per server — its name and launcher (command and package, or
a remote server's origin) — with its transport, the tools and config files that name it, the
risk flags of its latest observations, the devices and users it is on, when it was first and
last seen, and the alerts whose facts name it ("Risky AI agent or MCP setup" and others).
Searchable, filterable by risk, transport and tool, paged. The list read is recorded by
record/reads.py (subject ``mcp-servers``)."""
from __future__ import annotations

from typing import Any

import sqlite_utils
from aiohttp import web

from shadowmap import contract
from shadowmap.collector.alerts.filters import tool_name
from shadowmap.collector.console.auth import require_page
from shadowmap.collector.console.listing import Listing
from shadowmap.collector.console.pages import render
from shadowmap.collector.state import STORE
from shadowmap.collector.store.sqlite import device_views, observations
from shadowmap.contract import enums

TRANSPORTS = tuple(contract.read_json("events/mcp_server.observed.json")["properties"]["transport"]["enum"])
MAX_ALERTS_SHOWN = 5


def flags_of(data: dict[str, Any]) -> list[dict[str, str]]:
    """An observation's risks as {flag, evidence}, the well-formed ones only."""
    return [{"flag": str(r["flag"]), "evidence": str(r.get("evidence", ""))}
            for r in data.get("risks") or [] if isinstance(r, dict) and r.get("flag")]


def launcher(data: dict[str, Any]) -> str:
    """How a server is started or reached: `npx @acme/deploy-mcp`, `https://mcp.example.com`."""
    if data.get("url_origin"):
        return str(data["url_origin"])
    return " ".join(str(part) for part in (data.get("command"), data.get("package")) if part) or "not known"


def servers(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    """One row per server (name, transport, launcher), the riskiest then the most recently seen first."""
    names = observations.hostnames(db)
    found: dict[tuple[str, str, str], dict[str, Any]] = {}
    for seen in observations.latest_observations(db, observations.MCP_SERVER):
        data = seen["data"]
        key = (str(data.get("name", "")), str(data.get("transport", "unknown")), launcher(data))
        row = found.setdefault(key, {
            "name": key[0], "transport": key[1], "launcher": key[2], "tools": set(), "config_paths": set(),
            "workspaces": set(), "env_keys": set(), "devices": {}, "users": set(), "risks": {},
            "first_seen": seen["first_seen"], "last_seen": seen["last_seen"], "alerts": []})
        row["tools"].add(tool_name(data.get("tool_id"), None))
        row["config_paths"].add(str(data.get("config_path", "")))
        row["workspaces"].update([str(data["workspace"])] if data.get("workspace") else [])
        row["env_keys"].update(str(k) for k in data.get("env_keys") or [])
        row["devices"][seen["device_id"]] = names.get(seen["device_id"], seen["device_id"][:8])
        row["users"].add(seen["user"])
        for risk in flags_of(data):
            row["risks"].setdefault(risk["flag"], risk["evidence"])
        row["first_seen"] = min(row["first_seen"], seen["first_seen"])
        row["last_seen"] = max(row["last_seen"], seen["last_seen"])
    by_name: dict[str, list[dict[str, Any]]] = {}
    for row in found.values():
        by_name.setdefault(row["name"], []).append(row)
    for alert in observations.alerts_with_fact(db, "mcp_server"):
        for row in by_name.get(str(alert["named"]), []):
            if not alert["path"] or alert["path"] in row["config_paths"]:
                row["alerts"].append(alert)
    rows = [{**row, "tools": sorted(row["tools"]), "config_paths": sorted(row["config_paths"]),
             "workspaces": sorted(row["workspaces"]), "env_keys": sorted(row["env_keys"]), "users": sorted(row["users"]),
             "hosts": sorted(row["devices"].values()),
             "host_links": sorted(row["devices"].items(), key=lambda item: item[1]),
             "active_alerts": sum(1 for a in row["alerts"] if a["status"] in enums.ACTIVE_ALERT_STATUSES)}
            for row in found.values()]
    rows.sort(key=lambda r: r["last_seen"], reverse=True)
    rows.sort(key=lambda r: (-r["active_alerts"], -len(r["risks"])))
    return rows


async def mcp_servers_handler(request: web.Request) -> web.Response:
    principal = await require_page(request, "viewer")
    rows, enrolled = await request.app[STORE].read(lambda db: (servers(db), device_views.enrolled_count(db)))
    tools = sorted({tool for row in rows for tool in row["tools"]})
    listing = Listing(request.query, "/mcp-servers", {"risk": enums.AGENT_RISKS, "transport": TRANSPORTS, "tool": tools})
    chosen = listing.filters
    matching = [
        row for row in rows
        if (not chosen["risk"] or chosen["risk"] in row["risks"])
        and (not chosen["transport"] or row["transport"] == chosen["transport"])
        and (not chosen["tool"] or chosen["tool"] in row["tools"])
        and listing.matches(row["name"], row["launcher"], row["tools"], row["config_paths"], row["workspaces"],
                            row["users"], row["hosts"], list(row["devices"]), list(row["risks"]))]
    return render(request, "mcp_servers.html", principal, servers=listing.page_of(matching), listing=listing,
                  risks=enums.AGENT_RISKS, transports=TRANSPORTS, tools=tools, seen_any=bool(rows),
                  alerts_shown=MAX_ALERTS_SHOWN, enrolled=enrolled)


ROUTES = [web.get("/mcp-servers", mcp_servers_handler)]
