"""Devices (admin role): every enrolled agent with its mode and OS user, revoking one, and
the re-enrollment requests an admin approves or rejects (collector/api/enroll.py leaves
them when a known device enrolls without its node key). Each decision goes to the record;
the same writer fns serve `shadowmap collector devices`."""
from __future__ import annotations

import sqlite_utils
from aiohttp import web

from shadowmap.collector import record
from shadowmap.collector.console import flash
from shadowmap.collector.console.auth import form_text, require_form, require_page
from shadowmap.collector.console.pages import render
from shadowmap.collector.state import STORE
from shadowmap.collector.store.sqlite import devices

MAX_ID = 64


def revoke_device(db: sqlite_utils.Database, device_id: str, actor: str) -> bool:
    """Writer fn: revoke, and record who did it."""
    if not devices.revoke(db, device_id):
        return False
    record.append(db, "admin", f"device:{device_id}", actor, {"action": "revoke"})
    return True


def decide_request(db: sqlite_utils.Database, request_id: str, approve: bool, actor: str) -> bool:
    """Writer fn: approve or reject a pending re-enrollment, and record the decision."""
    if not devices.decide_request(db, request_id, approve, actor):
        return False
    record.append(db, "admin", f"enrollment_request:{request_id}", actor,
                  {"action": "approve" if approve else "reject"})
    return True


def _overview(db: sqlite_utils.Database) -> dict:
    return {"devices": devices.list_devices(db), "requests": devices.list_requests(db)}


async def devices_page_handler(request: web.Request) -> web.Response:
    principal = await require_page(request, "admin")
    overview = await request.app[STORE].read(_overview)
    return render(request, "devices.html", principal, **overview)


def _id(form, name: str) -> str:
    value = form_text(form, name).strip()
    if not value or len(value) > MAX_ID:
        raise web.HTTPBadRequest(text=f"{name} is required")
    return value


async def revoke_handler(request: web.Request) -> web.StreamResponse:
    principal, form = await require_form(request, "admin")
    device_id = _id(form, "device_id")
    if not await request.app[STORE].write(revoke_device, device_id, f"console:{principal.name}"):
        raise web.HTTPNotFound(text="no such device")
    raise flash.redirect(request, "/admin/devices", "device revoked")


async def decide_handler(request: web.Request) -> web.StreamResponse:
    principal, form = await require_form(request, "admin")
    request_id, decision = _id(form, "request_id"), form_text(form, "decision")
    if decision not in ("approve", "reject"):
        raise web.HTTPBadRequest(text="decision must be approve or reject")
    decided = await request.app[STORE].write(decide_request, request_id, decision == "approve",
                                             f"console:{principal.name}")
    if not decided:
        raise web.HTTPNotFound(text="no such pending request")
    raise flash.redirect(request, "/admin/devices", f"request {decision}d")


ROUTES = [
    web.get("/admin/devices", devices_page_handler),
    web.post("/admin/devices/revoke", revoke_handler),
    web.post("/admin/devices/requests", decide_handler),
]
