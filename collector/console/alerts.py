"""The triage console: alert list with filters, alert detail (evidence, keyed-hash
correlation, log), triage actions, false-positive rates, the tool inventory, and (from
report_views) the weekly report."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from aiohttp import web

from shadowmap.collector import record
from shadowmap.collector.alerts import hash_sightings, triage
from shadowmap.collector.alerts.filters import FilterError, parse_filters
from shadowmap.collector.alerts.findings import FINDINGS, SEVERITIES
from shadowmap.collector.alerts.raising import STATUSES
from shadowmap.collector.console import reports as report_views
from shadowmap.collector.console.auth import require_form, require_page
from shadowmap.collector.console.inventory import MAX_DAYS, tool_inventory
from shadowmap.collector.console.pages import refusal, render
from shadowmap.collector.state import STORE
from shadowmap.collector.store.sqlite import accounts, scm
from shadowmap.collector.store.sqlite.alert_reads import AlertFilter, alert_evidence, get_alert, list_alerts
from shadowmap.collector.store.sqlite.teams import TeamIndex

PAGE_LIMIT = 500


def _alert_id(request: web.Request) -> int:
    raw = request.match_info["alert_id"]
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 12:
        raise web.HTTPNotFound(text="no such alert")
    return int(raw)


async def alerts_page_handler(request: web.Request) -> web.Response:
    principal = await require_page(request, "viewer")
    error = ""
    try:
        filters = parse_filters(request.query)
    except FilterError as exc:
        error, filters = str(exc), AlertFilter()

    def load(db):
        alerts = list_alerts(db, PAGE_LIMIT, filters)
        teams = TeamIndex(db)
        for alert in alerts:
            alert["teams"] = teams.teams([alert["user"], *alert["users"]], alert["device_ids"])
        return alerts, teams.all_teams(), accounts.usernames(db)

    alerts, all_teams, usernames = await request.app[STORE].read(load)
    counts = {severity: sum(1 for a in alerts if a["severity"] == severity) for severity in SEVERITIES}
    return render(request, "alerts.html", principal, http_status=400 if error else 200, alerts=alerts,
                  counts=counts, filters=filters, findings=FINDINGS, severities=SEVERITIES, teams=all_teams,
                  accounts=usernames, statuses=("active", *STATUSES), error=error)


async def alert_detail_handler(request: web.Request) -> web.Response:
    principal = await require_page(request, "viewer")
    alert_id = _alert_id(request)

    def load(db):
        alert = get_alert(db, alert_id)
        if alert is None:
            return None
        events = alert_evidence(db, alert_id)
        teams = TeamIndex(db).teams([alert["user"], *alert["users"]], alert["device_ids"])
        return (alert, events, hash_sightings.correlation(db, events), triage.alert_log(db, alert_id), teams,
                accounts.usernames(db), scm.changes_of_alert(db, alert_id))

    loaded = await request.app[STORE].read(load)
    if loaded is None:
        raise web.HTTPNotFound(text="no such alert")
    # Reading an alert's evidence is itself recorded (and may alert, through the read webhook).
    await record.record_read(request.app, principal.name, f"alert:{alert_id}", {"page": "detail"})
    alert, events, correlation, log, teams, usernames, changes = loaded
    return render(request, "alert_detail.html", principal, alert=alert, events=events, correlation=correlation,
                  log=log, teams=teams, accounts=usernames, changes=changes,
                  available_actions=[action for action, (starts, _) in triage.TRANSITIONS.items()
                                     if alert["status"] in starts])


async def alert_triage_handler(request: web.Request) -> web.Response:
    principal, form = await require_form(request, "analyst")
    alert_id = _alert_id(request)
    action, note, assignee = (form.get("action"), form.get("note", ""), form.get("assignee", ""))
    if not (isinstance(action, str) and isinstance(note, str) and isinstance(assignee, str)):
        raise web.HTTPBadRequest(text="action, note and assignee must be text fields")
    try:
        await request.app[STORE].write(
            lambda db: triage.apply(db, alert_id, action, principal.name, note.strip(), assignee.strip() or None))
    except triage.TriageError as exc:
        raise refusal(exc.status, str(exc)) from None
    if principal.via == "token":
        return web.json_response({"ok": True, "alert_id": alert_id, "action": action})
    raise web.HTTPSeeOther(f"/alerts/{alert_id}")


async def false_positives_handler(request: web.Request) -> web.Response:
    principal = await require_page(request, "viewer")
    rates = await request.app[STORE].read(triage.false_positive_rates)
    return render(request, "false_positives.html", principal, rates=rates)


async def inventory_handler(request: web.Request) -> web.Response:
    principal = await require_page(request, "viewer")
    raw_days = request.query.get("days", "30")
    if not (raw_days.isascii() and raw_days.isdigit() and len(raw_days) <= 5) or not 1 <= int(raw_days) <= MAX_DAYS:
        raise web.HTTPBadRequest(text=f"days must be 1..{MAX_DAYS}")
    since = (datetime.now(UTC) - timedelta(days=int(raw_days))).strftime("%Y-%m-%dT%H:%M:%S")
    tools = await request.app[STORE].read(lambda db: tool_inventory(db, since))
    return render(request, "inventory.html", principal, tools=tools, days=int(raw_days))


ROUTES = [
    web.get("/alerts", alerts_page_handler),
    web.get("/alerts/{alert_id}", alert_detail_handler),
    web.post("/alerts/{alert_id}/triage", alert_triage_handler),
    web.get("/false-positives", false_positives_handler),
    web.get("/inventory", inventory_handler),
    *report_views.ROUTES,  # the weekly report, opened from the console's nav
]
