"""The weekly sub-processor report as data: for one ISO week, an executive summary with the
change from the week before and the actions that follow; every AI sub-processor in use (new
ones first) with its tools, users, devices, teams, the data classes that reached it, its
register status and retention against company policy; local model runtimes apart (nothing
leaves the laptop through them); the open findings one by one; agent coverage; the
teams -> tools -> data classes flow; one control-mapping appendix; and the attestation
(generated at, the record's head, a signature added by `attestation.sign`).
Reads the usage rollup, the register, team mapping, alerts, devices and org settings."""
from __future__ import annotations

import json
import re
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from shadowmap.collector.alerts.retention import policy_retention_days
from shadowmap.collector.record.chain import GENESIS
from shadowmap.collector.report import approval, controls, sections, sso
from shadowmap.collector.store.sqlite import account_tiers, catalog_overlay
from shadowmap.collector.store.sqlite import coverage as coverage_store
from shadowmap.collector.store.sqlite import record as record_store
from shadowmap.collector.store.sqlite import weekly_report as week_report
from shadowmap.contract import enums
from shadowmap.detectors import vendor_coverage
from shadowmap.detectors.catalog import load_catalog
from shadowmap.detectors.vendors import UNKNOWN, load_vendors

if TYPE_CHECKING:
    import sqlite_utils

WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
ACTIVE_ALERT_STATUSES = enums.ACTIVE_ALERT_STATUSES  # the contract's
UNASSIGNED = "(no team)"
SEVERITY_ORDER = enums.SEVERITIES  # most severe first
LOCAL_CATEGORY = "local"  # the catalog's category of model runtimes on the laptop itself


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
    # (only when the page's quote states this fact, not merely another fact of the same page)
    return {"value": fact.value, "source": fact.source.url if fact.source else None,
            "verified": fact.source.verified if fact.verified and fact.source else None}


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
    return {"vendor_days": days, "basis": basis, "policy_days": policy_days, "status": status}


def _vendor_fact_coverage() -> dict:
    """How complete the catalog's vendor facts are for the most used tools (the figures, not the rows)."""
    figures = vendor_coverage.coverage()
    return {**{key: value for key, value in figures.items() if key != "rows"},
            "statement": vendor_coverage.summary_line(figures)}


def _listing_order(row: dict) -> tuple:
    """New this week first, then by users."""
    return (not row["new_this_week"], -row["users"], row["vendor"].casefold())


def _week_totals(usage: tuple[Any, ...], is_local, start: str, raised: int) -> dict[str, int]:
    """The figures compared week over week, from one week_usage result."""
    first_day, vendors, _, _, totals = usage
    remote = {name: v for name, v in vendors.items() if not is_local(v["tools"])}
    return {
        "vendors_in_use": len(remote),
        "new_vendors": sum(min(first_day.get(t, start) for t in v["tools"]) >= start for v in remote.values()),
        "local_runtimes": len(vendors) - len(remote),
        "users": totals[0], "devices": totals[1],
        "sensitive_events_reached": sum(sum(v["sent"].values()) for v in remote.values()),
        "sensitive_events_kept_back": sum(sum(v["blocked"].values()) for v in remote.values()),
        "alerts_raised": raised,
    }


