"""The alert page: a one-line summary, the evidence a responder needs (config paths,
workspaces, MCP servers, file names, justifications, the outcome of each paste), the same
values seen elsewhere linked to the other users and alerts, the finding's runbook, the
triage log; and the triage actions, where resolving or marking a false positive needs a
reason and a false positive can become a suppression rule. Long lists are capped, with a
"show all" link."""
from __future__ import annotations

from aiohttp import web

from shadowmap.collector import record
from shadowmap.collector.alerts import hash_sightings, suppressions, triage
from shadowmap.collector.alerts.filters import tool_name
from shadowmap.collector.alerts.runbooks import runbook
from shadowmap.collector.alerts.summary import event_outcomes, evidence_facts, summary_line
from shadowmap.collector.console.auth import form_text, require_form, require_page
from shadowmap.collector.console.pages import refusal, render
from shadowmap.collector.state import STORE
from shadowmap.collector.store.sqlite import accounts, devices, scm
from shadowmap.collector.store.sqlite.alert_reads import (
    alert_evidence,
    config_paths,
    decisions_on,
    get_alert,
    hostnames,
    sharing_values,
)
from shadowmap.collector.store.sqlite.teams import TeamIndex

SHOWN = 10          # correlated values, events, users and devices shown before "show all"
EVIDENCE_READ = 200  # linked events read for the page (newest first)
ALL_EVIDENCE = 1000  # ... with "show all"


def _alert_id(request: web.Request) -> int:
    raw = request.match_info["alert_id"]
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 12:
        raise web.HTTPNotFound(text="no such alert")
    return int(raw)


async def alert_detail_handler(request: web.Request) -> web.Response:
    principal = await require_page(request, "viewer")
    alert_id = _alert_id(request)
    show_all = request.query.get("all", "") == "1"

    def load(db):
        alert = get_alert(db, alert_id)
        if alert is None:
            return None
        events = alert_evidence(db, alert_id, ALL_EVIDENCE if show_all else EVIDENCE_READ)
        # a vendor's alert shares its pastes with the leak alerts, where the decisions on them are linked
        known = {e["id"] for e in events}
        warned = [e["id"] for e in events if e["type"] == "paste.scanned" and e["data"].get("action") == "warn"]
        decisions = [d for d in decisions_on(db, warned) if d["id"] not in known]
        names = hostnames(db, set(alert["device_ids"]) | {e["device_id"] for e in events})
        correlation = hash_sightings.correlation(db, events)
        shown = correlation if show_all else correlation[:SHOWN]
        sharing = sharing_values(db, [c["hash"] for c in shown if c["users"] > 1 or c["devices"] > 1], alert_id)
        teams = TeamIndex(db).teams([alert["user"], *alert["users"]], alert["device_ids"])
        alert["asserted_by"] = devices.asserting(db, alert["device_ids"])   # which devices, which modes
        return (alert, events, decisions, names, correlation, sharing, triage.alert_log(db, alert_id), teams,
                accounts.usernames(db), scm.changes_of_alert(db, alert_id), suppressions.of_alert(db, alert),
                config_paths(db, [alert_id]).get(alert_id, []))

    loaded = await request.app[STORE].read(load)
    if loaded is None:
        raise web.HTTPNotFound(text="no such alert")
    # Reading an alert's evidence is itself recorded (and may alert, through the read webhook).
    await record.record_read(request.app, principal.name, f"alert:{alert_id}", {"page": "detail"})
    alert, events, decisions, names, correlation, sharing, log, teams, usernames, changes, suppression, files = loaded
    joined = [*events, *decisions]  # each paste with the decision on it
    alert["tool"] = tool_name(alert["tool_id"], alert["domain"])
    alert["hosts"] = [names.get(device, device) for device in alert["device_ids"]]
    return render(
        request, "alert_detail.html", principal, alert=alert, summary=summary_line(alert, alert["tool"], alert["hosts"], files),
        events=events, hostnames=names, outcomes=event_outcomes(joined), evidence=evidence_facts(joined),
        correlation=correlation, sharing=sharing, log=log, teams=teams, accounts=usernames, changes=changes,
        runbook=runbook(alert["finding_id"]), show_all=show_all, shown=SHOWN, suppression=suppression,
        reason_required=triage.REASON_REQUIRED,
        available_actions=[action for action, (starts, _) in triage.TRANSITIONS.items() if alert["status"] in starts])


async def alert_triage_handler(request: web.Request) -> web.Response:
    principal, form = await require_form(request, "analyst")
    alert_id = _alert_id(request)
    action, note, assignee = form_text(form, "action"), form_text(form, "note"), form_text(form, "assignee")
    suppress = form_text(form, "suppress") == "1"
    if suppress and action != "false_positive":
        raise refusal(400, "only a false positive can become a suppression rule")

    def apply(db) -> dict:
        entry = triage.apply(db, alert_id, action, principal.name, note.strip(), assignee.strip() or None)
        if suppress:
            suppressions.suppress_like(db, alert_id, principal.name, note.strip())
        return entry

    try:
        await request.app[STORE].write(apply)
    except triage.TriageError as exc:
        raise refusal(exc.status, str(exc)) from None
    if principal.via == "token":
        return web.json_response({"ok": True, "alert_id": alert_id, "action": action})
    raise web.HTTPSeeOther(f"/alerts/{alert_id}")


ROUTES = [
    web.get("/alerts/{alert_id}", alert_detail_handler),
    web.post("/alerts/{alert_id}/triage", alert_triage_handler),
]
