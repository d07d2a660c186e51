"""Console single sign-on with OpenID Connect: `GET /auth/oidc/login` sends the browser to
the provider (code flow, PKCE S256, state, nonce; the pending sign-in is stored, bound to
this browser by a cookie, used once); `GET /auth/oidc/callback` takes the provider's answer,
exchanges the code, verifies the ID token (shadowmap.collector.console.oidc_client), maps
the user's groups to a console role, creates or updates their account (just in time, an SSO
account with no password) and starts an ordinary console session.

Refused: an unknown, used, expired or other browser's state, a provider error, a code the
provider will not exchange (replayed), an ID token that fails verification, no mapped group,
a disabled account, a username held by a local account. Every refusal is logged; those that
come after the provider proved who the user is (no mapped group, disabled, username taken)
and every sign-in are also entries of the record, like the password login's checked failures.
An unverified refusal is not: anyone can call the callback with junk, and the record is not
theirs to fill.

`POST /logout` of an account made by single sign-on ends the console session, then sends the
browser to the provider's end_session_endpoint (RP-Initiated Logout 1.0) so the provider's
session ends too and the next sign-in asks for credentials again; back at /login after. A
local account, a provider without the endpoint, or a provider that cannot be reached: the
console session alone ends (logged)."""
from __future__ import annotations

import asyncio
import logging
import secrets
import unicodedata
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import aiohttp_jinja2
import sqlite_utils
from aiohttp import web

from shadowmap.collector import record
from shadowmap.collector.console.auth import MAX_USERNAME, begin_session, end_console_session, safe_next, signed_out
from shadowmap.collector.console.oidc_client import OidcClient, OidcError, same_secret
from shadowmap.collector.http import client_address
from shadowmap.collector.oidc_settings import OidcSettings
from shadowmap.collector.principals import hash_password, sha256_hex
from shadowmap.collector.state import CONFIG, STORE
from shadowmap.collector.store.sqlite import sso_accounts
from shadowmap.collector.store.sqlite.sso_accounts import PendingLogin

log = logging.getLogger(__name__)

OIDC_CLIENT = web.AppKey("oidc_client", OidcClient)
LOGIN_PATH = "/auth/oidc/login"
CALLBACK_PATH = "/auth/oidc/callback"
BROWSER_COOKIE = "shadowmap_oidc"   # binds a pending sign-in to the browser that started it
COOKIE_PATH = "/auth/oidc/"
PENDING_SECONDS = 600               # time to sign in at the provider
MAX_PENDING = 10_000                # sign-ins under way at once: anyone may start one, none may fill the table
MAX_PARAMETER = 4096


class Refused(Exception):
    """A sign-in refused; the message is shown to the user. ``verified``: the provider had
    proven who the user is (the refusal is recorded)."""

    def __init__(self, message: str, verified: bool = False, username: str = "", subject: str = "") -> None:
        super().__init__(message)
        self.verified, self.username, self.subject = verified, username, subject


def install(app: web.Application) -> None:
    """With single sign-on configured: its client (provider metadata and keys cached), closed with the app."""
    settings = app[CONFIG].oidc
    if settings is None:
        return
    app[OIDC_CLIENT] = OidcClient(settings)

    async def close(app: web.Application) -> None:
        await app[OIDC_CLIENT].close()

    app.on_cleanup.append(close)


def _client(request: web.Request) -> OidcClient:
    client = request.app.get(OIDC_CLIENT)
    if client is None:  # refused like any route without its credentials (tests/collector/test_route_auth.py)
        raise web.HTTPForbidden(text="Single sign-on is not configured on this collector.")
    return client


def redirect_uri(request: web.Request, settings: OidcSettings) -> str:
    """The configured redirect URL, else this collector's callback as the request reached it
    (https when it came over TLS or from a trusted proxy that says so)."""
    return settings.redirect_url or f"{request.scheme}://{request.host}{CALLBACK_PATH}"


def post_logout_uri(request: web.Request, settings: OidcSettings) -> str:
    """The console's login page, on the origin the provider sends users back to."""
    if settings.redirect_url:
        parts = urlsplit(settings.redirect_url)
        return f"{parts.scheme}://{parts.netloc}/login"
    return f"{request.scheme}://{request.host}/login"


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


def _query(request: web.Request, name: str) -> str | None:
    value = request.query.get(name)
    return value if value is not None and 0 < len(value) <= MAX_PARAMETER else None


