"""Login, sessions, CSRF and the alerts page, through the real server."""
from __future__ import annotations

import re

from support.db_rows import rows

from shadowmap.collector.console.auth import LOGIN_CSRF_COOKIE
from shadowmap.collector.principals import SESSION_COOKIE, sha256_hex

CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


async def login_form_token(client) -> str:
    response = await client.get("/login")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/html")
    return CSRF_FIELD.search(await response.text()).group(1)


async def log_in(client, config, password: str | None = None):
    token = await login_form_token(client)
    return await client.post("/login", allow_redirects=False, data={
        "csrf_token": token, "username": config.admin_username,
        "password": config.admin_password if password is None else password})


async def test_root_redirects_to_the_overview_and_alerts_requires_login(client):
    response = await client.get("/", allow_redirects=False)
    assert response.status == 302 and response.headers["Location"] == "/overview"
    response = await client.get("/alerts", allow_redirects=False)
    assert response.status == 302 and response.headers["Location"].startswith("/login?next=")  # back here after


async def test_wrong_password_and_unknown_user_are_refused(client, config):
    response = await log_in(client, config, password="not the password")
    assert response.status == 401
    assert "Wrong username or password" in await response.text()
    assert SESSION_COOKIE not in response.cookies
    token = await login_form_token(client)
    response = await client.post("/login", data={"csrf_token": token, "username": "mallory", "password": "x"},
                                 allow_redirects=False)
    assert response.status == 401
    assert (await client.get("/alerts", allow_redirects=False)).status == 302


async def test_login_works_and_sets_a_hardened_session_cookie(client, config):
    response = await log_in(client, config)
    assert response.status == 303 and response.headers["Location"] == "/alerts"
    set_cookie = next(v for v in response.headers.getall("Set-Cookie") if v.startswith(SESSION_COOKIE + "="))
    assert "HttpOnly" in set_cookie and "SameSite=Strict" in set_cookie and "Path=/" in set_cookie
    assert "Secure" not in set_cookie  # plain http on loopback; https requests get Secure
    page = await client.get("/alerts")
    assert page.status == 200
    html = await page.text()
    assert "No active alerts" in html and "Sign out" in html
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]
    # only a hash of the session token is stored
    token = response.cookies[SESSION_COOKIE].value
    assert rows(config.db_path, "SELECT token_hash FROM sessions") == [{"token_hash": sha256_hex(token)}]
    # the stored password is an argon2id hash
    [account] = rows(config.db_path, "SELECT username, password_hash, role FROM accounts")
    assert account["username"] == "admin" and account["role"] == "admin"
    assert account["password_hash"].startswith("$argon2id$")


async def test_login_without_or_with_wrong_csrf_is_403(client, config):
    form = {"username": config.admin_username, "password": config.admin_password}
    response = await client.post("/login", data=form, allow_redirects=False)
    assert response.status == 403
    await login_form_token(client)  # sets the cookie, but the form below carries another token
    response = await client.post("/login", data={**form, "csrf_token": "forged"}, allow_redirects=False)
    assert response.status == 403
    client.session.cookie_jar.clear()
    response = await client.post("/login", data={**form, "csrf_token": "forged"}, allow_redirects=False,
                                 headers={"Cookie": f"{LOGIN_CSRF_COOKIE}=other"})
    assert response.status == 403
    assert (await client.get("/alerts", allow_redirects=False)).status == 302


async def test_logout_requires_csrf_and_ends_the_session(client, config):
    await log_in(client, config)
    page = await client.get("/alerts")
    token = CSRF_FIELD.search(await page.text()).group(1)
    response = await client.post("/logout", data={}, allow_redirects=False)
    assert response.status == 403
    assert (await client.get("/alerts", allow_redirects=False)).status == 200
    response = await client.post("/logout", data={"csrf_token": token}, allow_redirects=False)
    assert response.status == 303 and response.headers["Location"] == "/login"
    assert (await client.get("/alerts", allow_redirects=False)).status == 302


async def test_script_in_an_event_field_is_escaped_in_the_page(client, config, device, make):
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    event = make.paste(device["device_id"], user=evil)
    response = await client.post("/api/v1/events", json={"events": [event]}, headers=device["headers"])
    assert (await response.json())["acked"] == [event["id"]]
    await log_in(client, config)
    html = await (await client.get("/alerts")).text()
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;" in html
    assert "AI tool with production read access via copied secrets" in html
    assert "AWS access key" in html and "laptop-1" in html  # entity type and host in words


async def test_alerts_listed_newest_first_via_session(client, config, device, make):
    await make.approve_vendors(client, "OpenAI")
    did = device["device_id"]
    events = [make.paste(did, user="old", ts="2026-01-01T00:00:00Z"),
              make.paste(did, user="new", ts="2026-03-01T00:00:00Z"),
              make.paste(did, user="mid", ts="2026-02-01T00:00:00Z")]
    await client.post("/api/v1/events", json={"events": events}, headers=device["headers"])
    await log_in(client, config)
    html = await (await client.get("/alerts")).text()
    assert html.index(">new<") < html.index(">mid<") < html.index(">old<")
    response = await client.get("/api/v1/alerts")  # the session also opens the JSON API
    assert [a["user"] for a in (await response.json())["alerts"]] == ["new", "mid", "old"]


async def test_stylesheet_is_served(client):
    response = await client.get("/static/style.css")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/css")
