"""The weekly sub-processor report in the console: a page listing recent weeks, and the
report itself (HTML, CSV, JSON or PDF) built from the live database on request and signed
with the record's key. Every report read is recorded, as reads of alerts and of the record are."""
from __future__ import annotations

import asyncio
from datetime import date, timedelta

from aiohttp import web

from shadowmap.collector import record
from shadowmap.collector.console import flash, next_steps
from shadowmap.collector.console.auth import form_text, require_form, require_page
from shadowmap.collector.console.pages import refusal, render
from shadowmap.collector.record.service import RECORD_KEY
from shadowmap.collector.report import approval
from shadowmap.collector.report.attestation import sign
from shadowmap.collector.report.render import FORMATS, to_pdf
from shadowmap.collector.report.render import render as render_report
from shadowmap.collector.report.weekly import ReportError, build, week_bounds
from shadowmap.collector.state import STORE

WEEKS_LISTED = 8
# what a report needs before it is evidence: data from devices, and the register and teams it names vendors and people by
REPORT_STEPS = ("device", "extension", "teams", "register", "retention")
PDF = "pdf"
DOWNLOADS = (*FORMATS, PDF)
CONTENT_TYPES = {"html": "text/html", "csv": "text/csv", "json": "application/json", PDF: "application/pdf"}
# The report is a standalone printable document with its own stylesheet and inline SVG
# charts (style attributes); it runs no script and loads nothing.
REPORT_CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'none'; "
              "frame-ancestors 'none'; base-uri 'none'")


def recent_weeks(today: date | None = None, count: int = WEEKS_LISTED) -> list[str]:
    """ISO weeks, this one first."""
    today = today or date.today()
    weeks = []
    for back in range(count):
        year, week, _ = (today - timedelta(weeks=back)).isocalendar()
        weeks.append(f"{year}-W{week:02d}")
    return weeks


async def reports_page_handler(request: web.Request) -> web.Response:
    principal = await require_page(request, "viewer")
    weeks = [{"week": week, "from": week_bounds(week)[0].isoformat()} for week in recent_weeks()]
    steps = await next_steps.still_to_do(request, REPORT_STEPS)
    approver = await request.app[STORE].read(approval.approver)
    return render(request, "reports.html", principal, weeks=weeks, formats=DOWNLOADS, steps=steps,
                  no_devices=any(step["key"] == "device" for step in steps), approver=approver,
                  max_approver=approval.MAX_APPROVER)


async def approver_handler(request: web.Request) -> web.Response:
    """An admin names who approves the weekly report (or nobody: action=clear); recorded."""
    principal, form = await require_form(request, "admin")
    name = None if form_text(form, "action") == "clear" else form_text(form, "approver")
    try:
        stored = await request.app[STORE].write(lambda db: approval.set_approver(db, name, principal.name))
    except approval.ApproverError as exc:
        raise refusal(400, str(exc)) from None
    raise flash.redirect(request, "/reports", f"Report approver: {stored}" if stored else "Report approver cleared",
                         "approver")


async def weekly_report_handler(request: web.Request) -> web.Response:
    principal = await require_page(request, "viewer")
    week, fmt = request.query.get("week", "")[:20], request.query.get("format", "html")
    if fmt not in DOWNLOADS:
        raise web.HTTPBadRequest(text=f"format must be one of {', '.join(DOWNLOADS)}")
    try:
        week_bounds(week)
    except ReportError as exc:
        raise web.HTTPBadRequest(text=str(exc)) from None
    data = await request.app[STORE].read(lambda db: build(db, week))
    sign(data, request.app.get(RECORD_KEY))
    loop = asyncio.get_running_loop()
    if fmt == PDF:  # layout and charts take a moment: off the loop
        body: bytes = await loop.run_in_executor(None, to_pdf, data)
    else:
        body = (await loop.run_in_executor(None, render_report, data, fmt)).encode("utf-8")
    await record.record_read(request.app, principal.name, f"report:{week}", {"format": fmt})
    headers = {"Content-Security-Policy": REPORT_CSP}
    if fmt != "html":
        headers["Content-Disposition"] = f'attachment; filename="weekly-{week}.{fmt}"'
    return web.Response(body=body, content_type=CONTENT_TYPES[fmt],
                        charset=None if fmt == PDF else "utf-8", headers=headers)


ROUTES = [
    web.get("/reports", reports_page_handler),
    web.get("/reports/weekly", weekly_report_handler),
    web.post("/reports/approver", approver_handler),
]
