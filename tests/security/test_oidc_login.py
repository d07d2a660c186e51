"""Issue 16, console authentication: OpenID Connect single sign-on with roles mapped from
groups, against a real OpenID provider (the certified `oidc-provider` npm package, pinned
under tests/tooling/oidc, started here on loopback). The flow is driven with an HTTP client
that follows the provider's own login and consent forms, as a browser would.

The provider is reached as http://localhost:PORT and the collector as http://127.0.0.1:PORT,
so their cookies are kept apart as two sites' would be."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit, urlunsplit

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from joserfc import jwt
from joserfc.jwk import RSAKey
from yarl import URL

from shadowmap.collector.app import create_app, make_runner
from shadowmap.collector.config import CollectorConfig
from shadowmap.collector.console.oidc_client import OidcClient, OidcError, pkce_challenge
from shadowmap.collector.oidc_settings import OidcSettings
from shadowmap.collector.state import STORE
from shadowmap.collector.store.sqlite import accounts, sso_accounts

OIDC_DIR = Path(__file__).resolve().parents[1] / "tooling" / "oidc"
CHROMIUM = "/usr/lib/chromium/chromium"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"   # screenshots (gitignored)
ADMIN_PASSWORD = "correct horse battery staple"
CLIENT_SECRET = "collector-client-secret-" + "x" * 20
OTHER_SECRET = "another-apps-client-secret-" + "y" * 20
ROLE_MAP = (("shadowmap-admins", "admin"), ("secops", "analyst"))
ACCOUNTS = {  # login at the provider -> its claims
    "ada": {"email": "ada@corp.example", "email_verified": True, "groups": ["everyone", "shadowmap-admins"]},
    "alan": {"email": "alan@corp.example", "email_verified": True, "groups": ["everyone", "secops"]},
    "eve": {"email": "eve@corp.example", "email_verified": True, "groups": ["everyone", "marketing"]},
    "mallory": {"email": "admin", "email_verified": True, "groups": ["shadowmap-admins"]},
    "victor": {"email": "ceo@corp.example", "email_verified": False, "groups": ["shadowmap-admins"]},
}
FORM_ACTION = re.compile(r'<form[^>]*action="([^"]+)"')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def client_metadata(client_id: str, secret: str, redirect_uri: str, auth_method: str) -> dict:
    # where RP-Initiated Logout may send the browser back: the console's login page
    signed_out = urlunsplit(urlsplit(redirect_uri)._replace(path="/login"))
    return {"client_id": client_id, "client_secret": secret, "redirect_uris": [redirect_uri],
            "post_logout_redirect_uris": [signed_out],
            "grant_types": ["authorization_code"], "response_types": ["code"],
            "token_endpoint_auth_method": auth_method}


@pytest.fixture(scope="module")
def provider(tmp_path_factory) -> Iterator[SimpleNamespace]:
    """The real OpenID provider on loopback; its signing key is known to the tests."""
    assert (OIDC_DIR / "node_modules" / "oidc-provider").is_dir(), \
        "the OpenID provider is not installed: run `npm ci --prefix tests/tooling/oidc` (make test does)"
    port, collector_port = free_port(), free_port()
    issuer = f"http://localhost:{port}"
    callback = f"http://127.0.0.1:{collector_port}/auth/oidc/callback"
    key = RSAKey.generate_key(2048, parameters={"kid": "provider-key-1", "use": "sig", "alg": "RS256"}, private=True)
    setup = {
        "issuer": issuer, "port": port, "jwks": {"keys": [key.as_dict(private=True)]}, "accounts": ACCOUNTS,
        "clients": [client_metadata("shadowmap", CLIENT_SECRET, callback, "client_secret_basic"),
                    client_metadata("shadowmap-post", CLIENT_SECRET, callback, "client_secret_post"),
                    client_metadata("other-app", OTHER_SECRET, "http://127.0.0.1:9/other/callback",
                                    "client_secret_post")],
    }
    folder = tmp_path_factory.mktemp("oidc")
    setup_file, log_file = folder / "setup.json", folder / "provider.log"
    setup_file.write_text(json.dumps(setup))
    with log_file.open("w") as log:  # a file, not a pipe: its output can never block it
        process = subprocess.Popen(["node", str(OIDC_DIR / "provider.js"), str(setup_file)], cwd=OIDC_DIR,
                                   stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while "listening" not in log_file.read_text() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert "listening" in log_file.read_text(), f"the OpenID provider did not start: {log_file.read_text()}"
        yield SimpleNamespace(issuer=issuer, key=key, collector_port=collector_port, callback=callback)
    finally:
        process.terminate()
        process.wait(timeout=10)


def settings_for(provider: SimpleNamespace, **overrides) -> OidcSettings:
    values = {"issuer": provider.issuer, "client_id": "shadowmap", "client_secret": CLIENT_SECRET,
              "role_map": ROLE_MAP, "scopes": ("openid", "email", "profile", "groups"),
              "provider_name": "Corp SSO", "redirect_url": provider.callback}
    return OidcSettings(**{**values, **overrides})


class Collector(TestServer):
    """The collector on the port registered at the provider, served as in production."""

    async def _make_runner(self, **kwargs):
        return make_runner(self.app, **kwargs)


@pytest.fixture
async def start_collector(provider, config: CollectorConfig) -> AsyncIterator:
    """Starts the collector (the `config` fixture's store: SQLite, or PostgreSQL where a test
    asks for that backend) with single sign-on settings."""
    servers: list[Collector] = []

    async def start(trusted_proxies: tuple[str, ...] = (), **overrides) -> SimpleNamespace:
        config_with_sso = replace(config, oidc=settings_for(provider, **overrides), trusted_proxies=trusted_proxies)
        server = Collector(create_app(config_with_sso), host="127.0.0.1", port=provider.collector_port)
        await server.start_server()
        servers.append(server)
        return SimpleNamespace(base=f"http://127.0.0.1:{provider.collector_port}", app=server.app,
                               config=config_with_sso)

    yield start
    for server in servers:
        await server.close()


@pytest.fixture
async def collector(start_collector) -> SimpleNamespace:
    return await start_collector()


def browser() -> aiohttp.ClientSession:
    """A browser's cookie jar (unsafe: cookies of 127.0.0.1 are kept too)."""
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