# ---- handlers -------------------------------------------------------------------------------

async def oidc_login_handler(request: web.Request) -> web.StreamResponse:
    client = _client(request)
    try:
        metadata = await client.metadata()
    except OidcError as exc:
        log.warning("single sign-on unavailable: %s", exc)
        raise web.HTTPBadGateway(text=f"Single sign-on is unavailable: {exc}") from None
    state, nonce, code_verifier, browser = (secrets.token_urlsafe(32) for _ in range(4))
    pending = PendingLogin(browser_hash=sha256_hex(browser), nonce=nonce, code_verifier=code_verifier,
                           redirect_uri=redirect_uri(request, client.settings),
                           next_path=safe_next(request.query.get("next")))
    expires = _iso(datetime.now(UTC) + timedelta(seconds=PENDING_SECONDS))
    if not await request.app[STORE].write(sso_accounts.save_login, sha256_hex(state), pending, expires, MAX_PENDING):
        log.warning("single sign-on: %d sign-ins under way, refusing more", MAX_PENDING)
        raise web.HTTPTooManyRequests(text="Too many sign-ins are under way; try again in a few minutes.",
                                      headers={"Retry-After": "60"})
    response = web.HTTPFound(client.authorization_url(metadata, state=state, nonce=nonce, code_verifier=code_verifier,
                                                      redirect_uri=pending.redirect_uri))
    # Lax, not Strict: the provider's redirect back is a navigation from another site
    response.set_cookie(BROWSER_COOKIE, browser, max_age=PENDING_SECONDS, httponly=True, samesite="Lax",
                        secure=request.secure, path=COOKIE_PATH)
    raise response


async def oidc_callback_handler(request: web.Request) -> web.StreamResponse:
    client = _client(request)
    address = client_address(request)
    try:
        username, role, next_path = await _sign_in(request, client, address)
    except Refused as refusal:
        log.warning("single sign-on refused from %s%s: %s", address,
                    f" for {refusal.username!r}" if refusal.username else "", refusal)
        if refusal.verified:
            await request.app[STORE].write(record.append, "note", "console sso refused", f"addr:{address}",
                                           {"username": refusal.username, "subject": refusal.subject,
                                            "issuer": client.settings.issuer, "reason": str(refusal)})
        raise web.HTTPForbidden(text=f"Single sign-on refused: {refusal}") from None
    log.info("single sign-on of %r as %s from %s", username, role, address)
    response = aiohttp_jinja2.render_template("oidc_signed_in.html", request,
                                              {"next": next_path, "username": username, "role": role})
    await begin_session(request, username, response)
    response.del_cookie(BROWSER_COOKIE, path=COOKIE_PATH)
    return response


async def logout_handler(request: web.Request) -> web.StreamResponse:
    username = await end_console_session(request)
    client = request.app.get(OIDC_CLIENT)
    if client is None or await request.app[STORE].read(sso_accounts.sso_issuer_of, username) != client.settings.issuer:
        raise signed_out("/login")
    try:
        metadata = await client.metadata()
    except OidcError as exc:
        log.warning("signed %r out of the console only: the identity provider is unavailable (%s)", username, exc)
        raise signed_out("/login") from None
    target = client.logout_url(metadata, post_logout_redirect_uri=post_logout_uri(request, client.settings))
    raise signed_out(target or "/login")


# ---- the steps ------------------------------------------------------------------------------

async def _sign_in(request: web.Request, client: OidcClient, address: str) -> tuple[str, str, str]:
    """The username, role and next page of a proven, permitted sign-in (else Refused)."""
    settings = client.settings
    state = _query(request, "state")
    pending = await request.app[STORE].write(sso_accounts.take_login, sha256_hex(state)) if state else None
    if pending is None:
        raise Refused("this sign-in is unknown, was already used or has expired (state); start again")
    browser = request.cookies.get(BROWSER_COOKIE)
    if not (browser and len(browser) <= MAX_PARAMETER and same_secret(sha256_hex(browser), pending.browser_hash)):
        raise Refused("this sign-in was started in another browser; start again")
    try:
        metadata = await client.metadata()
        issuer = request.query.get("iss")  # RFC 9207: which provider answered (mix-up attacks)
        if (issuer is not None or metadata.iss_in_response) and issuer != settings.issuer:
            raise Refused("the answer came from another identity provider (iss)")
        if "error" in request.query:
            described = request.query.get("error_description", "")
            raise Refused(f"the identity provider answered {request.query['error'][:100]!r}"
                          + (f": {described[:200]}" if described else ""))
        code = _query(request, "code")
        if code is None:
            raise Refused("the identity provider's answer holds no code")
        tokens = await client.exchange_code(code, pending.code_verifier, pending.redirect_uri)
        claims = await client.verify_id_token(tokens["id_token"], pending.nonce)
        claims = await _with_userinfo(client, claims, tokens.get("access_token"))
    except OidcError as exc:
        raise Refused(str(exc)) from None
    username, role = _account_of(settings, claims)
    username = await _provision(request, settings, claims["sub"], username, role, address)
    return username, role, pending.next_path


