"""Exception requests in the console: a user warned about personal data (or another class) on
an AI tool asked, from the extension's warn dialog, to be allowed (exception.requested: the
tool, the data classes, the user's redacted reason; never the pasted text). An analyst
approves it for a number of hours or denies it (`POST /exceptions/decide`, session + CSRF,
or an analyst API token); the decision is appended to the record in the same transaction,
and an approved one reaches the user's device in the policy it pulls (collector/api/policy.py
served_policy), so that user's next paste of that class on that tool passes until it expires.
Each read of the page is recorded: the requests name people and why they want what."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlite_utils
from aiohttp import web

from shadowmap.collector import record
from shadowmap.collector.console import flash, next_steps
from shadowmap.collector.console.auth import form_text, require_form, require_page
from shadowmap.collector.console.pages import refusal, render
from shadowmap.collector.errors import ApiError
from shadowmap.collector.state import STORE
from shadowmap.collector.store.sqlite import exception_requests as store
from shadowmap.collector.timestamps import utc_now
from shadowmap.contract import enums

DECISIONS = enums.values("exception_decision")      # approved, denied
PENDING = store.STATUSES[0]                           # the page's default: what waits for a decision
DEFAULT_HOURS = 24
MAX_HOURS = 24 * 30                                   # an exception is time-limited: a month at most
MAX_NOTE = 500
MAX_REQUEST_ID = 64


async def exceptions_page_handler(request: web.Request) -> web.Response:
    principal = await require_page(request, "viewer")
    status = request.query.get("status", PENDING)
    if status not in store.STATUSES:
        raise refusal(400, f"status must be one of {', '.join(store.STATUSES)}")
    rows = await request.app[STORE].read(store.requests, status)
    await record.record_read(request.app, principal.name, "exception-requests",
                             {"status": status, "shown": len(rows)})
    steps = [] if rows or status != PENDING else await next_steps.still_to_do(request, ("device", "extension"))
    return render(request, "exceptions.html", principal, requests=rows, status=status, statuses=store.STATUSES,
                  default_hours=DEFAULT_HOURS, max_hours=MAX_HOURS, limit=store.MAX_ROWS, steps=steps,
                  pending=PENDING)


def _hours(text: str) -> int:
    if not (text.isascii() and text.isdigit() and len(text) <= 4) or not 1 <= int(text) <= MAX_HOURS:
        raise ValueError(f"hours must be a whole number from 1 to {MAX_HOURS}")
    return int(text)


def decide_and_record(db: sqlite_utils.Database, request_id: str, decision: str, actor: str, hours: int,
                      note: str) -> dict:
    """Writer fn: the decision and its record entry, in one transaction."""
    now = datetime.now(UTC)
    expires_at = None
    if decision == "approved":
        expires_at = (now + timedelta(hours=hours)).isoformat(timespec="microseconds").replace("+00:00", "Z")
    decided = store.decide(db, request_id, decision, actor, utc_now(), expires_at, note)
    record.append(db, "admin", f"exception:{request_id}", actor, {
        "decision": decision, "expires_at": expires_at, "note": note, "user": decided["user"],
        "device_id": decided["device_id"], "tool_id": decided["tool_id"], "data_classes": decided["data_classes"]})
    return decided


async def exception_decide_handler(request: web.Request) -> web.StreamResponse:
    principal, form = await require_form(request, "analyst")
    api = principal.via != "session"
    request_id, decision = form_text(form, "request_id").strip(), form_text(form, "decision")
    note = form_text(form, "note").strip()[:MAX_NOTE]
    try:
        if not request_id or len(request_id) > MAX_REQUEST_ID:
            raise ValueError("request_id is missing or too long")
        if decision not in DECISIONS:
            raise ValueError(f"decision must be one of {', '.join(DECISIONS)}")
        hours = _hours(form_text(form, "hours").strip() or str(DEFAULT_HOURS))
    except ValueError as exc:
        if api:
            raise ApiError(400, "invalid_decision", str(exc)) from None
        raise refusal(400, str(exc)) from None
    try:
        decided = await request.app[STORE].write(decide_and_record, request_id, decision, principal.name, hours, note)
    except store.DecisionError as exc:
        if api:
            raise ApiError(exc.status, "not_decided", str(exc)) from None
        raise refusal(exc.status, str(exc)) from None
    if api:
        return web.json_response({"ok": True, "request_id": request_id, "decision": decision,
                                  "expires_at": decided["expires_at"]})
    until = f" until {decided['expires_at'][:16].replace('T', ' ')} UTC" if decided["expires_at"] else ""
    raise flash.redirect(request, "/exceptions",
                         f"{decided['user']} on {decided['tool_id']}: {decision}{until}")


ROUTES = [
    web.get("/exceptions", exceptions_page_handler),
    web.post("/exceptions/decide", exception_decide_handler),
]
