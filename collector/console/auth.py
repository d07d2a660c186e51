"""Console sign-in: argon2id accounts, server-side sessions (only a hash of the cookie is
stored), CSRF tokens on the login and logout forms; the guards of console pages and forms.
Who is calling is worked out in shadowmap.collector.principals."""
from __future__ import annotations

import asyncio
import hmac
import secrets
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode, urlsplit

import aiohttp_jinja2
from aiohttp import web
from multidict import MultiDictProxy

from shadowmap.collector.console import login_throttle
from shadowmap.collector.http import bearer_token, client_address
from shadowmap.collector.principals import (
    DUMMY_HASH,
    MAX_TOKEN,
    SESSION_COOKIE,
    Principal,
    current_principal,
    current_session,
    sha256_hex,
    verify_password,
)
from shadowmap.collector.state import CONFIG, STORE
from shadowmap.collector.store.sqlite import accounts

LOGIN_CSRF_COOKIE = "shadowmap_login_csrf"
MAX_USERNAME = 128
MAX_PASSWORD = 1024


async def require_page(request: web.Request, role: str = "viewer") -> Principal:
    """For HTML pages: no credentials -> redirect to /login; too low a role -> 403."""
    principal = await current_principal(request)
    if principal is None:  # back to this page once signed in
        raise web.HTTPFound("/login?" + urlencode({"next": request.path_qs}) if request.method == "GET" else "/login")
    if not principal.can(role):
        raise web.HTTPForbidden(text=f"This page needs the {role} role.")
    return principal


def safe_next(value: object, default: str = "/alerts") -> str:
    """Where to go after signing in: a path of this console only (never another site, a
    scheme-relative //host, a backslash trick or the login page itself), else ``default``."""
    if not (isinstance(value, str) and 0 < len(value) <= 2000 and value.startswith("/")):
        return default
    if value.startswith(("//", "/\\")) or any(ord(c) < 0x21 or c == "\\" for c in value):
        return default
    if urlsplit(value).scheme or urlsplit(value).netloc or value.split("?")[0] in ("/login", "/logout"):
        return default
    return value


async def require_form(request: web.Request, role: str) -> tuple[Principal, MultiDictProxy]:
    """For state-changing POSTs: credentials, role, then the CSRF token of the session
    (API tokens need none). Returns the principal and the parsed form."""
    principal = await current_principal(request)
    if principal is None:
        if bearer_token(request) is not None:
            raise web.HTTPUnauthorized(text="invalid API token")
        raise web.HTTPFound("/login")
    if not principal.can(role):
        raise web.HTTPForbidden(text=f"This action needs the {role} role.")
    form = await _read_form(request)
    if principal.via == "session" and not _same_token(form.get("csrf_token"), principal.csrf_token):
        raise web.HTTPForbidden(text="CSRF token missing or wrong; reload the page.")
    return principal, form


def form_text(form: MultiDictProxy, name: str) -> str:
    """A text field of a posted form ("" when absent); a file in its place is refused."""
    value = form.get(name, "")
    if not isinstance(value, str):
        raise web.HTTPBadRequest(text=f"{name} must be a text field")
    return value


def _cookie_options(request: web.Request) -> dict:
    return {"httponly": True, "samesite": "Strict", "secure": request.secure, "path": "/"}


def _render_login(request: web.Request, error: str = "", status: int = 200, next_path: str = "") -> web.Response:
    csrf = secrets.token_urlsafe(32)
    response = aiohttp_jinja2.render_template(
        "login.html", request, {"csrf_token": csrf, "error": error, "next": safe_next(next_path, ""),
                                "oidc": request.app[CONFIG].oidc}, status=status
    )
    response.set_cookie(LOGIN_CSRF_COOKIE, csrf, **_cookie_options(request))
    return response


