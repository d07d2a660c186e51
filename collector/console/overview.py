"""The console's home: open alerts by severity with their 7- and 30-day trend, the riskiest
users, teams and tools, tools new this week, register gaps, agent coverage, time to
resolve; on an empty collector, a checklist of what to set up next (each item ticked once
done). Charts are drawn on the server, as the weekly report's are."""
from __future__ import annotations

import asyncio
import statistics
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlite_utils
from aiohttp import web

from shadowmap.collector import record
from shadowmap.collector.alerts.raising import ALL_USERS
from shadowmap.collector.alerts.triage import TRANSITIONS
from shadowmap.collector.console import next_steps
from shadowmap.collector.console.auth import require_page
from shadowmap.collector.console.pages import render
from shadowmap.collector.report import charts
from shadowmap.collector.report.weekly import LOCAL_CATEGORY, UNASSIGNED
from shadowmap.collector.state import STORE
from shadowmap.collector.store.sqlite import coverage, overview, weekly_report
from shadowmap.collector.store.sqlite.teams import TeamIndex
from shadowmap.contract import enums
from shadowmap.detectors.catalog import load_catalog

TREND_DAYS = 30
RECENT_DAYS = 7
TOP = 5
CLOSING_ACTIONS = tuple(action for action, (_, to) in TRANSITIONS.items() if to in enums.CLOSED_ALERT_STATUSES)
# how much one active alert weighs in a risk score: a critical outweighs three highs
WEIGHT = {severity: 3 ** enums.SEVERITY_RANK[severity] for severity in enums.SEVERITIES}


