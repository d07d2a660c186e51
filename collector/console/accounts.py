"""Account and API token lifecycle: an admin disables, enables, deletes an account or resets
its password, and revokes tokens; every signed-in user changes their own password. Each
change ends the sessions it should and is an `admin` entry of the record, written in the
same transaction (the actor, what was done; never a password or a token)."""
from __future__ import annotations

import asyncio

import sqlite_utils
from aiohttp import web

from shadowmap.collector import record
from shadowmap.collector.console import flash
from shadowmap.collector.console.auth import MAX_PASSWORD, form_text, require_form, require_page
from shadowmap.collector.console.formatting import MAX_TIME_ZONE, exact, time_zones, valid_time_zone
from shadowmap.collector.console.pages import render
from shadowmap.collector.principals import SESSION_COOKIE, hash_password, sha256_hex, verify_password
from shadowmap.collector.state import STORE
from shadowmap.collector.store.sqlite import accounts

MIN_PASSWORD = 12


def record_admin(db: sqlite_utils.Database, actor: str, subject: str, detail: dict) -> int:
    """Writer fn: an admin action as a record entry (call it in the action's own transaction)."""
    return record.append(db, "admin", subject, actor, detail)


def check_new_password(password: str) -> None:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise web.HTTPBadRequest(text=f"password must be {MIN_PASSWORD}..{MAX_PASSWORD} characters")


async def _hash(password: str) -> str:
    return await asyncio.get_running_loop().run_in_executor(None, hash_password, password)


async def _account_action(request: web.Request, action: str) -> web.StreamResponse:
    principal, form = await require_form(request, "admin")
    username = form_text(form, "username")
    if username == principal.name and action in ("disable", "delete"):
        raise web.HTTPConflict(text=f"you cannot {action} your own account")
    password_hash = None
    if action == "reset_password":
        if await request.app[STORE].read(accounts.signs_in_through_sso, username):
            raise web.HTTPConflict(text=f"{username} signs in through single sign-on: its password is the provider's")
        password = form_text(form, "password")
        check_new_password(password)
        password_hash = await _hash(password)

    def write(db: sqlite_utils.Database) -> bool:
        if action == "delete":
            done = accounts.delete_account(db, username)
        elif action == "reset_password":
            done = accounts.set_password(db, username, password_hash or "")
        else:
            done = accounts.set_disabled(db, username, action == "disable")
        if done:
            record_admin(db, principal.name, f"account:{username}", {"action": action})
        return done

    if not await request.app[STORE].write(write):
        raise web.HTTPNotFound(text="no such account")
    raise flash.redirect(request, "/admin", f"account {username}: {action.replace('_', ' ')} done")


async def disable_account_handler(request: web.Request) -> web.StreamResponse:
    return await _account_action(request, "disable")


async def enable_account_handler(request: web.Request) -> web.StreamResponse:
    return await _account_action(request, "enable")


async def delete_account_handler(request: web.Request) -> web.StreamResponse:
    return await _account_action(request, "delete")


async def reset_password_handler(request: web.Request) -> web.StreamResponse:
    return await _account_action(request, "reset_password")


async def revoke_token_handler(request: web.Request) -> web.StreamResponse:
    principal, form = await require_form(request, "admin")
    public_id = form_text(form, "token_id")

    def write(db: sqlite_utils.Database) -> bool:
        revoked = accounts.revoke_api_token(db, public_id)
        if revoked:
            record_admin(db, principal.name, f"token:{public_id}", {"action": "revoke", "name": revoked["name"]})
        return revoked is not None

    if not await request.app[STORE].write(write):
        raise web.HTTPNotFound(text="no live token has that id")
    raise flash.redirect(request, "/admin", f"token {public_id} revoked")


def _account_page(request: web.Request, principal, http_status: int = 200, errors: dict[str, str] | None = None,
                  chosen: str | None = None) -> web.Response:
    return render(request, "account_password.html", principal, http_status=http_status, min_password=MIN_PASSWORD,
                  time_zones=time_zones(), chosen_zone=principal.time_zone if chosen is None else chosen,
                  errors=errors or {}, max_time_zone=MAX_TIME_ZONE,
                  zone_example=exact("2026-03-01T10:00:00Z", principal.time_zone))


async def own_password_page_handler(request: web.Request) -> web.Response:
    principal = await require_page(request)
    return _account_page(request, principal)


async def own_time_zone_handler(request: web.Request) -> web.StreamResponse:
    """Any signed-in account: the time zone the console writes its exact times in (an IANA
    name zoneinfo knows; UTC by default). A name it does not know is said in the page, kept in the field."""
    principal, form = await require_form(request, "viewer")
    if principal.via != "session":
        raise web.HTTPForbidden(text="a time zone is an account's: set it from a signed-in session")
    zone = form_text(form, "time_zone").strip()
    if not valid_time_zone(zone):
        shown = zone[:MAX_TIME_ZONE]
        return _account_page(request, principal, 400, chosen=shown, errors={
            "time_zone": f"{shown!r} is no IANA time zone name (like Europe/Berlin or America/New_York)"
                         if shown else "choose a time zone"})

    def write(db: sqlite_utils.Database) -> None:
        accounts.set_time_zone(db, principal.name, zone)
        record_admin(db, principal.name, f"account:{principal.name}", {"action": "set_time_zone", "time_zone": zone})

    await request.app[STORE].write(write)
    raise flash.redirect(request, "/account/password", f"times are now shown in {zone}", "time-zone")


async def own_password_handler(request: web.Request) -> web.StreamResponse:
    """Any signed-in account: the current password, then the new one. Other sessions end."""
    principal, form = await require_form(request, "viewer")
    if principal.via != "session":
        raise web.HTTPForbidden(text="a password is changed from a signed-in session")
    current, new = form_text(form, "current_password"), form_text(form, "new_password")
    check_new_password(new)
    stored = await request.app[STORE].read(accounts.password_hash_of, principal.name)
    loop = asyncio.get_running_loop()
    if stored is None or not await loop.run_in_executor(None, verify_password, stored, current[:MAX_PASSWORD]):
        raise web.HTTPForbidden(text="the current password is wrong")
    new_hash = await _hash(new)
    this_session = sha256_hex(request.cookies.get(SESSION_COOKIE, ""))

    def write(db: sqlite_utils.Database) -> None:
        accounts.set_password(db, principal.name, new_hash, keep_session=this_session)
        record_admin(db, principal.name, f"account:{principal.name}", {"action": "change_password"})

    await request.app[STORE].write(write)
    raise flash.redirect(request, "/account/password", "password changed; your other sessions ended")


ROUTES = [
    web.post("/admin/accounts/disable", disable_account_handler),
    web.post("/admin/accounts/enable", enable_account_handler),
    web.post("/admin/accounts/delete", delete_account_handler),
    web.post("/admin/accounts/password", reset_password_handler),
    web.post("/admin/tokens/revoke", revoke_token_handler),
    web.get("/account/password", own_password_page_handler),
    web.post("/account/password", own_password_handler),
    web.post("/account/time-zone", own_time_zone_handler),
]
