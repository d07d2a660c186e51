"""Issue 16 item 9: `collector serve --tls-cert/--tls-key` serves HTTPS, or behind
`--trusted-proxy CIDR` the collector honours X-Forwarded-Proto/-For from that proxy only;
then the session cookie is Secure and every response carries HSTS."""
from __future__ import annotations

import os
import re
import ssl
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest

from shadowmap.collector.config import CollectorConfig

ADMIN_PASSWORD = "correct horse battery staple"
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("tls")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-keyout", str(folder / "key.pem"), "-out", str(folder / "cert.pem"), "-subj", "/CN=collector",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True, timeout=60)
    return folder / "cert.pem", folder / "key.pem"


async def sign_in(session: aiohttp.ClientSession, base: str, headers: dict | None = None,
                  username: str = "admin", password: str = ADMIN_PASSWORD) -> aiohttp.ClientResponse:
    """Sign in by hand: the login CSRF cookie is sent back as a header (a Secure cookie would
    not be over the plain HTTP a proxy forwards)."""
    page = await session.get(base + "/login", headers=headers)
    token = CSRF_FIELD.search(await page.text()).group(1)
    cookie = page.cookies["shadowmap_login_csrf"].value
    return await session.post(base + "/login", data={"csrf_token": token, "username": username, "password": password},
                              headers={**(headers or {}), "Cookie": f"shadowmap_login_csrf={cookie}"},
                              allow_redirects=False)


async def test_serve_with_tls_sets_secure_cookies_and_hsts(tmp_path, certificate):
    cert, key = certificate
    env = {**os.environ, "SHADOWMAP_ADMIN_PASSWORD": ADMIN_PASSWORD}
    server = subprocess.Popen([sys.executable, "-m", "shadowmap.cli", "collector", "serve", "--db",
                               str(tmp_path / "collector.db"), "--port", "0", "--tls-cert", str(cert),
                               "--tls-key", str(key)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)
    try:
        line = server.stdout.readline()
        assert line.startswith("listening on https://127.0.0.1:"), (line, server.stderr.read() if not line else "")
        base = line.split()[-1]
        trusting = ssl.create_default_context(cafile=str(cert))
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=trusting), cookie_jar=aiohttp.DummyCookieJar()) as session:
            health = await session.get(base + "/healthz")
            assert health.status == 200
            assert health.headers["Strict-Transport-Security"].startswith("max-age=")
            response = await sign_in(session, base)
            assert response.status == 303
            cookie = response.headers.getall("Set-Cookie")
            assert any(c.startswith("shadowmap_session=") and "Secure" in c for c in cookie), cookie
    finally:
        server.terminate()
        server.wait(30)


async def test_trusted_proxy_headers_are_honoured_from_the_proxy_only(aiohttp_client, tmp_path, make):
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}
    trusting = CollectorConfig(db_path=tmp_path / "a" / "collector.db", admin_password=ADMIN_PASSWORD,
                               trusted_proxies=("127.0.0.1/32",))
    client = await make.start_client(aiohttp_client, trusting)
    base = str(client.make_url("")).rstrip("/")
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as session:
        response = await sign_in(session, base, forwarded)
        assert response.status == 303
        assert any("Secure" in c for c in response.headers.getall("Set-Cookie") if c.startswith("shadowmap_session="))
        assert response.headers["Strict-Transport-Security"].startswith("max-age=")

    untrusting = CollectorConfig(db_path=tmp_path / "b" / "collector.db", admin_password=ADMIN_PASSWORD)
    other = await make.start_client(aiohttp_client, untrusting)
    base = str(other.make_url("")).rstrip("/")
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as session:
        response = await sign_in(session, base, forwarded)
        assert response.status == 303
        assert not any("Secure" in c for c in response.headers.getall("Set-Cookie"))
        assert "Strict-Transport-Security" not in response.headers


async def test_forwarded_for_is_the_client_address_only_from_a_trusted_proxy(aiohttp_client, tmp_path, make):
    """Throttling keys on the forwarded address: one client's failures do not lock another out."""
    config = CollectorConfig(db_path=tmp_path / "collector.db", admin_password=ADMIN_PASSWORD,
                             trusted_proxies=("127.0.0.0/8",))
    client = await make.start_client(aiohttp_client, config)
    base = str(client.make_url("")).rstrip("/")
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as session:
        for n in range(12):
            await sign_in(session, base, {"X-Forwarded-For": "198.51.100.1"}, f"guess{n}", "wrong password")
        assert (await sign_in(session, base, {"X-Forwarded-For": "198.51.100.1"})).status == 429
        assert (await sign_in(session, base, {"X-Forwarded-For": "198.51.100.2"})).status == 303