def _ranked(scores: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    rows = sorted(scores.values(), key=lambda r: (-r["score"], r["name"]))
    return rows[:TOP]


def _add(scores: dict[str, dict[str, Any]], name: str, severity: str, n: int, **extra: Any) -> None:
    row = scores.setdefault(name, {"name": name, "score": 0, "alerts": 0, "worst": severity, **extra})
    row["score"] += WEIGHT.get(severity, 1) * n
    row["alerts"] += n
    if enums.SEVERITY_RANK.get(severity, 0) > enums.SEVERITY_RANK.get(row["worst"], 0):
        row["worst"] = severity


def _moment(ts: str) -> datetime:
    return datetime.fromisoformat(ts.replace("Z", "+00:00"))


def _hours(start: str, end: str) -> float:
    return max(0.0, (_moment(end) - _moment(start)).total_seconds() / 3600)


def build(db: sqlite_utils.Database, now: datetime) -> dict[str, Any]:
    """Reader fn: everything the overview shows, as of ``now``."""
    catalog = load_catalog()
    today = now.date()
    trend_days, per_day = _trend(db, now)
    recent_start = (today - timedelta(days=RECENT_DAYS - 1)).isoformat()
    before_start = (today - timedelta(days=2 * RECENT_DAYS - 1)).isoformat()
    raised = {severity: {"last_7": sum(per_day.get(d, {}).get(severity, 0) for d in trend_days
                                       if d >= recent_start),
                         "prior_7": sum(per_day.get(d, {}).get(severity, 0) for d in trend_days
                                        if before_start <= d < recent_start),
                         "last_30": sum(per_day.get(d, {}).get(severity, 0) for d in trend_days)}
              for severity in enums.SEVERITIES}
    active = weekly_report.active_by_severity(db, enums.ACTIVE_ALERT_STATUSES)
    severities = [{"severity": s, "open": active.get(s, (0, 0))[0], "unassigned": active.get(s, (0, 0))[1],
                   **raised[s]} for s in enums.SEVERITIES]

    teams = TeamIndex(db)
    users: dict[str, dict[str, Any]] = {}
    team_scores: dict[str, dict[str, Any]] = {}
    tools: dict[str, dict[str, Any]] = {}
    for row in overview.active_alerts_by_subject(db, enums.ACTIVE_ALERT_STATUSES):
        if row["user"] != ALL_USERS:  # an org-wide alert (a vendor's) is nobody's in particular
            _add(users, row["user"], row["severity"], row["n"])
            _add(team_scores, teams.by_user.get(row["user"], UNASSIGNED), row["severity"], row["n"])
        tool = catalog.by_id(row["tool_id"]) if row["tool_id"] else None
        label = tool.name if tool else (row["tool_id"] or row["vendor"])
        if label:
            _add(tools, label, row["severity"], row["n"], tool_id=row["tool_id"])

    def tool_name(tool_id: str) -> str:
        tool = catalog.by_id(tool_id)
        return tool.name if tool else tool_id

    new_tools = [{"name": tool_name(t), "tool_id": t, "first_day": day}
                 for t, day in overview.tools_first_seen_since(db, recent_start)]
    register = weekly_report.register(db)
    gaps = []
    vendors_in_use: dict[str, dict[str, Any]] = {}
    for tool_id, user_count, _events in overview.tools_used_since(db, trend_days[0]):
        tool = catalog.by_id(tool_id)
        if tool is None or tool.category == LOCAL_CATEGORY:
            continue  # unknown tools have their own queue; local runtimes are not sub-processors
        entry = vendors_in_use.setdefault(tool.vendor, {"vendor": tool.vendor, "users": 0, "tools": set()})
        entry["users"] += user_count
        entry["tools"].add(tool.name)
    for vendor in sorted(vendors_in_use.values(), key=lambda v: -v["users"]):
        reg = register.get(vendor["vendor"].casefold())
        problem = ("not in the register" if reg is None else "not listed as a sub-processor" if not reg.get("listed")
                   else "no DPA on file" if not reg.get("dpa_signed") else None)
        if problem:
            gaps.append({**vendor, "tools": sorted(vendor["tools"]), "problem": problem})

    enrolled = coverage.enrolled_devices(db, (now + timedelta(seconds=1)).isoformat())
    heard = coverage.heartbeats(db, recent_start, (now + timedelta(days=1)).isoformat())
    versions: dict[str, int] = defaultdict(int)
    for seen in heard.values():
        versions[seen["agent_version"] or "unknown"] += 1
    closed = overview.resolutions(db, CLOSING_ACTIONS, trend_days[0])
    hours = [_hours(first, at) for _, first, at in closed]
    resolve = {"closed": len(hours),
               "median_hours": round(statistics.median(hours), 1) if hours else None,
               # inclusive: between the closest ranks, never past the longest (the default extrapolates)
               "p90_hours": round(statistics.quantiles(hours, n=10, method="inclusive")[-1], 1)
               if len(hours) >= 2 else None}
    checklist = next_steps.checklist(db)
    return {
        "now": now.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "severities": severities, "open_total": sum(s["open"] for s in severities),
        "has_trend": any(per_day.values()),
        "users": _ranked(users), "teams": _ranked(team_scores), "tools": _ranked(tools),
        "new_tools": new_tools, "register_gaps": gaps,
        "coverage": {"enrolled": len(enrolled), "reporting": sum(1 for d in enrolled if d["device_id"] in heard),
                     "silent": [d["hostname"] for d in enrolled if d["device_id"] not in heard],
                     "versions": dict(sorted(versions.items()))},
        "resolve": resolve, "checklist": checklist, "setup_done": all(item["done"] for item in checklist),
        "has_data": bool(enrolled) or any(s["open"] or s["last_30"] for s in severities),
    }


# the page as every console page, plus its own chart as an image (an <img> SVG runs nothing)
OVERVIEW_CSP = ("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; "
                "base-uri 'none'")


def _trend(db: sqlite_utils.Database, now: datetime) -> tuple[list[str], dict[str, dict[str, int]]]:
    today = now.date()
    days = [(today - timedelta(days=back)).isoformat() for back in range(TREND_DAYS - 1, -1, -1)]
    per_day: dict[str, dict[str, int]] = defaultdict(dict)
    for day, severity, n in overview.alerts_per_day(db, days[0]):
        per_day[day][severity] = n
    return days, dict(per_day)


async def overview_handler(request: web.Request) -> web.Response:
    principal = await require_page(request, "viewer")
    data = await request.app[STORE].read(lambda db: build(db, datetime.now(UTC)))
    await record.record_read(request.app, principal.name, "overview", {"page": "overview"})
    response = render(request, "overview.html", principal, data=data)
    response.headers["Content-Security-Policy"] = OVERVIEW_CSP
    return response


async def trend_chart_handler(request: web.Request) -> web.Response:
    await require_page(request, "viewer")
    days, per_day = await request.app[STORE].read(lambda db: _trend(db, datetime.now(UTC)))
    svg = await asyncio.get_running_loop().run_in_executor(  # charts take a moment: off the loop
        None, charts.alerts_per_day, days, per_day, enums.SEVERITIES)
    return web.Response(text=svg, content_type="image/svg+xml", headers={"Cache-Control": "no-store"})


ROUTES = [web.get("/overview", overview_handler), web.get("/overview/trend.svg", trend_chart_handler)]
