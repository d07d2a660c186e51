"""Administration (admin role): accounts with roles, API tokens, the teams CSV, and the
shared secrets of the GitHub / GitLab webhooks."""
from __future__ import annotations

import asyncio
import re

from aiohttp import web

from shadowmap.collector.console import devices as device_views
from shadowmap.collector.console import teams
from shadowmap.collector.console.auth import MAX_PASSWORD, form_text, require_form, require_page
from shadowmap.collector.console.pages import render
from shadowmap.collector.principals import ROLES, hash_password
from shadowmap.collector.state import STORE
from shadowmap.collector.store.sqlite import accounts, org
from shadowmap.collector.store.sqlite import teams as stored_teams
from shadowmap.collector.store.sqlite.org import SCM_SECRETS
from shadowmap.collector.timestamps import utc_now

USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$")
MIN_PASSWORD = 12


def _overview(db) -> dict:
    return {
        "accounts": accounts.list_accounts(db),
        "tokens": accounts.list_api_tokens(db),
        "team_rows": stored_teams.mapping_rows(db)[:1000],
        "scm": {provider: org.scm_secret(db, provider) for provider in SCM_SECRETS},
    }


async def admin_page_handler(request: web.Request) -> web.Response:
    principal = await require_page(request, "admin")
    overview = await request.app[STORE].read(_overview)
    return render(request, "admin.html", principal, roles=ROLES, new_token=None, **overview)


async def create_account_handler(request: web.Request) -> web.StreamResponse:
    principal, form = await require_form(request, "admin")
    username, password, role = form_text(form, "username").strip(), form_text(form, "password"), form_text(form, "role")
    if not USERNAME.match(username):
        raise web.HTTPBadRequest(text="username: letters, digits and . _ @ - (at most 128)")
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise web.HTTPBadRequest(text=f"password must be {MIN_PASSWORD}..{MAX_PASSWORD} characters")
    if role not in ROLES:
        raise web.HTTPBadRequest(text="role must be one of " + ", ".join(ROLES))
    password_hash = await asyncio.get_running_loop().run_in_executor(None, hash_password, password)
    created = await request.app[STORE].write(accounts.create_account, username, password_hash, role)
    if not created:
        raise web.HTTPConflict(text="that account exists already")
    raise web.HTTPSeeOther(f"/admin?msg=account+{username}+created")


async def set_role_handler(request: web.Request) -> web.StreamResponse:
    principal, form = await require_form(request, "admin")
    username, role = form_text(form, "username"), form_text(form, "role")
    if role not in ROLES:
        raise web.HTTPBadRequest(text="role must be one of " + ", ".join(ROLES))
    if username == principal.name and role != "admin":
        raise web.HTTPConflict(text="you cannot take the admin role from yourself")
    if not await request.app[STORE].write(accounts.set_account_role, username, role):
        raise web.HTTPNotFound(text="no such account")
    raise web.HTTPSeeOther("/admin?msg=role+changed")


async def create_token_handler(request: web.Request) -> web.Response:
    principal, form = await require_form(request, "admin")
    name, role = form_text(form, "name").strip(), form_text(form, "role")
    if not 0 < len(name) <= 100 or role not in ROLES:
        raise web.HTTPBadRequest(text="a token needs a name (at most 100) and a role")
    token = await request.app[STORE].write(accounts.create_api_token, name, role, principal.name)
    overview = await request.app[STORE].read(_overview)
    # Shown once, on this response only; only its hash is stored.
    return render(request, "admin.html", principal, roles=ROLES, new_token=token, **overview)


async def import_teams_handler(request: web.Request) -> web.StreamResponse:
    principal, form = await require_form(request, "admin")
    upload = form.get("file")
    raw = upload.file.read(teams.MAX_CSV_BYTES + 1) if isinstance(upload, web.FileField) else form_text(form, "csv").encode()
    try:
        rows = teams.parse_csv(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise web.HTTPBadRequest(text="the file is not UTF-8 text") from None
    except teams.TeamsError as exc:
        raise web.HTTPBadRequest(text=str(exc)) from None
    count = await request.app[STORE].write(stored_teams.replace_mapping, rows)
    if request.headers.get("Authorization"):
        return web.json_response({"ok": True, "imported": count})
    raise web.HTTPSeeOther(f"/admin?msg=imported+{count}+team+mappings")


async def scm_secret_handler(request: web.Request) -> web.StreamResponse:
    principal, form = await require_form(request, "admin")
    provider = form_text(form, "provider")
    if provider not in SCM_SECRETS:
        raise web.HTTPBadRequest(text="provider must be github or gitlab")
    await request.app[STORE].write(org.set_scm_secret, provider)
    raise web.HTTPSeeOther(f"/admin?msg={provider}+webhook+secret+generated+{utc_now()[:10]}")


ROUTES = [
    web.get("/admin", admin_page_handler),
    web.post("/admin/accounts", create_account_handler),
    web.post("/admin/accounts/role", set_role_handler),
    web.post("/admin/tokens", create_token_handler),
    web.post("/admin/teams/import", import_teams_handler),
    web.post("/admin/scm-secret", scm_secret_handler),
    *device_views.ROUTES,
]