def _same_token(given: object, expected: str | None) -> bool:
    return (isinstance(given, str) and expected is not None and bool(expected) and len(given) <= MAX_TOKEN
            and hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8")))


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


# ---- handlers -------------------------------------------------------------------------------

async def login_form_handler(request: web.Request) -> web.Response:
    if await current_session(request) is not None:
        raise web.HTTPSeeOther(safe_next(request.query.get("next")))
    return _render_login(request, next_path=request.query.get("next", ""))


async def _read_form(request: web.Request) -> MultiDictProxy:
    try:
        return await request.post()
    except ValueError:  # malformed urlencoded/multipart body
        raise web.HTTPBadRequest(text="malformed form body") from None


async def login_handler(request: web.Request) -> web.Response:
    form = await _read_form(request)
    if not _same_token(form.get("csrf_token"), request.cookies.get(LOGIN_CSRF_COOKIE)):
        raise web.HTTPForbidden(text="CSRF token missing or wrong; reload the login page.")
    oidc = request.app[CONFIG].oidc
    if oidc is not None and not oidc.local_passwords:
        return _render_login(request, f"Passwords are not accepted here: sign in with {oidc.provider_name}.",
                             status=403, next_path=str(form.get("next", "")))
    username, password, next_path = form.get("username"), form.get("password"), form.get("next", "")
    if not (isinstance(username, str) and isinstance(password, str)
            and 0 < len(username) <= MAX_USERNAME and 0 < len(password) <= MAX_PASSWORD):
        return _render_login(request, "Enter a username and a password.", status=400, next_path=str(next_path))
    store, address = request.app[STORE], client_address(request)
    refused = await login_throttle.refusal(request.app, username, address)
    if refused is not None:  # not even checked: a guesser learns nothing while throttled
        await login_throttle.failed(request.app, username, address, checked=False)
        response = _render_login(request, refused.message, status=429, next_path=str(next_path))
        response.headers["Retry-After"] = str(refused.retry_after)
        return response
    stored_hash = await store.read(accounts.password_hash_of, username)
    loop = asyncio.get_running_loop()
    # argon2 is deliberately slow: keep it off the event loop.
    ok = await loop.run_in_executor(None, verify_password, stored_hash or DUMMY_HASH, password)
    if not ok or stored_hash is None:
        await login_throttle.failed(request.app, username, address, checked=True)
        return _render_login(request, "Wrong username or password.", status=401, next_path=str(next_path))
    await login_throttle.succeeded(request.app, username)
    response = web.HTTPSeeOther(safe_next(next_path))
    await begin_session(request, username, response)
    raise response


async def begin_session(request: web.Request, username: str, response: web.StreamResponse) -> None:
    """Start a console session for ``username`` (a password or a single sign-on checked):
    stored as a hash, its cookie set on ``response``, the login CSRF cookie dropped."""
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    expires = now + timedelta(seconds=request.app[CONFIG].session_ttl_seconds)
    await request.app[STORE].write(accounts.start_session, sha256_hex(token), username, csrf, _iso(now), _iso(expires))
    response.set_cookie(SESSION_COOKIE, token, max_age=request.app[CONFIG].session_ttl_seconds,
                        **_cookie_options(request))
    response.del_cookie(LOGIN_CSRF_COOKIE, path="/")


async def end_console_session(request: web.Request) -> str:
    """The logout form checked and its session ended; returns the session's username."""
    session = await current_session(request)
    if session is None:
        raise web.HTTPSeeOther("/login")
    form = await _read_form(request)
    if not _same_token(form.get("csrf_token"), session.csrf_token):
        raise web.HTTPForbidden(text="CSRF token missing or wrong.")
    await request.app[STORE].write(accounts.end_session, sha256_hex(request.cookies[SESSION_COOKIE]))
    return session.username


def signed_out(location: str) -> web.HTTPSeeOther:
    """The answer to a sign-out: to ``location``, the session cookie dropped."""
    response = web.HTTPSeeOther(location)
    response.del_cookie(SESSION_COOKIE, path="/")
    return response
