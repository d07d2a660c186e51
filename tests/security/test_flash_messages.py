"""Issue 16 item 16: the console never shows text taken from the query string. A notice
after an action is signed for the session that made it; `?msg=` made by anyone else (a
link in a phishing mail) shows nothing."""
from __future__ import annotations

from urllib.parse import urlencode

import pytest

PHISH = "Your session expired: call the IT desk at +1 555 0100 and give them your password"


@pytest.mark.parametrize("path", ["/alerts", "/admin", "/register", "/unknown-tools", "/admin/policy",
                                  "/false-positives", "/admin/devices", "/account/password"])
async def test_query_string_text_is_never_rendered(client, console, path):
    await console.sign_in(client, "admin", console.admin_password)
    response = await client.get(path + "?" + urlencode({"msg": PHISH, "sig": "0" * 64}))
    assert response.status == 200
    assert "IT desk" not in await response.text()


async def test_an_action_notice_is_shown_to_its_own_session_only(client, console, aiohttp_client):
    csrf = await console.sign_in(client, "admin", console.admin_password)
    response = await client.post("/admin/accounts", data={"csrf_token": csrf, "username": "frank",
                                                          "password": console.password, "role": "viewer"},
                                 allow_redirects=False)
    assert response.status == 303
    location = response.headers["Location"]
    shown = await client.get(location)
    assert "frank" in await shown.text() and "created" in await shown.text()
    # the same link in another admin's browser shows no notice
    other = await aiohttp_client(client.server)
    await console.sign_in(other, "admin", console.admin_password)
    assert "created" not in await (await other.get(location)).text()
