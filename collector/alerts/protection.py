"""The finding "Protection disabled": a device that stopped reporting for longer than the set
time, or whose agent reports the extension disabled or missing in a browser profile that
enterprise policy force-installs it in. The alert resolves itself once the device reports
again with the extension enabled. A device that retired on purpose (the package's uninstall
scripts send agent.retiring) raises nothing until it reports again."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlite_utils

from shadowmap.collector.alerts import triage
from shadowmap.collector.alerts.findings import BY_ID
from shadowmap.collector.alerts.raising import ALL_USERS, Evidence, dedupe_key, open_or_bump
from shadowmap.collector.store.sqlite import device_watch, locks
from shadowmap.collector.timestamps import utc_now

FINDING_ID = "protection_disabled"
# what note_events reads: ingest hands these to it whole, whatever their tool
WATCHED_EVENT_TYPES = frozenset({"agent.heartbeat", "agent.retiring", "ai_browser.observed"})
ACTOR = "system:device-watch"
DEFAULT_DARK_AFTER = timedelta(days=3)   # laptops sleep over weekends; the agent beats every 5 minutes


def note_events(db: sqlite_utils.Database, items: list[tuple[dict, str]]) -> None:
    """Writer fn (part of ingest): what new events say about their devices — a planned stop,
    the extension's states from a heartbeat, or simply that the device reports again."""
    latest: dict[str, str] = {}
    for event, ts in items:
        device_id = event["device_id"]
        if event["type"] == "agent.retiring":
            device_watch.set_retired(db, device_id, ts, event["data"]["reason"])
            continue
        latest[device_id] = max(ts, latest.get(device_id, ts))
        if event["type"] == "agent.heartbeat":
            device_watch.set_extensions(db, device_id, event["data"].get("extensions") or [], ts)
        elif event["type"] == "ai_browser.observed":
            data = event["data"]
            without = [p["profile"] for p in data["profiles"] if p["extension"] != "enabled"]
            device_watch.set_ai_browser(db, device_id, f"{data['browser_id']}:{event['user']}",
                                        {"name": data["name"], "user": event["user"], "without": without[:10]})
    for device_id, ts in latest.items():
        device_watch.clear_retired(db, [device_id], ts)


@dataclass(frozen=True)
class WatchResult:
    opened: list[int]
    resolved: list[int]


def _parse(ts: str) -> datetime:
    return datetime.fromisoformat(ts.replace("Z", "+00:00"))


def problems(device: dict, now: datetime, dark_after: timedelta) -> tuple[list[str], list[dict]]:
    """Why a device's protection is off (none: it is on), and the profiles without the extension."""
    if device["retired_at"]:
        return [], []
    reasons = []
    last = device["last_seen"] or device["enrolled_at"]
    if last and now - _parse(last) > dark_after:
        reasons.append(f"{device['hostname']} has not reported since {last[:16].replace('T', ' ')} UTC")
    off = [s for s in json.loads(device["extensions"]) if isinstance(s, dict) and s.get("state") != "enabled"]
    for state in off[:10]:
        who = f" of {state['profile_user']}" if state.get("profile_user") else ""
        reasons.append(f"the extension is {state.get('state')} in {state.get('browser')} profile "
                       f"{state.get('profile')}{who}")
    for browser in json.loads(device["ai_browsers"]).values():
        if browser.get("without"):
            reasons.append(f"the AI browser {browser['name']} of {browser['user']} runs without the extension "
                           f"(profiles {', '.join(browser['without'])})")
    return reasons, off


def key_of(device_id: str) -> str:
    return dedupe_key(FINDING_ID, f"device:{device_id}", ALL_USERS)


def watch(db: sqlite_utils.Database, now: datetime, dark_after: timedelta = DEFAULT_DARK_AFTER) -> WatchResult:
    """Writer fn: open an alert for each device whose protection is off, resolve the ones whose
    device is back. Already-open alerts are left as they are (no bump on every pass). Passes
    never overlap: the job's (one node at a time, under its lease) waits for one run from the
    command line (`shadowmap collector devices watch`), and the other way round."""
    locks.lock_names(db, locks.DEVICE_WATCH, ["pass"])
    active = {row["dedupe_key"]: int(row["id"]) for row in device_watch.active_protection_alerts(db)}
    wanted: dict[str, Evidence] = {}
    stamp = utc_now()
    for device in device_watch.watched_devices(db):
        reasons, off = problems(device, now, dark_after)
        if not reasons:
            continue
        facts = {"reason": "; ".join(reasons), "device": device["hostname"], "device_id": device["device_id"],
                 "last_seen": device["last_seen"], "extensions": off}
        wanted[key_of(device["device_id"])] = Evidence(
            BY_ID[FINDING_ID], None, None, None, ALL_USERS, stamp, stamp, count=1,
            device_ids={device["device_id"]}, facts=facts)
    opened = [open_or_bump(db, key, evidence) for key, evidence in wanted.items() if key not in active]
    resolved = []
    for key, alert_id in active.items():
        if key not in wanted:
            triage.apply(db, alert_id, "resolve", ACTOR, "the device reports again with the extension enabled, "
                         "or retired on purpose")
            resolved.append(alert_id)
    return WatchResult(opened, resolved)
