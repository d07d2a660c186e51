"""The server-rendered dashboard: `/` and `/alerts` (login required)."""
from __future__ import annotations

from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import web

from collector.alerts import list_alerts
from collector.auth import current_session
from collector.state import STORE

STATIC_DIR = Path(__file__).parent / "static"
TEMPLATE_DIR = Path(__file__).parent / "templates"
SEVERITY_ORDER = ("critical", "high", "medium", "low")


def setup_templates(app: web.Application) -> None:
    # autoescape on for every template: event fields come from laptops and are untrusted.
    aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )


async def index_handler(request: web.Request) -> web.Response:
    raise web.HTTPFound("/alerts")


async def alerts_page_handler(request: web.Request) -> web.Response:
    session = await current_session(request)
    if session is None:
        raise web.HTTPFound("/login")
    alerts = await request.app[STORE].read(list_alerts)
    counts = {severity: sum(1 for a in alerts if a["severity"] == severity) for severity in SEVERITY_ORDER}
    return aiohttp_jinja2.render_template(
        "alerts.html",
        request,
        {"alerts": alerts, "counts": counts, "username": session.username, "csrf_token": session.csrf_token},
    )


async def stylesheet_handler(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC_DIR / "style.css", headers={"Cache-Control": "max-age=3600"})
