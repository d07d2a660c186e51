"""GET /extension/{browser}/{name}: the self-hosted extension packages and update manifests that
`shadowmap bridge publish` wrote, for browsers force-installing through enterprise policy.

Open on purpose: a browser's extension updater sends no credentials. What it serves is public
anyway (the signed package, its version and where to fetch it); the signing key never leaves
the machine that published. Only the published folder's own files are served, by exact name."""
from __future__ import annotations

import re

from aiohttp import web

from shadowmap.collector.errors import ApiError
from shadowmap.collector.state import CONFIG

BROWSERS = ("chromium", "firefox")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
CONTENT_TYPES = {".crx": "application/x-chrome-extension", ".xml": "application/xml",
                 ".xpi": "application/x-xpinstall", ".json": "application/json"}


async def extension_file_handler(request: web.Request) -> web.StreamResponse:
    browser, name = request.match_info["browser"], request.match_info["name"]
    suffix = name[name.rfind("."):] if "." in name else ""
    if browser not in BROWSERS or not _NAME.match(name) or suffix not in CONTENT_TYPES:
        raise ApiError(404, "not_found", "no such extension file")
    path = request.app[CONFIG].extension_path / browser / name
    if not path.is_file():
        raise ApiError(404, "not_found", "no such extension file (has `shadowmap bridge publish` run?)")
    # manifests change with each release; packages are named by version and never change
    cache = "no-cache" if suffix in (".xml", ".json") else "public, max-age=86400"
    return web.FileResponse(path, headers={"Content-Type": CONTENT_TYPES[suffix], "Cache-Control": cache})


async def extension_info_handler(request: web.Request) -> web.StreamResponse:
    path = request.app[CONFIG].extension_path / "info.json"
    if not path.is_file():
        raise ApiError(404, "not_found", "no extension published (run `shadowmap bridge publish`)")
    return web.FileResponse(path, headers={"Content-Type": "application/json", "Cache-Control": "no-cache"})


ROUTES = [
    web.get("/extension/info.json", extension_info_handler),
    web.get("/extension/{browser}/{name}", extension_file_handler),
]
