"""The server-rendered dashboard's plumbing: templates (autoescaped), `/`, the stylesheet.
The console pages themselves live in collector/console.py, register_views.py and admin.py."""
from __future__ import annotations

from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import web

STATIC_DIR = Path(__file__).parent / "static"
TEMPLATE_DIR = Path(__file__).parent / "templates"


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


async def stylesheet_handler(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC_DIR / "style.css", headers={"Cache-Control": "max-age=3600"})