async def start_sign_in(http: aiohttp.ClientSession, collector: SimpleNamespace, next_path: str = "/alerts") -> str:
    """Click "Sign in with …": the provider's authorization URL the collector redirects to."""
    response = await http.get(f"{collector.base}/auth/oidc/login", params={"next": next_path},
                              allow_redirects=False)
    assert response.status == 302, await response.text()
    return response.headers["Location"]


async def at_provider(http: aiohttp.ClientSession, url: str, login: str, stop_at: str) -> str:
    """Follow the provider's pages as a browser would (redirects, its login form, its
    consent form) until it sends the browser to ``stop_at``; that URL."""
    for _ in range(20):
        if url.startswith(stop_at):
            return url
        response = await http.get(url, allow_redirects=False)
        if response.status in (302, 303):
            url = urljoin(url, response.headers["Location"])
            continue
        page = await response.text()
        assert response.status == 200, page[:2000]
        action = urljoin(url, FORM_ACTION.search(page).group(1))
        fields = {"prompt": "login", "login": login, "password": "any password"} if 'name="login"' in page \
            else {"prompt": "consent"}
        response = await http.post(action, data=fields, allow_redirects=False)
        assert response.status in (302, 303), (await response.text())[:2000]
        url = urljoin(action, response.headers["Location"])
    raise AssertionError("the provider never sent the browser back")


