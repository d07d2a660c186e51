"""The console's plumbing: templates (autoescaped), rendering a page, `/`, the stylesheet.
The pages themselves are the other modules of shadowmap.collector.console."""
from __future__ import annotations

from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import web

from shadowmap.collector.console import flash
from shadowmap.collector.console.formatting import FILTERS
from shadowmap.collector.principals import Principal

STATIC_DIR = Path(__file__).parent.parent / "static"  # package data of shadowmap.collector
TEMPLATE_DIR = Path(__file__).parent.parent / "templates"


def setup_templates(app: web.Application) -> None:
    # autoescape on for every template: event fields come from laptops and are untrusted.
    env = aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters.update(FILTERS)  # times, lists and booleans written for people


async def index_handler(request: web.Request) -> web.Response:
    raise web.HTTPFound("/overview")  # the console's home


async def stylesheet_handler(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC_DIR / "style.css", headers={"Cache-Control": "max-age=3600"})


def render(request: web.Request, template: str, principal: Principal, http_status: int = 200,
           **context) -> web.Response:
    """A console page; every page gets who is signed in, their role, time zone and the CSRF token."""
    context.update(username=principal.name, role=principal.role, csrf_token=principal.csrf_token or "",
                   time_zone=principal.time_zone,
                   can_triage=principal.can("analyst"), is_admin=principal.can("admin"),
                   message=flash.message_of(request), current_path=request.path)
    return aiohttp_jinja2.render_template(template, request, context, status=http_status)


REFUSALS: dict[int, type[web.HTTPClientError]] = {
    400: web.HTTPBadRequest, 403: web.HTTPForbidden, 404: web.HTTPNotFound, 409: web.HTTPConflict}


def refusal(status: int, text: str) -> web.HTTPClientError:
    """The plain-text error page a console action answers with (raise it)."""
    return REFUSALS.get(status, web.HTTPBadRequest)(text=text)
