"""The triage queue: active alerts by default, sorted by severity then last seen, sortable
columns, real pages with a true total, filters (user, assignee, "mine", free text, tool by
name, one device by its id) whose errors are shown beside the others kept, bulk acknowledge/resolve/assign, CSV
export; then false-positive rates, the tool inventory and (from report_views) the weekly
report. The alert page itself is alert_page."""
from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode

from aiohttp import web

from shadowmap.collector import record
from shadowmap.collector.alerts import suppressions, triage
from shadowmap.collector.alerts.filters import ANY_STATUS, FIELDS, read_filters, tool_name
from shadowmap.collector.alerts.findings import FINDINGS, SEVERITIES
from shadowmap.collector.alerts.raising import STATUSES
from shadowmap.collector.alerts.summary import summary_line
from shadowmap.collector.console import alert_page, flash, next_steps
from shadowmap.collector.console import reports as report_views
from shadowmap.collector.console.auth import form_text, require_form, require_page
from shadowmap.collector.console.inventory import MAX_DAYS, tool_inventory
from shadowmap.collector.console.pages import refusal, render
from shadowmap.collector.state import STORE
from shadowmap.collector.store.sqlite import accounts
from shadowmap.collector.store.sqlite.alert_reads import (
    SORTS,
    UNASSIGNED,
    config_paths,
    hostnames,
    page_of_alerts,
    severity_counts,
)
from shadowmap.collector.store.sqlite.teams import TeamIndex

PAGE_SIZE = 50
MAX_PAGE = 10_000
EXPORT_LIMIT = 10_000  # rows in one CSV export
ALERT_STEPS = ("device", "extension", "register")  # what an empty queue waits for
LONGER_DAYS = 365      # the inventory's "look further back" when a period is empty
BULK_LIMIT = 200       # alerts in one bulk action
BULK_ACTIONS = ("acknowledge", "resolve", "assign")
DEFAULT_SORT = "severity"
QUEUE_PARAMS = (*FIELDS, "mine", "sort", "dir", "page")
CSV_COLUMNS = ("id", "severity", "finding", "tool", "domain", "vendor", "user", "users", "hosts", "entity_types",
               "outcomes", "count", "first_seen", "last_seen", "status", "assignee")


class Queue:
    """What the queue's query string asks for, with what is wrong in it (by parameter)."""

    def __init__(self, query: Any, username: str) -> None:
        self.raw = {name: query.get(name, "")[:300] for name in QUEUE_PARAMS if name in query}
        self.filters, self.errors = read_filters(query, default_status="active")
        self.mine = query.get("mine", "") == "1"
        if self.mine:
            self.filters = replace(self.filters, assignee=username)
        self.sort = query.get("sort", DEFAULT_SORT)
        if self.sort not in SORTS:
            self.errors["sort"] = f"sort must be one of {', '.join(SORTS)}"
            self.sort = DEFAULT_SORT
        self.descending = query.get("dir", "desc") != "asc"
        raw_page = query.get("page", "1")
        self.page = int(raw_page) if raw_page.isascii() and raw_page.isdigit() and len(raw_page) <= 6 else 0
        if not 1 <= self.page <= MAX_PAGE:
            self.errors["page"] = f"page must be a number from 1 to {MAX_PAGE}"
            self.page = 1

    def value(self, name: str) -> str:
        """What the form shows for a filter: as typed (kept when wrong, to be corrected)."""
        if name == "status" and "status" not in self.raw:
            return "active"
        return self.raw.get(name, "")

    def url(self, **changes: object) -> str:
        """This queue's URL with some parameters changed (None drops one)."""
        params = {**self.raw, **{name: str(value) for name, value in changes.items() if value is not None}}
        for name, value in changes.items():
            if value is None:
                params.pop(name, None)
        return "/alerts" + ("?" + urlencode(params) if params else "")

    def sort_url(self, column: str) -> str:
        """Sort by a column; the current one toggles its direction. Back to page 1."""
        descending = not self.descending if column == self.sort else True
        return self.url(sort=column, dir="desc" if descending else "asc", page=None)

    def aria_sort(self, column: str) -> str:
        if column != self.sort:
            return "none"
        return "descending" if self.descending else "ascending"