async def provider_answer(http: aiohttp.ClientSession, collector: SimpleNamespace, login: str,
                          tamper=None) -> str:
    """Sign in at the provider as ``login``: the callback URL it sends the browser back to.
    ``tamper`` may rewrite the authorization request first."""
    authorize = await start_sign_in(http, collector)
    if tamper is not None:
        authorize = tamper(authorize)
    return await at_provider(http, authorize, login, f"{collector.base}/auth/oidc/callback")


async def sign_in(collector: SimpleNamespace, login: str) -> tuple[aiohttp.ClientSession, aiohttp.ClientResponse, str]:
    http = browser()
    callback = await provider_answer(http, collector, login)
    response = await http.get(callback, allow_redirects=False)
    return http, response, await response.text()


def with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {name: values[0] for name, values in parse_qs(parts.query).items()}
    return urlunsplit(parts._replace(query=urlencode({**query, **changes})))


def account(collector: SimpleNamespace, username: str):
    return collector.app[STORE].read(lambda db: next(iter(db.query(
        "SELECT username, role, sso_issuer, sso_subject, disabled_at FROM accounts WHERE username = ?",
        (username,))), None))


def entries(collector: SimpleNamespace, subject: str):
    return collector.app[STORE].read(lambda db: [dict(row) for row in db.query(
        "SELECT kind, subject, actor, detail FROM record_entries_single WHERE subject = ? ORDER BY seq", (subject,))])


# ---- sign-ins -------------------------------------------------------------------------------

@pytest.mark.parametrize("client_id", ["shadowmap", "shadowmap-post"])
async def test_a_user_in_the_admin_group_lands_in_the_console_as_admin(start_collector, provider, client_id):
    auth_method = "client_secret_post" if client_id.endswith("post") else "client_secret_basic"
    collector = await start_collector(client_id=client_id, token_auth_method=auth_method)
    http, response, page = await sign_in(collector, "ada")
    async with http:
        assert response.status == 200, page
        assert 'http-equiv="refresh" content="0;url=/alerts"' in page  # a page of ours moves on (SameSite=Strict)
        assert "Signed in as ada@corp.example (admin)" in page
        alerts = await http.get(f"{collector.base}/alerts", allow_redirects=False)
        assert alerts.status == 200
        assert (await http.get(f"{collector.base}/admin", allow_redirects=False)).status == 200
    row = await account(collector, "ada@corp.example")
    assert row["role"] == "admin" and row["sso_issuer"] == provider.issuer and row["sso_subject"] == "ada"
    # an SSO account has no password anyone knows
    stored = await collector.app[STORE].read(accounts.password_hash_of, "ada@corp.example")
    assert stored is not None and stored.startswith("$argon2id$")
    signed_in = await entries(collector, "console sso sign-in")
    assert len(signed_in) == 1 and signed_in[0]["actor"] == "ada@corp.example"
    assert json.loads(signed_in[0]["detail"])["role"] == "admin"
    provisioned = await entries(collector, "account:ada@corp.example")
    assert provisioned and json.loads(provisioned[0]["detail"]) == {"action": "sso provision", "role": "admin"}


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"], indirect=True)
async def test_a_user_in_the_analyst_group_lands_as_analyst(collector, backend):
    http, response, page = await sign_in(collector, "alan")
    async with http:
        assert response.status == 200, page
        assert (await http.get(f"{collector.base}/alerts", allow_redirects=False)).status == 200
        assert (await http.get(f"{collector.base}/admin", allow_redirects=False)).status == 403
    assert (await account(collector, "alan@corp.example"))["role"] == "analyst"


CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


