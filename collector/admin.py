"""Administration (admin role): accounts with roles, API tokens, the teams CSV, and the
shared secrets of the GitHub / GitLab webhooks."""
from __future__ import annotations

import asyncio
import re
import secrets

import sqlite_utils
from aiohttp import web

from shadowmap.collector import teams
from shadowmap.collector.auth import (
    MAX_PASSWORD,
    ROLES,
    create_account,
    create_api_token,
    hash_password,
    require_form,
    require_page,
)
from shadowmap.collector.console import render
from shadowmap.collector.http import utc_now
from shadowmap.collector.state import STORE

USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$")
MIN_PASSWORD = 12
SCM_SECRETS = {"github": "scm_github_secret", "gitlab": "scm_gitlab_token"}


def scm_secret(db: sqlite_utils.Database, provider: str) -> str | None:
    rows = list(db.query("SELECT value FROM org_settings WHERE name = ?", (SCM_SECRETS[provider],)))
    return rows[0]["value"] if rows else None


def set_scm_secret(db: sqlite_utils.Database, provider: str, value: str | None = None) -> str:
    """Writer fn: set (or generate) the webhook secret of a provider; returns it."""
    value = value or secrets.token_urlsafe(32)
    db.execute("INSERT INTO org_settings (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value",
               (SCM_SECRETS[provider], value))
    return value


def _overview(db: sqlite_utils.Database) -> dict:
    return {
        "accounts": list(db.query("SELECT username, role, created_at FROM accounts ORDER BY username")),
        "tokens": list(db.query("SELECT name, role, created_at, created_by FROM api_tokens ORDER BY created_at")),
        "team_rows": teams.mapping_rows(db)[:1000],
        "scm": {provider: scm_secret(db, provider) for provider in SCM_SECRETS},
    }


async def admin_page_handler(request: web.Request) -> web.Response:
    principal = await require_page(request, "admin")
    overview = await request.app[STORE].read(_overview)
    return render(request, "admin.html", principal, roles=ROLES, new_token=None, **overview)


def _field(form, name: str) -> str:
    value = form.get(name, "")
    if not isinstance(value, str):
        raise web.HTTPBadRequest(text=f"{name} must be a text field")
    return value


async def create_account_handler(request: web.Request) -> web.StreamResponse:
    principal, form = await require_form(request, "admin")
    username, password, role = _field(form, "username").strip(), _field(form, "password"), _field(form, "role")
    if not USERNAME.match(username):
        return web.Response(status=400, text="username: letters, digits and . _ @ - (at most 128)")
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        return web.Response(status=400, text=f"password must be {MIN_PASSWORD}..{MAX_PASSWORD} characters")
    if role not in ROLES:
        return web.Response(status=400, text="role must be one of " + ", ".join(ROLES))
    password_hash = await asyncio.get_running_loop().run_in_executor(None, hash_password, password)
    created = await request.app[STORE].write(lambda db: create_account(db, username, password_hash, role))
    if not created:
        return web.Response(status=409, text="that account exists already")
    raise web.HTTPSeeOther(f"/admin?msg=account+{username}+created")


async def set_role_handler(request: web.Request) -> web.StreamResponse:
    principal, form = await require_form(request, "admin")
    username, role = _field(form, "username"), _field(form, "role")
    if role not in ROLES:
        return web.Response(status=400, text="role must be one of " + ", ".join(ROLES))
    if username == principal.name and role != "admin":
        return web.Response(status=409, text="you cannot take the admin role from yourself")

    def save(db):
        return db.execute("UPDATE accounts SET role = ? WHERE username = ?", (role, username)).rowcount

    if not await request.app[STORE].write(save):
        raise web.HTTPNotFound(text="no such account")
    raise web.HTTPSeeOther("/admin?msg=role+changed")


async def create_token_handler(request: web.Request) -> web.Response:
    principal, form = await require_form(request, "admin")
    name, role = _field(form, "name").strip(), _field(form, "role")
    if not 0 < len(name) <= 100 or role not in ROLES:
        return web.Response(status=400, text="a token needs a name (at most 100) and a role")
    token = await request.app[STORE].write(lambda db: create_api_token(db, name, role, principal.name))
    overview = await request.app[STORE].read(_overview)
    # Shown once, on this response only; only its hash is stored.
    return render(request, "admin.html", principal, roles=ROLES, new_token=token, **overview)


async def import_teams_handler(request: web.Request) -> web.StreamResponse:
    principal, form = await require_form(request, "admin")
    upload = form.get("file")
    raw = upload.file.read(teams.MAX_CSV_BYTES + 1) if hasattr(upload, "file") else _field(form, "csv").encode()
    try:
        rows = teams.parse_csv(raw.decode("utf-8"))
    except UnicodeDecodeError:
        return web.Response(status=400, text="the file is not UTF-8 text")
    except teams.TeamsError as exc:
        return web.Response(status=400, text=str(exc))
    count = await request.app[STORE].write(lambda db: teams.replace_mapping(db, rows))
    if request.headers.get("Authorization"):
        return web.json_response({"ok": True, "imported": count})
    raise web.HTTPSeeOther(f"/admin?msg=imported+{count}+team+mappings")


async def scm_secret_handler(request: web.Request) -> web.StreamResponse:
    principal, form = await require_form(request, "admin")
    provider = _field(form, "provider")
    if provider not in SCM_SECRETS:
        return web.Response(status=400, text="provider must be github or gitlab")
    await request.app[STORE].write(lambda db: set_scm_secret(db, provider))
    raise web.HTTPSeeOther(f"/admin?msg={provider}+webhook+secret+generated+{utc_now()[:10]}")


ROUTES = [
    web.get("/admin", admin_page_handler),
    web.post("/admin/accounts", create_account_handler),
    web.post("/admin/accounts/role", set_role_handler),
    web.post("/admin/tokens", create_token_handler),
    web.post("/admin/teams/import", import_teams_handler),
    web.post("/admin/scm-secret", scm_secret_handler),
]
