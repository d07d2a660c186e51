"""The organisation's detectors (its customer-ID and other identifier formats, its internal
domain suffixes) set by an admin, in the console or with an admin API token, and carried to
every agent by the policy it already pulls (collector/api/policy.py served_policy).

Routes: the page `GET /admin/org-detectors` and its form `POST /admin/org-detectors`
(session + CSRF, or an admin API token sending the same field); `GET` / `PUT
/api/v1/org-detectors` (JSON, admin; PUT takes an API token only, a browser session uses the
form). A document is YAML or JSON of schema/org_detectors.v1.json; it is checked against the
schema and every pattern is compiled and guarded against catastrophic backtracking
(detectors/pattern_guard.py) before it is stored. Every change is appended to the record as
an admin action, with the version's digest and what changed."""
from __future__ import annotations

import json
from typing import Any

import sqlite_utils
import yaml
from aiohttp import web

from shadowmap.collector import record
from shadowmap.collector.console import flash
from shadowmap.collector.console.auth import require_form, require_page
from shadowmap.collector.console.pages import render
from shadowmap.collector.errors import ApiError
from shadowmap.collector.principals import require_api
from shadowmap.collector.state import STORE
from shadowmap.collector.store.sqlite import org_detectors as stored
from shadowmap.detectors.org_config import OrgConfigError, parse_org_config

MAX_DOCUMENT_BYTES = 64 * 1024
EXAMPLE = """version: 1
internal_domains:
  - acme-corp.internal
identifiers:
  - entity_type: ORG_CUSTOMER_ID
    pattern: '\\bCUST-\\d{6}\\b'
    reason: Acme customer ID
    context: [customer, account]
"""


class OrgDetectorsInputError(ValueError):
    """The text is not a valid org detectors document; the message says why."""


def parse_document(text: str) -> dict[str, Any]:
    """The document in ``text`` (YAML, or JSON which is YAML too), validated."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_DOCUMENT_BYTES:
        raise OrgDetectorsInputError(f"the document exceeds {MAX_DOCUMENT_BYTES} bytes")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise OrgDetectorsInputError(f"not YAML or JSON: {exc}") from None
    return validated(data)


def validated(data: object) -> dict[str, Any]:
    """``data`` if it is a valid document whose patterns are all safe to run."""
    try:
        parse_org_config(data, "org detectors")
    except OrgConfigError as exc:
        raise OrgDetectorsInputError(str(exc).removeprefix("org detectors: ")) from None
    if not isinstance(data, dict):   # parse_org_config refuses anything else
        raise OrgDetectorsInputError("not an object")
    return data


def replace_org_detectors(db: sqlite_utils.Database, config: dict[str, Any], actor: str) -> int:
    """Writer fn: store the document as the next version and record the change in the same
    transaction; returns the version (agents receive it with their next policy pull)."""
    previous = stored.current(db)
    version = stored.save(db, config, actor)
    before = previous[1] if previous else {}
    types = sorted(i["entity_type"] for i in config.get("identifiers", []))
    before_types = sorted(i["entity_type"] for i in before.get("identifiers", []))
    record.append(db, "admin", "org_detectors", actor, {
        "version": version, "previous_version": previous[0] if previous else None,
        "sha256": stored.digest(config),
        "identifiers": types, "added": sorted(set(types) - set(before_types)),
        "removed": sorted(set(before_types) - set(types)),
        "internal_domains": sorted(config.get("internal_domains", [])),
    })
    return version


def _page_text(current: tuple[int, dict[str, Any]] | None) -> str:
    if current is None:
        return EXAMPLE
    return yaml.safe_dump(current[1], sort_keys=False, allow_unicode=True)


async def page_handler(request: web.Request) -> web.Response:
    principal = await require_page(request, "admin")
    current, history = await request.app[STORE].read(lambda db: (stored.current(db), stored.history(db)))
    return render(request, "org_detectors.html", principal, document=_page_text(current),
                  version=current[0] if current else None, history=history, error=None)


async def save_handler(request: web.Request) -> web.StreamResponse:
    principal, form = await require_form(request, "admin")
    text = form.get("org_detectors", "")
    api = principal.via != "session"
    if not isinstance(text, str):
        raise web.HTTPBadRequest(text="org_detectors must be a text field")
    try:
        config = parse_document(text)
    except OrgDetectorsInputError as exc:
        if api:
            raise ApiError(400, "invalid_org_detectors", str(exc)) from None
        current, history = await request.app[STORE].read(lambda db: (stored.current(db), stored.history(db)))
        return render(request, "org_detectors.html", principal, http_status=400, document=text,
                      version=current[0] if current else None, history=history, error=str(exc))
    version = await request.app[STORE].write(replace_org_detectors, config, principal.name)
    if api:
        return web.json_response({"ok": True, "version": version})
    raise flash.redirect(request, "/admin/org-detectors", f"org detectors saved (version {version}); "
                                                           "agents receive them with their next policy pull")


async def api_get_handler(request: web.Request) -> web.Response:
    await require_api(request, "admin")
    current = await request.app[STORE].read(stored.current)
    return web.json_response({"version": current[0] if current else None,
                              "org_detectors": current[1] if current else None})


async def api_put_handler(request: web.Request) -> web.Response:
    principal = await require_api(request, "admin")
    if principal.via == "session":   # a browser session changes them through the form (CSRF)
        raise ApiError(403, "forbidden", "use an API token, or the console's form")
    body = await request.read()
    if len(body) > MAX_DOCUMENT_BYTES:
        raise ApiError(413, "too_large", f"the document exceeds {MAX_DOCUMENT_BYTES} bytes")
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise ApiError(400, "invalid_org_detectors", f"not JSON: {exc}") from None
    try:
        config = validated(data)
    except OrgDetectorsInputError as exc:
        raise ApiError(400, "invalid_org_detectors", str(exc)) from None
    version = await request.app[STORE].write(replace_org_detectors, config, principal.name)
    return web.json_response({"ok": True, "version": version})


ROUTES = [
    web.get("/admin/org-detectors", page_handler),
    web.post("/admin/org-detectors", save_handler),
    web.get("/api/v1/org-detectors", api_get_handler),
    web.put("/api/v1/org-detectors", api_put_handler),
]