def build(db: sqlite_utils.Database, week: str, now: str | None = None) -> dict:
    """Reader fn: the report for ``week`` as a JSON-ready dict (unsigned: see attestation.sign)."""
    start, end = week_bounds(week)
    now = now or datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    catalog, facts, overlay = load_catalog(), load_vendors(), catalog_overlay.vendors(db)

    def vendor_of(tool_id: str) -> str:
        tool = catalog.by_id(tool_id)
        return tool.vendor if tool else overlay.get(tool_id) or f"unknown ({tool_id})"

    def tool_name(tool_id: str) -> str:
        tool = catalog.by_id(tool_id)
        return tool.name if tool else tool_id

    def is_local(tool_ids) -> bool:
        found = [catalog.by_id(t) for t in tool_ids]
        return bool(found) and all(t is not None and t.category == LOCAL_CATEGORY for t in found)

    by_user, by_device = week_report.teams(db)
    register = week_report.register(db)
    policy_days = policy_retention_days(db)  # the company's policy for vendors' retention of inputs
    findings = week_report.open_findings(db, ACTIVE_ALERT_STATUSES)
    hostnames = week_report.hostnames(db)

    usage = week_report.week_usage(db, start.isoformat(), end.isoformat(), vendor_of, by_user, by_device, UNASSIGNED)
    first_day, vendors, flow_team_tool, flow_tool_class, totals = usage
    previous_start = start - timedelta(days=7)
    previous = week_report.week_usage(db, previous_start.isoformat(), start.isoformat(), vendor_of, by_user,
                                      by_device, UNASSIGNED)

    rows, local_runtimes = [], []
    for name, v in vendors.items():
        first = min(first_day.get(tool, start.isoformat()) for tool in v["tools"])
        usage_row = {"vendor": name, "new_this_week": first >= start.isoformat(), "first_seen": first,
                     "tools": sorted(tool_name(t) for t in v["tools"]), "tool_ids": sorted(v["tools"]),
                     "users": v["users"], "devices": v["devices"], "teams": sorted(v["teams"]),
                     "events": v["events"]}
        if is_local(v["tools"]):
            local_runtimes.append(usage_row)
            continue
        vendor_facts = facts.get(name)
        reg = register.get(name.casefold())
        allowed = set(json.loads(reg["data_classes"])) if reg and reg.get("data_classes") else set()
        open_by_severity: dict[str, int] = defaultdict(int)
        for tool, alert_vendor, severity, n in findings:
            if tool in v["tools"] or (not tool and alert_vendor.casefold() == name.casefold()):
                open_by_severity[severity] += n
        rows.append({
            **usage_row,
            "data_classes_sent": dict(sorted(v["sent"].items())),
            "data_classes_blocked": dict(sorted(v["blocked"].items())),
            "register": {
                "listed": bool(reg and reg.get("listed")), "in_register": reg is not None,
                "dpa_signed": bool(reg and reg.get("dpa_signed")), "dpa_date": (reg or {}).get("dpa_date") or None,
                "classes_not_allowed": sorted(set(v["sent"]) - allowed),
            },
            "retention": _retention(vendor_facts, reg, policy_days),
            "open_findings": {s: open_by_severity[s] for s in SEVERITY_ORDER if open_by_severity.get(s)},
            "facts": ({key: _fact(getattr(vendor_facts, key)) for key in
                       ("legal_entity", "hq_country", "data_regions", "dpa_available", "soc2", "iso27001")}
                      if vendor_facts else None),
        })
    rows.sort(key=_listing_order)
    local_runtimes.sort(key=_listing_order)
    flow = {
        "team_to_tool": [{"team": t, "tool": tool_name(tool), "users": users}
                         for (t, tool), users in sorted(flow_team_tool.items())],
        "tool_to_data_class": [{"tool": tool_name(tool), "data_class": c, "events": n}
                               for (tool, c), n in sorted(flow_tool_class.items())],
    }
    cover = sections.coverage(coverage_store.enrolled_devices(db, end.isoformat()),
                              coverage_store.heartbeats(db, start.isoformat(), end.isoformat()),
                              sum(v["events"] for v in vendors.values()))
    sso_coverage = sso.section(account_tiers.by_tool_user_tier(db, start.isoformat(), end.isoformat()),
                               account_tiers.by_tool_user_tier(db, previous_start.isoformat(), start.isoformat()),
                               tool_name)
    total, listed = week_report.open_findings_list(db, ACTIVE_ALERT_STATUSES, SEVERITY_ORDER,
                                                   sections.OPEN_FINDINGS_LISTED)
    open_list = sections.open_findings(total, listed, tool_name, hostnames, now,
                                       week_report.active_by_severity(db, ACTIVE_ALERT_STATUSES))
    this_week = _week_totals(usage, is_local, start.isoformat(),
                             week_report.alerts_raised(db, start.isoformat(), end.isoformat()))
    last_week = _week_totals(previous, is_local, previous_start.isoformat(),
                             week_report.alerts_raised(db, previous_start.isoformat(), start.isoformat()))
    summary = {
        **this_week,
        "unlisted_vendors": sum(not r["register"]["listed"] for r in rows),
        "vendors_without_dpa": sum(not r["register"]["dpa_signed"] for r in rows),
        "retention_exceeds_policy": sum(r["retention"]["status"] == "exceeds" for r in rows),
        "open_findings": sum(sum(r["open_findings"].values()) for r in rows),
        "open_findings_all": total,
        "devices_silent": len(cover["silent_devices"]),
    }
    seq, entry_hash = record_store.last_entry(db) or (0, GENESIS)
    return {"report": "weekly sub-processor report", "week": week, "from": start.isoformat(),
            "to": end.isoformat(), "generated_at": now, "summary": summary,
            "week_over_week": sections.deltas(this_week, last_week),
            "top_actions": sections.top_actions(rows, open_list, cover),
            "vendors": rows, "local_runtimes": local_runtimes, "open_findings": open_list,
            "coverage": cover, "sso_coverage": sso_coverage, "data_flow": flow, "controls": controls.appendix(),
            "vendor_fact_coverage": _vendor_fact_coverage(),
            "approval": {"approver": approval.approver(db), "approved_at": None},
            "attestation": {"generated_at": now, "record_seq": seq, "record_entry_hash": entry_hash}}