def _rows(db: Any, alerts: list[dict]) -> list[dict]:
    """The alerts as the queue and the export show them: host and tool names, teams, summary."""
    names = hostnames(db, {device for alert in alerts for device in alert["device_ids"]})
    files = config_paths(db, [alert["id"] for alert in alerts if alert["finding_id"] == "copied_secrets"])
    teams = TeamIndex(db)
    for alert in alerts:
        alert["hosts"] = [names.get(device, device[:8]) for device in alert["device_ids"]]
        alert["devices"] = list(zip(alert["device_ids"], alert["hosts"], strict=True))  # each links to its alerts
        alert["tool"] = tool_name(alert["tool_id"], alert["domain"])
        alert["teams"] = teams.teams([alert["user"], *alert["users"]], alert["device_ids"])
        alert["summary"] = summary_line(alert, alert["tool"], alert["hosts"], files.get(alert["id"], ()))
    return alerts


async def alerts_page_handler(request: web.Request) -> web.Response:
    principal = await require_page(request, "viewer")
    queue = Queue(request.query, principal.name)

    def load(db):
        teams, users = TeamIndex(db).all_teams(), accounts.usernames(db)
        device = queue.filters.device
        device_name = hostnames(db, {device}).get(device) if device else None
        if device and device_name is None:
            queue.errors["device"] = "device: no enrolled device has this id"
        if queue.errors:  # a bad filter never widens the list: nothing is listed until it is fixed
            return [], 0, {}, teams, users, device_name
        alerts, total = page_of_alerts(db, queue.filters, queue.sort, queue.descending,
                                       (queue.page - 1) * PAGE_SIZE, PAGE_SIZE)
        return _rows(db, alerts), total, severity_counts(db, queue.filters), teams, users, device_name

    alerts, total, counts, all_teams, usernames, device_name = await request.app[STORE].read(load)
    pages = max(1, -(-total // PAGE_SIZE))
    empty = not total and not queue.raw and not queue.errors  # nothing active, nothing asked for
    steps = await next_steps.still_to_do(request, ALERT_STEPS) if empty else []
    return render(request, "alerts.html", principal, http_status=400 if queue.errors else 200, alerts=alerts,
                  total=total, pages=pages, first=(queue.page - 1) * PAGE_SIZE + 1, queue=queue,
                  counts={severity: counts.get(severity, 0) for severity in SEVERITIES}, findings=FINDINGS,
                  severities=SEVERITIES, teams=all_teams, accounts=usernames, unassigned=UNASSIGNED,
                  statuses=("active", ANY_STATUS, *STATUSES), sorts=SORTS, bulk_actions=BULK_ACTIONS, device_name=device_name,
                  export_url="/alerts.csv" + queue.url().removeprefix("/alerts"), export_limit=EXPORT_LIMIT,
                  steps=steps)


def _csv_cell(value: object) -> str:
    text = ", ".join(map(str, value)) if isinstance(value, list) else \
        "; ".join(f"{k}: {n}" for k, n in value.items()) if isinstance(value, dict) else "" if value is None else str(value)
    # a cell a spreadsheet would run as a formula is quoted as text
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


async def alerts_export_handler(request: web.Request) -> web.Response:
    principal = await require_page(request, "viewer")
    queue = Queue(request.query, principal.name)
    if queue.errors:
        raise web.HTTPBadRequest(text="; ".join(queue.errors.values()))

    def load(db):
        alerts, total = page_of_alerts(db, queue.filters, queue.sort, queue.descending, 0, EXPORT_LIMIT)
        return _rows(db, alerts), total

    alerts, total = await request.app[STORE].read(load)
    # an export of data about people is itself a recorded read
    await record.record_read(request.app, principal.name, "export:alerts",
                             {"rows": len(alerts), "matching": total, **queue.raw})
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for alert in alerts:
        writer.writerow([_csv_cell(alert[column]) for column in CSV_COLUMNS])
    headers = {"Content-Disposition": 'attachment; filename="alerts.csv"',
               # the first EXPORT_LIMIT in the queue's order: the page says so beside the link, this says so here
               "X-Shadowmap-Rows": f"{len(alerts)} of {total}"}
    return web.Response(text=out.getvalue(), content_type="text/csv", charset="utf-8", headers=headers)


def _back(form_value: str) -> str:
    """The queue to return to after a bulk action: only /alerts with its own parameters."""
    params = [(name, value) for name, value in parse_qsl(form_value.lstrip("?"))
              if name in QUEUE_PARAMS][:len(QUEUE_PARAMS)]
    return urlencode(params)


async def alerts_bulk_handler(request: web.Request) -> web.Response:
    principal, form = await require_form(request, "analyst")
    action, note, assignee = form_text(form, "action"), form_text(form, "note").strip(), form_text(form, "assignee")
    if action not in BULK_ACTIONS:
        raise refusal(400, f"action must be one of {', '.join(BULK_ACTIONS)}")
    raw_ids = [value for value in form.getall("alert_id", []) if isinstance(value, str)]
    if not raw_ids:
        raise refusal(400, "choose at least one alert")
    if len(raw_ids) > BULK_LIMIT or not all(v.isascii() and v.isdigit() and len(v) <= 12 for v in raw_ids):
        raise refusal(400, f"alert ids must be numbers, at most {BULK_LIMIT} at once")
    ids = sorted({int(v) for v in raw_ids})

    def apply_all(db) -> list[str]:
        refused = []
        for alert_id in ids:
            try:
                triage.apply(db, alert_id, action, principal.name, note, assignee.strip() or None)
            except triage.TriageError as exc:
                if exc.status == 400:  # the same for every alert (a missing reason): say it once
                    raise
                refused.append(f"#{alert_id}: {exc}")
        return refused

    try:
        refused = await request.app[STORE].write(apply_all)
    except triage.TriageError as exc:
        raise refusal(exc.status, str(exc)) from None
    done = len(ids) - len(refused)
    message = f"{action.capitalize()}: {done} of {len(ids)} alerts" + (f" ({'; '.join(refused)})" if refused else "")
    back = _back(form_text(form, "back"))
    raise web.HTTPSeeOther("/alerts?" + (back + "&" if back else "") + flash.query(request, message))


async def false_positives_handler(request: web.Request) -> web.Response:
    principal = await require_page(request, "viewer")
    rates, rules = await request.app[STORE].read(lambda db: (triage.false_positive_rates(db), suppressions.rules(db)))
    return render(request, "false_positives.html", principal, rates=rates, rules=rules)


async def suppression_remove_handler(request: web.Request) -> web.Response:
    principal, _ = await require_form(request, "analyst")
    raw = request.match_info["rule_id"]
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 12):
        raise refusal(404, "no such suppression rule")
    try:
        await request.app[STORE].write(lambda db: suppressions.remove(db, int(raw), principal.name))
    except triage.TriageError as exc:
        raise refusal(exc.status, str(exc)) from None
    raise flash.redirect(request, "/false-positives", "Suppression rule removed", "suppressions")


async def inventory_handler(request: web.Request) -> web.Response:
    principal = await require_page(request, "viewer")
    raw_days = request.query.get("days", "30")
    if not (raw_days.isascii() and raw_days.isdigit() and len(raw_days) <= 5) or not 1 <= int(raw_days) <= MAX_DAYS:
        raise web.HTTPBadRequest(text=f"days must be 1..{MAX_DAYS}")
    since = (datetime.now(UTC) - timedelta(days=int(raw_days))).strftime("%Y-%m-%dT%H:%M:%S")
    tools = await request.app[STORE].read(lambda db: tool_inventory(db, since))
    steps = [] if tools else await next_steps.still_to_do(request, ("device", "extension"))
    return render(request, "inventory.html", principal, tools=tools, days=int(raw_days), steps=steps,
                  longer=LONGER_DAYS if int(raw_days) < LONGER_DAYS else None)


ROUTES = [
    web.get("/alerts", alerts_page_handler),
    web.get("/alerts.csv", alerts_export_handler),
    web.post("/alerts/bulk", alerts_bulk_handler),
    *alert_page.ROUTES,
    web.get("/false-positives", false_positives_handler),
    web.post("/suppressions/{rule_id}/remove", suppression_remove_handler),
    web.get("/inventory", inventory_handler),
    *report_views.ROUTES,  # the weekly report, opened from the console's nav
]
