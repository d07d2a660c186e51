"""Administration (admin role): accounts with roles, API tokens, the teams CSV, and the
shared secrets of the GitHub / GitLab webhooks. Every change is an `admin` entry of the
record (shadowmap.collector.console.accounts.record_admin), in the change's transaction."""
from __future__ import annotations

import asyncio
import re
import secrets

from aiohttp import web

from shadowmap.collector.console import accounts as account_views
from shadowmap.collector.console import devices as device_views
from shadowmap.collector.console import flash, teams
from shadowmap.collector.console.auth import MAX_PASSWORD, form_text, require_form, require_page
from shadowmap.collector.console.pages import render
from shadowmap.collector.principals import ROLES, hash_password
from shadowmap.collector.state import CONFIG, STORE
from shadowmap.collector.store.sqlite import accounts, deploys, org
from shadowmap.collector.store.sqlite import teams as stored_teams
from shadowmap.collector.store.sqlite.org import SCM_SECRETS
from shadowmap.collector.timestamps import utc_now

USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$")
MIN_PASSWORD = account_views.MIN_PASSWORD
DEFAULT_TOKEN_DAYS = 90
MAX_TOKEN_DAYS = 366
record_admin = account_views.record_admin
# the claimed-once store of webhook deliveries also keeps the token form's nonces
TOKEN_FORM = "console:token-form"


def _overview(db) -> dict:
    return {
        "accounts": accounts.list_accounts(db),
        "tokens": accounts.list_api_tokens(db),
        "team_rows": stored_teams.mapping_rows(db)[:1000],
        "scm": {provider: org.scm_secret(db, provider) for provider in SCM_SECRETS},
    }


def _page(request: web.Request, principal, overview: dict, new_token: str | None = None) -> web.Response:
    # origin: the webhook URLs to paste into GitHub / GitLab; form_nonce: the token form is sent once
    config = request.app[CONFIG]
    return render(request, "admin.html", principal, roles=ROLES, new_token=new_token,
                  origin=str(request.url.origin()), form_nonce=secrets.token_urlsafe(16),
                  enroll_secret_path=config.enroll_secret_path, extension_dir=config.extension_path,
                  extension_published=(config.extension_path / "info.json").is_file(), **overview)


async def admin_page_handler(request: web.Request) -> web.Response:
    principal = await require_page(request, "admin")
    overview = await request.app[STORE].read(_overview)
    return _page(request, principal, overview)


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

    def write(db) -> bool:
        created = accounts.create_account(db, username, password_hash, role)
        if created:
            record_admin(db, principal.name, f"account:{username}", {"action": "create", "role": role})
        return created

    created = await request.app[STORE].write(write)
    if not created:
        raise web.HTTPConflict(text="that account exists already")
    raise flash.redirect(request, "/admin", f"account {username} created")


async def set_role_handler(request: web.Request) -> web.StreamResponse:
    principal, form = await require_form(request, "admin")
    username, role = form_text(form, "username"), form_text(form, "role")
    if role not in ROLES:
        raise web.HTTPBadRequest(text="role must be one of " + ", ".join(ROLES))
    if username == principal.name and role != "admin":
        raise web.HTTPConflict(text="you cannot take the admin role from yourself")
    def write(db) -> bool:
        changed = accounts.set_account_role(db, username, role)
        if changed:
            record_admin(db, principal.name, f"account:{username}", {"action": "set_role", "role": role})
        return changed

    if not await request.app[STORE].write(write):
        raise web.HTTPNotFound(text="no such account")
    raise flash.redirect(request, "/admin", f"role of {username} changed to {role}")


async def create_token_handler(request: web.Request) -> web.Response:
    principal, form = await require_form(request, "admin")
    name, role = form_text(form, "name").strip(), form_text(form, "role")
    if not 0 < len(name) <= 100 or role not in ROLES:
        raise web.HTTPBadRequest(text="a token needs a name (at most 100) and a role")
    days = form_text(form, "days") or str(DEFAULT_TOKEN_DAYS)
    if not days.isdigit() or not 1 <= int(days) <= MAX_TOKEN_DAYS:
        raise web.HTTPBadRequest(text=f"a token lives 1..{MAX_TOKEN_DAYS} days")
    expires_at = accounts.token_expiry(int(days))

    nonce = form_text(form, "form_nonce")[:64]  # the console's form sends one; API clients need not

    def write(db) -> str | None:
        # a refreshed page posts the form again: its nonce was taken, no second token is made
        if nonce and not deploys.take_delivery(db, TOKEN_FORM, [nonce], utc_now()):
            return None
        token = accounts.create_api_token(db, name, role, principal.name, expires_at)
        record_admin(db, principal.name, f"token:{accounts.token_id(accounts.token_hash(token))}",
                     {"action": "create", "name": name, "role": role, "expires_at": expires_at})
        return token

    token = await request.app[STORE].write(write)
    if token is None:
        raise flash.redirect(request, "/admin", "that form was sent already: its token was shown once (create "
                             "another if it was lost)")
    overview = await request.app[STORE].read(_overview)
    # Shown once, on this response only; only its hash is stored.
    return _page(request, principal, overview, new_token=token)


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
    def write(db) -> int:
        count = stored_teams.replace_mapping(db, rows)
        record_admin(db, principal.name, "teams", {"action": "import", "rows": count})
        return count

    count = await request.app[STORE].write(write)
    if request.headers.get("Authorization"):
        return web.json_response({"ok": True, "imported": count})
    raise flash.redirect(request, "/admin", f"imported {count} team mappings")


async def scm_secret_handler(request: web.Request) -> web.StreamResponse:
    principal, form = await require_form(request, "admin")
    provider = form_text(form, "provider")
    if provider not in SCM_SECRETS:
        raise web.HTTPBadRequest(text="provider must be github or gitlab")
    if form_text(form, "confirm") != "yes":
        raise web.HTTPBadRequest(text="tick the box to confirm: the current secret stops working at once")

    def write(db) -> None:
        org.set_scm_secret(db, provider)
        record_admin(db, principal.name, f"scm:{provider}", {"action": "generate_secret"})

    await request.app[STORE].write(write)
    raise flash.redirect(request, "/admin", f"{provider} webhook secret generated {utc_now()[:10]}")


ROUTES = [
    web.get("/admin", admin_page_handler),
    web.post("/admin/accounts", create_account_handler),
    web.post("/admin/accounts/role", set_role_handler),
    web.post("/admin/tokens", create_token_handler),
    web.post("/admin/teams/import", import_teams_handler),
    *account_views.ROUTES,
    web.post("/admin/scm-secret", scm_secret_handler),
    *device_views.ROUTES,
]
