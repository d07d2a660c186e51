"""Who is calling: a signed-in console account (session cookie) or an API token, with a
role. `require_api` guards the JSON endpoints (401/403 as ApiError); the console's own
guards (redirect to /login, CSRF) are in shadowmap.collector.console.auth."""
from __future__ import annotations

import secrets
from dataclasses import dataclass

from aiohttp import web
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from shadowmap.collector.errors import ApiError
from shadowmap.collector.http import bearer_token
from shadowmap.collector.state import STORE
from shadowmap.collector.store.sqlite import accounts
from shadowmap.collector.store.sqlite.accounts import ROLES
from shadowmap.collector.timestamps import utc_now

__all__ = ["ROLES", "Principal", "Session", "require_api", "current_principal", "current_session"]

SESSION_COOKIE = "shadowmap_session"
MAX_TOKEN = 256
_ROLE_RANK = {role: rank for rank, role in enumerate(ROLES)}

_hasher = PasswordHasher()  # argon2id with the library's current recommended costs
# Verified when the user does not exist, so a wrong username costs as much as a wrong password.
DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


@dataclass(frozen=True)
class Session:
    username: str
    csrf_token: str
    role: str = "viewer"
    time_zone: str = "UTC"  # the account's IANA time zone: the console's exact times are written in it


@dataclass(frozen=True)
class Principal:
    """Who is calling: a signed-in account (session) or an API token."""
    name: str
    role: str
    csrf_token: str | None  # None for API tokens: a bearer header is never sent by a browser on its own
    via: str  # "session" | "token"
    time_zone: str = "UTC"  # the account's (sessions); API tokens answer in UTC

    def can(self, role: str) -> bool:
        return _ROLE_RANK.get(self.role, -1) >= _ROLE_RANK[role]


sha256_hex = accounts.token_hash


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


async def current_session(request: web.Request) -> Session | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token or len(token) > MAX_TOKEN:
        return None
    row = await request.app[STORE].read(accounts.session_by_hash, sha256_hex(token), utc_now())
    return Session(row["username"], row["csrf_token"], row["role"], row["time_zone"]) if row else None


async def current_principal(request: web.Request) -> Principal | None:
    """The API token in the Authorization header if there is one (a wrong token is not
    rescued by a cookie), else the session cookie; None when neither is valid."""
    token = bearer_token(request)
    if token is not None:
        row = None
        if len(token) <= MAX_TOKEN:
            row = await request.app[STORE].read(accounts.api_token_by_hash, sha256_hex(token))
        return Principal(f"token:{row['name']}", row["role"], None, "token") if row else None
    session = await current_session(request)
    if session is None:
        return None
    return Principal(session.username, session.role, session.csrf_token, "session", session.time_zone)


async def require_api(request: web.Request, role: str = "viewer") -> Principal:
    """For JSON endpoints: no credentials -> 401; too low a role -> 403."""
    principal = await current_principal(request)
    if principal is None:
        raise ApiError(401, "unauthorized", "a session or API token is required")
    if not principal.can(role):
        raise ApiError(403, "forbidden", f"the {role} role is required")
    return principal