async def _with_userinfo(client: OidcClient, claims: dict[str, Any], access_token: object) -> dict[str, Any]:
    """The ID token's claims, completed from userinfo when the username or groups claim is
    not in the ID token (providers that keep scope claims for userinfo). The ID token's own
    claims win."""
    settings = client.settings
    if (settings.groups_claim in claims and settings.username_claim in claims) or not isinstance(access_token, str):
        return claims
    return {**await client.userinfo(access_token, claims["sub"]), **claims}


def _account_of(settings: OidcSettings, claims: dict[str, Any]) -> tuple[str, str]:
    """The console username and role the verified claims give."""
    subject = str(claims["sub"])
    username = claims.get(settings.username_claim)
    if not isinstance(username, str) or not 0 < len(username) <= MAX_USERNAME \
            or any(unicodedata.category(c).startswith(("C", "Z")) and c != " " for c in username):
        raise Refused(f"the identity provider gave no usable {settings.username_claim!r} claim", True, subject=subject)
    if settings.username_claim == "email" and claims.get("email_verified") in (False, "false"):  # some send strings
        raise Refused("the identity provider has not verified this email address", True, username, subject)
    overage = claims.get("_claim_names")
    if isinstance(overage, dict) and settings.groups_claim in overage:  # Entra ID: too many groups to list
        raise Refused("the identity provider left the groups out (too many groups): filter the groups it sends",
                      True, username, subject)
    groups = claims.get(settings.groups_claim, [])
    groups = [groups] if isinstance(groups, str) else [g for g in groups if isinstance(g, str)] \
        if isinstance(groups, list) else []
    role = settings.role_for(groups)
    if role is None:
        raise Refused(f"{username} is in no group that has a console role; ask an administrator", True,
                      username, subject)
    return username, role


async def _provision(request: web.Request, settings: OidcSettings, subject: str, username: str, role: str,
                     address: str) -> str:
    """Create or update the account (just in time) and record the sign-in, in one
    transaction; the account's username (the one it was made with)."""
    store = request.app[STORE]
    unusable = None
    if await store.read(sso_accounts.sso_account, settings.issuer, subject) is None:
        # an SSO account's password hash is of a secret nobody keeps: no password signs it in
        unusable = await asyncio.get_running_loop().run_in_executor(None, hash_password, secrets.token_urlsafe(32))

    def write(db: sqlite_utils.Database) -> tuple[str, str]:
        before = sso_accounts.sso_account(db, settings.issuer, subject)
        outcome, name = sso_accounts.provision(db, settings.issuer, subject, username, role,
                                               unusable or hash_password(secrets.token_urlsafe(32)))
        if outcome in ("created", "updated"):
            if outcome == "created" or (before is not None and before["role"] != role):
                record.append(db, "admin", f"account:{name}", f"sso:{settings.issuer}",
                              {"action": "sso provision" if outcome == "created" else "sso role", "role": role})
            record.append(db, "note", "console sso sign-in", name,
                          {"issuer": settings.issuer, "subject": subject, "role": role, "address": address})
        return outcome, name

    outcome, name = await store.write(write)
    if outcome == "disabled":
        raise Refused(f"the account {name} is disabled", True, name, subject)
    if outcome == "taken":
        raise Refused(f"the username {name} belongs to another account (a local one); an administrator must "
                      "rename or delete it first", True, name, subject)
    return name


ROUTES = [
    web.get(LOGIN_PATH, oidc_login_handler),
    web.get(CALLBACK_PATH, oidc_callback_handler),
]
