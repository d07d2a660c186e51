"""Devices for analysts (viewer role): every enrolled agent with its host, users, OS, agent
version, mode, when it was last heard from, its health as its last heartbeat tells it (the
extension per browser profile, spool backlog, the agent's own footprint, what discovery
cannot see) and whether protection is on; searchable, filterable, paged; and one device's
page with the alerts, MCP servers and browser extensions that name it. Admin actions
(revoke, re-enrollment requests) stay on /admin/devices. Reads are recorded: the list by
record/reads.py, a device's page here (subject ``device:<id>``)."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlite_utils
from aiohttp import web

from shadowmap.collector.alerts import protection
from shadowmap.collector.console.auth import require_page
from shadowmap.collector.console.listing import Listing
from shadowmap.collector.console.mcp_servers import flags_of
from shadowmap.collector.console.pages import render
from shadowmap.collector.device_watch import WATCH_SETTINGS
from shadowmap.collector.record import record_read
from shadowmap.collector.state import STORE
from shadowmap.collector.store.sqlite import device_views, observations
from shadowmap.collector.store.sqlite.devices import MODES

PROTECTION = ("on", "off", "retired", "revoked")
MAX_ID = 64


def _dark_after(app: web.Application) -> timedelta:
    return app[WATCH_SETTINGS].dark_after if WATCH_SETTINGS in app else protection.DEFAULT_DARK_AFTER


def _states(raw: str) -> list[dict[str, Any]]:
    try:
        states = json.loads(raw or "[]")
    except ValueError:
        return []
    return [s for s in states if isinstance(s, dict)] if isinstance(states, list) else []


def describe(device: dict[str, Any], heartbeat: dict[str, Any] | None, now: datetime,
             dark_after: timedelta) -> dict[str, Any]:
    """A device as the pages show it: its facts, its health and its protection state."""
    beat = heartbeat or {}
    users = sorted({str(u) for u in beat.get("users") or [] if u} | ({device["os_user"]} if device["os_user"] else set()))
    reasons, _ = protection.problems(device, now, dark_after)
    state = ("revoked" if device["revoked"] else "retired" if device["retired_at"] else "off" if reasons else "on")
    os_name = beat.get("os") or device["os"]
    footprint = beat.get("footprint") if isinstance(beat.get("footprint"), dict) else None
    return {
        **device, "users": users, "agent_version": beat.get("agent_version") or "",
        "os_label": f"{os_name} {beat['os_version']}" if beat.get("os_version") else os_name,
        "extension_states": _states(device["extensions"]), "heartbeat_at": device["extensions_at"],
        "has_heartbeat": heartbeat is not None, "spool_depth": beat.get("spool_depth"),
        "spool_dropped": beat.get("spool_dropped"), "footprint": footprint,
        "discovery": beat.get("discovery") if isinstance(beat.get("discovery"), dict) else {},
        "protection": state, "reasons": reasons if state == "off" else [],
        "ai_browsers": list(json.loads(device["ai_browsers"] or "{}").values()),
    }


def _list(db: sqlite_utils.Database, now: datetime, dark_after: timedelta) -> tuple[list[dict], dict[str, int]]:
    rows = device_views.devices(db)
    beats = device_views.last_heartbeats(db)
    return ([describe(row, beats.get(row["device_id"]), now, dark_after) for row in rows],
            device_views.active_alert_counts(db))


async def device_list_handler(request: web.Request) -> web.Response:
    principal = await require_page(request, "viewer")
    devices, alert_counts = await request.app[STORE].read(_list, datetime.now(UTC), _dark_after(request.app))
    versions = sorted({d["agent_version"] for d in devices if d["agent_version"]})
    listing = Listing(request.query, "/devices", {"mode": MODES, "protection": PROTECTION, "version": versions})
    chosen = listing.filters
    matching = [
        d for d in devices
        if (not chosen["mode"] or d["mode"] == chosen["mode"])
        and (not chosen["protection"] or d["protection"] == chosen["protection"])
        and (not chosen["version"] or d["agent_version"] == chosen["version"])
        and listing.matches(d["hostname"], d["device_id"], d["os_label"], d["users"], d["agent_version"], d["mode"])]
    matching.sort(key=lambda d: d["protection"] != "off")  # the ones needing a look first (stable: then last seen)
    shown = listing.page_of(matching)
    for d in shown:
        d["active_alerts"] = alert_counts.get(d["device_id"], 0)
    counts = {state: sum(1 for d in devices if d["protection"] == state) for state in PROTECTION}
    return render(request, "device_list.html", principal, devices=shown, listing=listing, modes=MODES,
                  protection_states=PROTECTION, versions=versions, enrolled=len(devices), counts=counts)


def _detail(db: sqlite_utils.Database, device_id: str, now: datetime, dark_after: timedelta) -> dict | None:
    row = device_views.device(db, device_id)
    if row is None:
        return None
    device = describe(row, device_views.last_heartbeats(db, [device_id]).get(device_id), now, dark_after)
    device["alerts"], device["alert_total"] = device_views.alerts_naming_device(db, device_id)
    guard = device_views.protection_alerts(db, [protection.key_of(device_id)])
    device["protection_alert"] = next(iter(guard.values()), None)
    device["mcp_servers"] = [
        {"name": str(o["data"].get("name", "")), "transport": str(o["data"].get("transport", "")),
         "config_path": str(o["data"].get("config_path", "")), "user": o["user"],
         "flags": [risk["flag"].replace("_", " ") for risk in flags_of(o["data"])]}
        for o in observations.latest_observations(db, observations.MCP_SERVER, device_id)]
    device["extensions_seen"] = [
        {"extension_id": str(o["data"].get("extension_id", "")), "name": str(o["data"].get("name", "")),
         "browser": str(o["data"].get("browser", "")), "profile": str(o["data"].get("profile") or ""),
         "user": str(o["data"].get("profile_user") or o["user"])}
        for o in observations.latest_observations(db, observations.BROWSER_EXTENSION, device_id)]
    return device


async def device_detail_handler(request: web.Request) -> web.Response:
    principal = await require_page(request, "viewer")
    device_id = request.match_info["device_id"]
    if len(device_id) > MAX_ID:
        raise web.HTTPNotFound(text="no such device")
    device = await request.app[STORE].read(_detail, device_id, datetime.now(UTC), _dark_after(request.app))
    if device is None:
        raise web.HTTPNotFound(text="no such device")
    await record_read(request.app, principal.name, f"device:{device_id}", {"path": request.path})
    return render(request, "device_detail.html", principal, device=device)


ROUTES = [
    web.get("/devices", device_list_handler),
    web.get("/devices/{device_id}", device_detail_handler),
]
