"""The parts of the weekly report an auditor reads first: agent coverage (and the warning
when agents were silent), the open findings one by one (id, owner, age, status), the
week-over-week change and the actions that follow from it. Pure functions of what the
store read; `weekly.build` puts them together."""
from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from typing import Any

from shadowmap.contract import enums

OPEN_FINDINGS_LISTED = 100  # the rest are counted; the console's alerts queue lists them all
UNASSIGNED_OWNER = "unassigned"
DELTA_KEYS = ("vendors_in_use", "new_vendors", "local_runtimes", "users", "devices",
              "sensitive_events_reached", "sensitive_events_kept_back", "alerts_raised")
MAX_ACTIONS = 7
URGENT_SEVERITIES = enums.SEVERITIES[:2]  # the two most severe: each gets its own line
MAX_NAMES = 5


def coverage(enrolled: list[dict[str, Any]], heard: dict[str, dict[str, Any]], usage_events: int) -> dict[str, Any]:
    """Devices enrolled before the week ended against those that sent a heartbeat in it."""
    silent = [{"hostname": d["hostname"], "os": d["os"], "last_seen": d["last_seen"] or "never"}
              for d in enrolled if d["device_id"] not in heard]
    versions = Counter(h["agent_version"] or "unknown" for h in heard.values())
    warnings = []
    if silent:
        warnings.append(f"{len(silent)} of {len(enrolled)} enrolled devices sent no heartbeat this week: what they "
                        "did is missing from this report.")
    if not heard and not usage_events:
        warnings.append("No agent reported anything this week: the figures below are empty, not clean.")
    return {"devices_enrolled": len(enrolled), "devices_reporting": len(heard), "silent_devices": silent,
            "agent_versions": dict(sorted(versions.items())), "warning": " ".join(warnings) or None}


def _day(ts: str) -> datetime:
    return datetime.fromisoformat(ts.replace("Z", "+00:00"))


def open_findings(total: int, rows: list[dict[str, Any]], tool_name, hostnames: dict[str, str], now: str,
                  by_severity: dict[str, tuple[int, int]]) -> dict[str, Any]:
    """Each active alert with the names a reader knows: tool, vendor, user, hosts, owner, age."""
    listed = []
    for row in rows:
        device_ids = row["device_ids"] if isinstance(row["device_ids"], list) else _json_list(row["device_ids"])
        listed.append({
            "id": row["id"], "finding": row["finding"], "severity": row["severity"],
            "tool": tool_name(row["tool_id"]) if row["tool_id"] else None, "vendor": row["vendor"] or None,
            "user": row["user"], "hosts": sorted(hostnames.get(d, d) for d in device_ids),
            "owner": row["assignee"] or UNASSIGNED_OWNER, "status": row["status"],
            "opened": row["first_seen"][:10], "last_seen": row["last_seen"][:10],
            "age_days": max(0, (_day(now) - _day(row["first_seen"])).days), "events": row["count"]})
    return {"total": total, "listed": len(listed), "rows": listed,
            "by_severity": {severity: {"open": n, "unassigned": unassigned}
                            for severity, (n, unassigned) in by_severity.items()}}


def _json_list(text: str) -> list[str]:
    try:
        value = json.loads(text or "[]")
    except ValueError:
        return []
    return [str(v) for v in value] if isinstance(value, list) else []


def deltas(current: dict[str, int], previous: dict[str, int]) -> dict[str, dict[str, int]]:
    return {key: {"this_week": current[key], "last_week": previous[key], "change": current[key] - previous[key]}
            for key in DELTA_KEYS}


def _names(names: list[str]) -> str:
    shown = ", ".join(names[:MAX_NAMES])
    return shown + (f" and {len(names) - MAX_NAMES} more" if len(names) > MAX_NAMES else "")


def top_actions(vendors: list[dict[str, Any]], findings: dict[str, Any], cover: dict[str, Any]) -> list[str]:
    """What to do this week, most urgent first; each line names what it is about."""
    actions = []
    for severity in URGENT_SEVERITIES:
        counts = findings["by_severity"].get(severity)
        if counts:
            actions.append(f"Triage {counts['open']} {severity} open finding(s)"
                           + (f", {counts['unassigned']} without an owner" if counts["unassigned"] else "") + ".")
    not_allowed = [f"{v['vendor']} ({', '.join(v['register']['classes_not_allowed'])})"
                   for v in vendors if v["register"]["classes_not_allowed"]]
    if not_allowed:
        actions.append(f"Data classes the register does not allow reached: {_names(not_allowed)}.")
    unlisted = [v["vendor"] for v in vendors if not v["register"]["listed"]]
    if unlisted:
        actions.append(f"List or block {len(unlisted)} vendor(s) not in the sub-processor register: "
                       f"{_names(unlisted)}.")
    no_dpa = [v["vendor"] for v in vendors if v["register"]["listed"] and not v["register"]["dpa_signed"]]
    if no_dpa:
        actions.append(f"Obtain a DPA from {_names(no_dpa)}.")
    exceeds = [v["vendor"] for v in vendors if v["retention"]["status"] == "exceeds"]
    if exceeds:
        actions.append(f"Review retention that exceeds company policy: {_names(exceeds)}.")
    if cover["silent_devices"]:
        actions.append(f"Restore the agent on {len(cover['silent_devices'])} silent device(s): "
                       f"{_names([d['hostname'] for d in cover['silent_devices']])}.")
    return actions[:MAX_ACTIONS]
