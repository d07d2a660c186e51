"""The weekly sub-processor report as data: for one ISO week, every AI vendor in use (new
ones first) with its tools, users, devices, teams, the data classes that reached it, its
register status and retention against company policy, its open findings, plus the
teams -> tools -> data classes flow; each item carries the controls it evidences.
Reads the usage rollup, the register, team mapping, alerts and org settings; tables that
do not exist yet are treated as empty (a vendor not in the register is unlisted)."""
from __future__ import annotations

import json
import re
from collections import defaultdict
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from shadowmap.collector.report.controls import tags
from shadowmap.collector.store.sqlite import catalog_overlay
from shadowmap.collector.store.sqlite import weekly_report as week_report
from shadowmap.contract import enums
from shadowmap.detectors.catalog import load_catalog
from shadowmap.detectors.vendors import UNKNOWN, load_vendors

if TYPE_CHECKING:
    import sqlite_utils

WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
ACTIVE_ALERT_STATUSES = enums.ACTIVE_ALERT_STATUSES  # the contract's
UNASSIGNED = "(no team)"
POLICY_SETTING = "retention_policy_days"  # the company's policy for vendors' retention of inputs
SEVERITY_ORDER = enums.SEVERITIES  # most severe first


class ReportError(ValueError):
    pass


def week_bounds(week: str) -> tuple[date, date]:
    """'2026-W47' -> (Monday, next Monday)."""
    match = WEEK.match(week or "")
    if not match:
        raise ReportError(f"week must look like 2026-W47, not {week!r}")
    try:
        start = date.fromisocalendar(int(match[1]), int(match[2]), 1)
        return start, start + timedelta(days=7)
    except (ValueError, OverflowError) as exc:  # 9999-W52 ends past the last date Python has
        raise ReportError(f"no such week {week!r}: {exc}") from None


def _fact(fact: Any) -> dict:
    # `verified`: the date the source page's own text was read and found to support the fact
    return {"value": fact.value, "source": fact.source.url if fact.source else None,
            "verified": fact.source.verified if fact.source else None}


def _retention(vendor_facts, register_row: dict | None, policy_days: int | None) -> dict:
    """Judge the tier the company is on: business under a signed DPA, else consumer."""
    tier = "business" if register_row and register_row.get("dpa_signed") else "consumer"
    contractual = register_row.get("retention_days") if register_row else None
    if contractual is not None:
        days, basis = contractual, "register"
    elif vendor_facts is not None:
        days, basis = vendor_facts.retention_days[tier].value, f"vendor facts ({tier} tier)"
    else:
        days, basis = UNKNOWN, "no vendor facts"
    if policy_days is None:
        status = "no company policy"
    elif days == "until_deleted":
        status = "exceeds"
    elif isinstance(days, int) and not isinstance(days, bool):
        status = "exceeds" if days > policy_days else "within"
    else:
        status = "unknown"
    return {"vendor_days": days, "basis": basis, "policy_days": policy_days, "status": status,
            "controls": tags("retention")}


def build(db: sqlite_utils.Database, week: str) -> dict:
    """Reader fn: the report for ``week`` as a JSON-ready dict."""
    start, end = week_bounds(week)
    catalog, facts, overlay = load_catalog(), load_vendors(), catalog_overlay.vendors(db)
    def vendor_of(tool_id: str) -> str:
        tool = catalog.by_id(tool_id)
        return tool.vendor if tool else overlay.get(tool_id) or f"unknown ({tool_id})"
    by_user, by_device = week_report.teams(db)
    register = week_report.register(db)
    policy_days = week_report.policy_days(db, POLICY_SETTING)
    findings = week_report.open_findings(db, ACTIVE_ALERT_STATUSES)

    first_day, vendors, flow_team_tool, flow_tool_class, totals = week_report.week_usage(
        db, start.isoformat(), end.isoformat(), vendor_of, by_user, by_device, UNASSIGNED)

    rows = []
    for name, v in vendors.items():
        vendor_facts = facts.get(name)
        reg = register.get(name.casefold())
        first = min(first_day.get(tool, start.isoformat()) for tool in v["tools"])
        allowed = set(json.loads(reg["data_classes"])) if reg and reg.get("data_classes") else set()
        open_by_severity: dict[str, int] = defaultdict(int)
        for tool, alert_vendor, severity, n in findings:
            if tool in v["tools"] or (not tool and alert_vendor.casefold() == name.casefold()):
                open_by_severity[severity] += n
        rows.append({
            "vendor": name,
            "new_this_week": first >= start.isoformat(),
            "first_seen": first,
            "tools": sorted(v["tools"]),
            "users": v["users"], "devices": v["devices"], "teams": sorted(v["teams"]),
            "events": v["events"],
            "data_classes_sent": dict(sorted(v["sent"].items())),
            "data_classes_blocked": dict(sorted(v["blocked"].items())),
            "register": {
                "listed": bool(reg and reg.get("listed")), "in_register": reg is not None,
                "dpa_signed": bool(reg and reg.get("dpa_signed")), "dpa_date": (reg or {}).get("dpa_date") or None,
                "classes_not_allowed": sorted(set(v["sent"]) - allowed),
                "controls": tags("register_status"),
            },
            "retention": _retention(vendor_facts, reg, policy_days),
            "open_findings": {s: open_by_severity[s] for s in SEVERITY_ORDER if open_by_severity.get(s)},
            "facts": ({key: _fact(getattr(vendor_facts, key)) for key in
                       ("legal_entity", "hq_country", "data_regions", "dpa_available", "soc2", "iso27001")}
                      if vendor_facts else None),
            "controls": {"vendor": tags("vendors_in_use"), "people": tags("people_and_devices"),
                         "data_classes": tags("data_classes_sent"), "open_findings": tags("open_findings"),
                         **({"new": tags("new_vendors")} if first >= start.isoformat() else {})},
        })
    rows.sort(key=lambda r: (not r["new_this_week"], -r["users"], r["vendor"].casefold()))
    flow = {
        "team_to_tool": [{"team": t, "tool": tool, "users": users} for (t, tool), users in sorted(flow_team_tool.items())],
        "tool_to_data_class": [{"tool": tool, "data_class": c, "events": n}
                               for (tool, c), n in sorted(flow_tool_class.items())],
        "controls": tags("data_flow_map"),
    }
    summary = {
        "vendors_in_use": len(rows), "new_vendors": sum(r["new_this_week"] for r in rows),
        "users": totals[0], "devices": totals[1],
        "unlisted_vendors": sum(not r["register"]["listed"] for r in rows),
        "vendors_without_dpa": sum(not r["register"]["dpa_signed"] for r in rows),
        "retention_exceeds_policy": sum(r["retention"]["status"] == "exceeds" for r in rows),
        "open_findings": sum(sum(r["open_findings"].values()) for r in rows),
    }
    return {"report": "weekly sub-processor report", "week": week, "from": start.isoformat(),
            "to": end.isoformat(), "summary": summary, "vendors": rows, "data_flow": flow}
