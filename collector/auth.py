"""Dashboard authentication: argon2id accounts, server-side sessions (only a hash of the
cookie is stored), CSRF tokens on the login and logout forms, and API tokens."""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import aiohttp_jinja2
import sqlite_utils
from aiohttp import web
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from multidict import MultiDictProxy

from shadowmap.collector.http import bearer_token, utc_now
from shadowmap.collector.state import CONFIG, STORE

SESSION_COOKIE = "shadowmap_session"
LOGIN_CSRF_COOKIE = "shadowmap_login_csrf"
MAX_USERNAME = 128
MAX_PASSWORD = 1024
MAX_TOKEN = 256

_hasher = PasswordHasher()  # argon2id with the library's current recommended costs
# Verified when the user does not exist, so a wrong username costs as much as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


ROLES = ("viewer", "analyst", "admin")  # each role can do everything the ones before it can
_ROLE_RANK = {role: rank for rank, role in enumerate(ROLES)}


@dataclass(frozen=True)
class Session:
    username: str
    csrf_token: str
    role: str = "viewer"


@dataclass(frozen=True)
class Principal:
    """Who is calling: a signed-in account (session) or an API token."""
    name: str
    role: str
    csrf_token: str | None  # None for API tokens: a bearer header is never sent by a browser on its own
    via: str  # "session" | "token"

    def can(self, role: str) -> bool:
        return _ROLE_RANK.get(self.role, -1) >= _ROLE_RANK[role]


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# ---- store functions (writer fns take the db as first argument) -------------------------

def count_accounts(db: sqlite_utils.Database) -> int:
    return next(db.query("SELECT count(*) AS n FROM accounts"))["n"]


def create_account(db: sqlite_utils.Database, username: str, password_hash: str, role: str = "admin") -> bool:
    if role not in _ROLE_RANK:
        raise ValueError(f"unknown role {role!r}")
    cursor = db.execute(
        "INSERT OR IGNORE INTO accounts (username, password_hash, role, created_at) VALUES (?, ?, ?, ?)",
        (username, password_hash, role, utc_now()),
    )
    return cursor.rowcount == 1


def create_api_token(db: sqlite_utils.Database, name: str, role: str = "viewer", created_by: str = "") -> str:
    """Writer fn: a new API token with ``role``; returns it (only its hash is stored)."""
    if role not in _ROLE_RANK:
        raise ValueError(f"unknown role {role!r}")
    token = secrets.token_urlsafe(32)
    db.execute("INSERT INTO api_tokens (token_hash, name, created_at, role, created_by) VALUES (?, ?, ?, ?, ?)",
               (sha256_hex(token), name, utc_now(), role, created_by))
    return token


def _password_hash_of(username: str):
    def query(db: sqlite_utils.Database) -> str | None:
        rows = list(db.query("SELECT password_hash FROM accounts WHERE username = ?", (username,)))
        return rows[0]["password_hash"] if rows else None
    return query


def _session_by_hash(token_hash: str, now: str):
    def query(db: sqlite_utils.Database) -> Session | None:
        rows = list(db.query(
            "SELECT s.username, s.csrf_token, a.role FROM sessions s JOIN accounts a ON a.username = s.username "
            "WHERE s.token_hash = ? AND s.expires_at > ?", (token_hash, now)
        ))
        return Session(rows[0]["username"], rows[0]["csrf_token"], rows[0]["role"]) if rows else None
    return query


def _api_token_by_hash(token_hash: str):
    def query(db: sqlite_utils.Database) -> dict | None:
        rows = list(db.query("SELECT name, role FROM api_tokens WHERE token_hash = ?", (token_hash,)))
        return rows[0] if rows else None
    return query


# ---- request helpers ------------------------------------------------------------------------

async def current_session(request: web.Request) -> Session | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token or len(token) > MAX_TOKEN:
        return None
    return await request.app[STORE].read(_session_by_hash(sha256_hex(token), utc_now()))


async def current_principal(request: web.Request) -> Principal | None:
    """The API token in the Authorization header if there is one (a wrong token is not
    rescued by a cookie), else the session cookie; None when neither is valid."""
    token = bearer_token(request)
    if token is not None:
        row = None
        if len(token) <= MAX_TOKEN:
            row = await request.app[STORE].read(_api_token_by_hash(sha256_hex(token)))
        return Principal(f"token:{row['name']}", row["role"], None, "token") if row else None
    session = await current_session(request)
    if session is None:
        return None
    return Principal(session.username, session.role, session.csrf_token, "session")


async def admin_or_token(request: web.Request) -> str | None:
    """Who is calling (a username, or "token:<name>"), or None when no credential is valid."""
    principal = await current_principal(request)
    return principal.name if principal else None