async def test_signing_out_ends_the_session_at_the_provider_too(collector, provider):
    """RP-Initiated Logout: the console's sign-out sends an SSO account on to the provider's
    end_session_endpoint; once the provider has ended its session, signing in asks for the
    password again (before, the provider's session signed the next person straight in)."""
    http, response, page = await sign_in(collector, "ada")
    async with http:
        assert response.status == 200, page
        token = CSRF_FIELD.search(await (await http.get(f"{collector.base}/alerts")).text()).group(1)
        out = await http.post(f"{collector.base}/logout", data={"csrf_token": token}, allow_redirects=False)
        assert out.status == 303
        target = urlsplit(out.headers["Location"])
        assert f"{target.scheme}://{target.netloc}" == provider.issuer and target.path == "/session/end"
        assert parse_qs(target.query) == {"client_id": ["shadowmap"],
                                          "post_logout_redirect_uri": [f"{collector.base}/login"]}
        assert (await http.get(f"{collector.base}/alerts", allow_redirects=False)).status == 302  # to /login: out
        # the provider asks to confirm (its own form), then sends the browser back to the login page
        confirm = await http.get(out.headers["Location"], allow_redirects=False)
        form = await confirm.text()
        assert confirm.status == 200, form[:2000]
        fields = dict(re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', form))
        back = await http.post(urljoin(out.headers["Location"], FORM_ACTION.search(form).group(1)),
                               data={**fields, "logout": "yes"}, allow_redirects=False)
        assert back.status in (302, 303), (await back.text())[:2000]
        landing = urljoin(out.headers["Location"], back.headers["Location"])
        for _ in range(5):  # the provider's own hops (its success page or a redirect) end at our login page
            if landing.startswith(f"{collector.base}/login"):
                break
            hop = await http.get(landing, allow_redirects=False)
            landing = urljoin(landing, hop.headers.get("Location", ""))
        assert landing.startswith(f"{collector.base}/login")
        # signing in again: the provider shows its login form, not a silent sign-in
        first_page = await http.get(await start_sign_in(http, collector), allow_redirects=True)
        assert 'name="login"' in await first_page.text()


async def test_a_local_account_signs_out_of_the_console_only(collector):
    """A password account was never at the provider: its sign-out ends at the login page."""
    async with browser() as http:
        login = await http.get(f"{collector.base}/login")
        token = CSRF_FIELD.search(await login.text()).group(1)
        signed_in = await http.post(f"{collector.base}/login", allow_redirects=False, data={
            "csrf_token": token, "username": "admin", "password": collector.config.admin_password})
        assert signed_in.status == 303, await signed_in.text()
        token = CSRF_FIELD.search(await (await http.get(f"{collector.base}/alerts")).text()).group(1)
        out = await http.post(f"{collector.base}/logout", data={"csrf_token": token}, allow_redirects=False)
        assert (out.status, out.headers["Location"]) == (303, "/login")


async def test_the_role_follows_the_groups_at_each_sign_in(start_collector):
    collector = await start_collector()
    http, response, _ = await sign_in(collector, "alan")
    await http.close()
    assert response.status == 200
    await collector.app[STORE].write(accounts.set_account_role, "alan@corp.example", "admin")  # changed by hand
    http, response, page = await sign_in(collector, "alan")
    await http.close()
    assert response.status == 200 and "(analyst)" in page
    assert (await account(collector, "alan@corp.example"))["role"] == "analyst"


async def test_without_a_configured_redirect_url_the_callback_is_derived_from_the_request(start_collector):
    collector = await start_collector(redirect_url=None, trusted_proxies=("127.0.0.1/32",))
    http, response, page = await sign_in(collector, "alan")  # the derived URL is the one registered
    async with http:
        assert response.status == 200, page
        # behind a trusted TLS proxy: https, as the proxy says the browser came
        behind = await http.get(f"{collector.base}/auth/oidc/login", allow_redirects=False,
                                headers={"X-Forwarded-Proto": "https"})
        redirect = parse_qs(urlsplit(behind.headers["Location"]).query)["redirect_uri"][0]
        assert redirect == f"https://127.0.0.1:{collector.base.rsplit(':', 1)[1]}/auth/oidc/callback"
        assert "Secure" in behind.headers["Set-Cookie"]


async def test_a_user_in_no_mapped_group_is_refused(collector):
    http, response, page = await sign_in(collector, "eve")
    async with http:
        assert response.status == 403
        assert "no group that has a console role" in page
        assert "shadowmap_session" not in {cookie.key for cookie in http.cookie_jar}
    assert await account(collector, "eve@corp.example") is None
    refused = await entries(collector, "console sso refused")
    assert refused and json.loads(refused[0]["detail"])["username"] == "eve@corp.example"


async def test_a_disabled_account_stays_refused(collector):
    http, response, _ = await sign_in(collector, "alan")
    await http.close()
    assert response.status == 200
    await collector.app[STORE].write(accounts.set_disabled, "alan@corp.example", True)
    http, response, page = await sign_in(collector, "alan")
    await http.close()
    assert response.status == 403 and "is disabled" in page


async def test_a_provider_user_cannot_take_over_a_local_account_by_its_name(collector):
    http, response, page = await sign_in(collector, "mallory")  # email claim "admin", the local admin's name
    await http.close()
    assert response.status == 403 and "belongs to another account" in page
    row = await account(collector, "admin")
    assert row["sso_subject"] is None and row["role"] == "admin"


@pytest.mark.browser
async def test_signing_in_in_a_real_browser_lands_in_the_console(collector):
    """Debian's Chromium clicks "Sign in with Corp SSO", signs in on the provider's own pages
    and lands on the alerts page, signed in: the provider (localhost) and the collector
    (127.0.0.1) are two sites, so this holds only if the SameSite=Strict session cookie set
    by the callback goes with the next page (our page moves on, not the provider's redirect)."""
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        chromium = await pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        try:
            page = await chromium.new_page()
            await page.goto(f"{collector.base}/alerts")  # signed out: to the login page, then back here
            await page.click("#sso-sign-in")
            await page.wait_for_url(f"{collector.config.oidc.issuer}/interaction/**")
            await page.fill('input[name="login"]', "ada")
            await page.fill('input[name="password"]', "any password")
            await page.click('button[type="submit"]')
            await page.wait_for_url(f"{collector.config.oidc.issuer}/interaction/**")  # consent
            await page.click('button[type="submit"]')
            await page.wait_for_url(f"{collector.base}/alerts", timeout=15000)
            ARTIFACTS.mkdir(exist_ok=True)
            await page.screenshot(path=str(ARTIFACTS / "oidc-signed-in.png"), full_page=True)
            assert "ada@corp.example" in await page.content()
            assert await page.locator('form[action="/logout"]').count() == 1
        finally:
            await chromium.close()
    assert (await account(collector, "ada@corp.example"))["role"] == "admin"


async def test_an_unverified_email_does_not_name_an_account(collector):
    http, response, page = await sign_in(collector, "victor")
    await http.close()
    assert response.status == 403 and "not verified this email" in page
    assert await account(collector, "ceo@corp.example") is None


# ---- tampering ------------------------------------------------------------------------------

async def test_a_tampered_state_is_refused(collector):
    async with browser() as http:
        callback = await provider_answer(http, collector, "ada")
        response = await http.get(with_query(callback, state=secrets.token_urlsafe(32)), allow_redirects=False)
        assert response.status == 403
        assert "state" in await response.text()
        assert await account(collector, "ada@corp.example") is None


async def test_an_answer_taken_to_another_browser_is_refused(collector):
    async with browser() as victim:
        callback = await provider_answer(victim, collector, "ada")
    async with browser() as attacker:  # no cookie of the sign-in's start
        response = await attacker.get(callback, allow_redirects=False)
        assert response.status == 403 and "another browser" in await response.text()


async def test_a_replayed_code_is_refused(collector):
    async with browser() as http:
        callback = await provider_answer(http, collector, "ada")
        assert (await http.get(callback, allow_redirects=False)).status == 200
        again = await http.get(callback, allow_redirects=False)  # the same answer twice: its state is used
        assert again.status == 403 and "already used" in await again.text()
        # the old code with a fresh sign-in's state: the provider will not exchange it twice
        fresh_state = parse_qs(urlsplit(await start_sign_in(http, collector)).query)["state"][0]
        replay = await http.get(with_query(callback, state=fresh_state), allow_redirects=False)
        text = await replay.text()
        assert replay.status == 403 and "token endpoint answered HTTP 400" in text and "invalid_grant" in text


async def test_a_wrong_nonce_is_refused(collector):
    async with browser() as http:
        callback = await provider_answer(http, collector, "ada",
                                         tamper=lambda url: with_query(url, nonce=secrets.token_urlsafe(32)))
        response = await http.get(callback, allow_redirects=False)
        assert response.status == 403 and "nonce" in await response.text()
    assert await account(collector, "ada@corp.example") is None


async def test_a_request_stripped_of_pkce_ends_in_a_refusal(collector):
    """The provider demands PKCE (S256): without the collector's challenge it answers with an
    error, which the collector shows and refuses."""
    async with browser() as http:
        authorize = await start_sign_in(http, collector)
        parts = urlsplit(authorize)
        assert parse_qs(parts.query)["code_challenge_method"] == ["S256"]
        query = {k: v[0] for k, v in parse_qs(parts.query).items() if not k.startswith("code_challenge")}
        response = await http.get(urlunsplit(parts._replace(query=urlencode(query))), allow_redirects=False)
        location = response.headers.get("Location", "")
        assert location.startswith(f"{collector.base}/auth/oidc/callback?error=invalid_request")
        refused = await http.get(location, allow_redirects=False)
        assert refused.status == 403 and "PKCE" in await refused.text()


async def test_a_provider_error_is_shown_and_refused(collector):
    async with browser() as http:
        authorize = await start_sign_in(http, collector)
        state = parse_qs(urlsplit(authorize).query)["state"][0]
        response = await http.get(f"{collector.base}/auth/oidc/callback", allow_redirects=False, params={
            "error": "access_denied", "error_description": "End-User aborted interaction", "state": state,
            "iss": collector.config.oidc.issuer})
        assert response.status == 403 and "access_denied" in await response.text()


async def test_sign_ins_under_way_are_bounded(collector, monkeypatch):
    from shadowmap.collector.console import oidc

    monkeypatch.setattr(oidc, "MAX_PENDING", 3)
    async with browser() as http:
        for _ in range(3):
            await start_sign_in(http, collector)
        response = await http.get(f"{collector.base}/auth/oidc/login", allow_redirects=False)
        assert response.status == 429 and response.headers["Retry-After"] == "60"
    assert await collector.app[STORE].read(sso_accounts.pending_count) == 3


# ---- the ID token's verification ------------------------------------------------------------

async def real_id_token_for_other_app(provider: SimpleNamespace, nonce: str) -> str:
    """A real ID token from the provider, issued to another client (audience other-app)."""
    verifier = secrets.token_urlsafe(48)
    query = urlencode({"response_type": "code", "client_id": "other-app", "scope": "openid email",
                       "redirect_uri": "http://127.0.0.1:9/other/callback", "state": "s", "nonce": nonce,
                       "code_challenge": pkce_challenge(verifier), "code_challenge_method": "S256"})
    async with browser() as http:
        answer = await at_provider(http, f"{provider.issuer}/auth?{query}", "ada", "http://127.0.0.1:9/other/callback")
        code = parse_qs(urlsplit(answer).query)["code"][0]
        response = await http.post(f"{provider.issuer}/token", data={
            "grant_type": "authorization_code", "code": code, "redirect_uri": "http://127.0.0.1:9/other/callback",
            "code_verifier": verifier, "client_id": "other-app", "client_secret": OTHER_SECRET})
        assert response.status == 200, await response.text()
        return str((await response.json())["id_token"])


async def test_an_id_token_issued_to_another_client_is_refused(provider):
    nonce = secrets.token_urlsafe(16)
    token = await real_id_token_for_other_app(provider, nonce)
    client = OidcClient(settings_for(provider))
    try:
        with pytest.raises(OidcError, match="another client"):
            await client.verify_id_token(token, nonce)
        # the same token is good for the client it was issued to
        other = OidcClient(settings_for(provider, client_id="other-app", client_secret=OTHER_SECRET))
        try:
            assert (await other.verify_id_token(token, nonce))["sub"] == "ada"
        finally:
            await other.close()
    finally:
        await client.close()


def _b64(document: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(document).encode()).rstrip(b"=").decode()


# claims changed from a good ID token's, given the time now
CLAIM_CHANGES = {
    "good": lambda now: {},
    "wrong issuer": lambda now: {"iss": "http://localhost:1"},
    "expired": lambda now: {"exp": now - 3600, "iat": now - 4000},
    "issued in the future": lambda now: {"iat": now + 3600},
    "not yet valid": lambda now: {"nbf": now + 3600},
    "wrong nonce": lambda now: {"nonce": "another"},
    "two audiences, no azp": lambda now: {"aud": ["shadowmap", "other-app"]},
}


def forged_token(claims: dict, case: str, key: RSAKey) -> str:
    """A token made another way than the provider would: unsigned, a stranger's key, a key
    id it does not publish, a MAC with the client secret, claims changed after signing."""
    if case == "alg none":
        return f"{_b64({'alg': 'none'})}.{_b64(claims)}."
    if case == "HS256 with the secret":
        body = f"{_b64({'alg': 'HS256'})}.{_b64(claims)}"
        signature = hmac.new(CLIENT_SECRET.encode(), body.encode(), hashlib.sha256).digest()
        return body + "." + base64.urlsafe_b64encode(signature).rstrip(b"=").decode()
    if case == "stranger's key":
        return jwt.encode({"alg": "RS256", "kid": "provider-key-1"}, claims,
                          RSAKey.generate_key(2048, parameters={"kid": "provider-key-1"}, private=True))
    if case == "unknown key id":  # signed by the right key, named as one the provider does not publish
        return jwt.encode({"alg": "RS256", "kid": "provider-key-2"}, claims, key)
    assert case == "tampered claims"
    head, _, signature = jwt.encode({"alg": "RS256", "kid": "provider-key-1"}, claims, key).split(".")
    return ".".join([head, _b64({**claims, "sub": "someone-else"}), signature])


@pytest.mark.parametrize("case", [*CLAIM_CHANGES, "alg none", "stranger's key", "unknown key id",
                                  "HS256 with the secret", "tampered claims"])
async def test_id_tokens_are_verified(provider, case):
    """Tokens made with the provider's own key (the test holds it) or without it, checked
    against the keys the real provider publishes."""
    now, nonce = int(time.time()), "nonce-" + secrets.token_urlsafe(8)
    claims = {"iss": provider.issuer, "sub": "ada", "aud": "shadowmap", "exp": now + 300, "iat": now, "nonce": nonce}
    if case in CLAIM_CHANGES:
        token = jwt.encode({"alg": "RS256", "kid": "provider-key-1"}, {**claims, **CLAIM_CHANGES[case](now)},
                           provider.key)
    else:
        token = forged_token(claims, case, provider.key)
    client = OidcClient(settings_for(provider))
    try:
        if case == "good":
            assert (await client.verify_id_token(token, nonce))["sub"] == "ada"
        else:
            with pytest.raises(OidcError):
                await client.verify_id_token(token, nonce)
    finally:
        await client.close()


# ---- configuration --------------------------------------------------------------------------

async def test_local_passwords_can_be_turned_off(start_collector):
    collector = await start_collector(local_passwords=False)
    async with browser() as http:
        page = await (await http.get(f"{collector.base}/login")).text()
        assert "Sign in with Corp SSO" in page and 'name="password"' not in page
        form = await http.post(f"{collector.base}/login", allow_redirects=False,
                               data={"csrf_token": "x", "username": "admin", "password": ADMIN_PASSWORD})
        assert form.status == 403  # no login CSRF cookie: refused before any password is looked at
        token = http.cookie_jar.filter_cookies(URL(f"{collector.base}/login"))["shadowmap_login_csrf"].value
        form = await http.post(f"{collector.base}/login", allow_redirects=False,
                               data={"csrf_token": token, "username": "admin", "password": ADMIN_PASSWORD})
        assert form.status == 403 and "Passwords are not accepted here" in await form.text()


async def test_the_login_page_offers_the_provider_beside_passwords(collector):
    async with browser() as http:
        page = await (await http.get(f"{collector.base}/login?next=/admin")).text()
        assert 'href="/auth/oidc/login?next=/admin"' in page and "Sign in with Corp SSO" in page
        assert 'name="password"' in page


async def test_without_single_sign_on_its_routes_refuse(aiohttp_client, tmp_path):
    config = CollectorConfig(db_path=tmp_path / "collector.db", admin_password=ADMIN_PASSWORD)
    client = await aiohttp_client(create_app(config))
    for path in ("/auth/oidc/login", "/auth/oidc/callback?state=x&code=y"):
        response = await client.get(path, allow_redirects=False)
        assert response.status == 403 and "not configured" in await response.text()
    assert "Sign in with" not in await (await client.get("/login")).text()


def test_settings_refuse_what_cannot_be_safe(provider):
    from shadowmap.collector.oidc_settings import OidcSettingsError

    for bad in ({"issuer": "http://idp.corp.example"}, {"algorithms": ("none",)}, {"algorithms": ("HS256",)},
                {"role_map": (("g", "root"),)}, {"role_map": ()}, {"scopes": ("email",)}, {"client_secret": ""}):
        with pytest.raises(OidcSettingsError):
            settings_for(provider, **bad)
    assert replace(settings_for(provider)).role_for(["secops", "shadowmap-admins"]) == "admin"


def test_serve_options_make_the_settings_with_the_secret_from_a_file_or_the_environment(tmp_path, monkeypatch):
    import click
    from click.testing import CliRunner

    from shadowmap.collector.oidc_cli import CLIENT_SECRET_ENV, oidc_options

    seen: dict = {}

    @click.command()
    @oidc_options
    def serve(oidc) -> None:
        seen["oidc"] = oidc

    secret_file = tmp_path / "oidc-secret"
    secret_file.write_text("secret-from-the-file\n")
    base = ["--oidc-issuer", "https://idp.corp.example", "--oidc-client-id", "console", "--oidc-role", "secops=analyst"]
    result = CliRunner().invoke(serve, [*base, "--oidc-client-secret-file", str(secret_file), "--no-local-passwords"])
    assert result.exit_code == 0, result.output
    settings = seen["oidc"]
    assert (settings.client_secret, settings.role_map, settings.local_passwords) == (
        "secret-from-the-file", (("secops", "analyst"),), False)
    assert "secret-from-the-file" not in repr(settings)
    monkeypatch.setenv(CLIENT_SECRET_ENV, "secret-from-the-environment")
    assert CliRunner().invoke(serve, base).exit_code == 0
    assert seen["oidc"].client_secret == "secret-from-the-environment"
    assert CliRunner().invoke(serve, []).exit_code == 0 and seen["oidc"] is None
    for bad in (["--oidc-role", "secops=analyst"], [*base, "--oidc-algorithm", "none"], [*base[:4]]):
        result = CliRunner().invoke(serve, bad)
        assert result.exit_code == 2, result.output