async def require_page(request: web.Request, role: str = "viewer") -> Principal:
    """For HTML pages: no credentials -> redirect to /login; too low a role -> 403."""
    principal = await current_principal(request)
    if principal is None:
        raise web.HTTPFound("/login")
    if not principal.can(role):
        raise web.HTTPForbidden(text=f"This page needs the {role} role.")
    return principal


async def require_api(request: web.Request, role: str = "viewer") -> Principal:
    """For JSON endpoints: no credentials -> 401; too low a role -> 403 (JSON bodies)."""
    principal = await current_principal(request)
    if principal is None:
        raise web.HTTPUnauthorized(text='{"error":"unauthorized","detail":"a session or API token is required"}',
                                   content_type="application/json")
    if not principal.can(role):
        raise web.HTTPForbidden(text=f'{{"error":"forbidden","detail":"the {role} role is required"}}',
                                content_type="application/json")
    return principal


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


def _cookie_options(request: web.Request) -> dict:
    return {"httponly": True, "samesite": "Strict", "secure": request.secure, "path": "/"}


def _render_login(request: web.Request, error: str = "", status: int = 200) -> web.Response:
    csrf = secrets.token_urlsafe(32)
    response = aiohttp_jinja2.render_template(
        "login.html", request, {"csrf_token": csrf, "error": error}, status=status
    )
    response.set_cookie(LOGIN_CSRF_COOKIE, csrf, **_cookie_options(request))
    return response


def _same_token(given: object, expected: str | None) -> bool:
    return (isinstance(given, str) and bool(expected) and len(given) <= MAX_TOKEN
            and hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8")))


# ---- handlers -------------------------------------------------------------------------------

async def login_form_handler(request: web.Request) -> web.Response:
    if await current_session(request) is not None:
        raise web.HTTPSeeOther("/alerts")
    return _render_login(request)


async def _read_form(request: web.Request):
    try:
        return await request.post()
    except ValueError:  # malformed urlencoded/multipart body
        raise web.HTTPBadRequest(text="malformed form body")


async def login_handler(request: web.Request) -> web.Response:
    form = await _read_form(request)
    if not _same_token(form.get("csrf_token"), request.cookies.get(LOGIN_CSRF_COOKIE)):
        return web.Response(status=403, text="CSRF token missing or wrong; reload the login page.")
    username, password = form.get("username"), form.get("password")
    if not (isinstance(username, str) and isinstance(password, str)
            and 0 < len(username) <= MAX_USERNAME and 0 < len(password) <= MAX_PASSWORD):
        return _render_login(request, "Enter a username and a password.", status=400)
    store = request.app[STORE]
    stored_hash = await store.read(_password_hash_of(username))
    loop = asyncio.get_running_loop()
    # argon2 is deliberately slow: keep it off the event loop.
    ok = await loop.run_in_executor(None, verify_password, stored_hash or _DUMMY_HASH, password)
    if not ok or stored_hash is None:
        return _render_login(request, "Wrong username or password.", status=401)
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    expires = now + timedelta(seconds=request.app[CONFIG].session_ttl_seconds)
    await store.write(lambda db: _create_session(db, sha256_hex(token), username, csrf, now, expires))
    response = web.HTTPSeeOther("/alerts")
    response.set_cookie(SESSION_COOKIE, token, max_age=request.app[CONFIG].session_ttl_seconds,
                        **_cookie_options(request))
    response.del_cookie(LOGIN_CSRF_COOKIE, path="/")
    raise response


def _create_session(db: sqlite_utils.Database, token_hash: str, username: str, csrf: str,
                    now: datetime, expires: datetime) -> None:
    iso = lambda moment: moment.isoformat(timespec="microseconds").replace("+00:00", "Z")  # noqa: E731
    db.execute("DELETE FROM sessions WHERE expires_at <= ?", (iso(now),))
    db.execute(
        "INSERT INTO sessions (token_hash, username, csrf_token, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
        (token_hash, username, csrf, iso(now), iso(expires)),
    )


async def logout_handler(request: web.Request) -> web.Response:
    session = await current_session(request)
    if session is None:
        raise web.HTTPSeeOther("/login")
    form = await _read_form(request)
    if not _same_token(form.get("csrf_token"), session.csrf_token):
        return web.Response(status=403, text="CSRF token missing or wrong.")
    token_hash = sha256_hex(request.cookies[SESSION_COOKIE])
    await request.app[STORE].write(lambda db: db.execute("DELETE FROM sessions WHERE token_hash = ?", (token_hash,)))
    response = web.HTTPSeeOther("/login")
    response.del_cookie(SESSION_COOKIE, path="/")
    raise response
