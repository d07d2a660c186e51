"""The overview page (the console's home) on a real collector: the first-run checklist on an
empty collector, then each item ticked as its fact appears; open alerts by severity, the
riskiest users and tools, register gaps and coverage from events sent through the real API."""
from __future__ import annotations

import re

from shadowmap.collector.state import STORE
from shadowmap.collector.store.sqlite.teams import replace_mapping


def checklist(html: str) -> dict[str, str]:
    return dict(re.findall(r'data-key="(\w+)" data-done="(yes|no)"', html))


async def test_root_lands_on_the_overview(client, console):
    await console.sign_in(client, "admin", console.admin_password)
    response = await client.get("/", allow_redirects=False)
    assert response.headers["Location"] == "/overview"
    page = await client.get("/overview")
    assert page.status == 200 and 'aria-current="page">Overview' in await page.text()


async def test_an_empty_collector_says_what_to_do_next(client, console):
    await console.sign_in(client, "admin", console.admin_password)
    html = await (await client.get("/overview")).text()
    assert "Get started: nothing has reached this collector yet" in html
    assert checklist(html) == {key: "no" for key in ("device", "extension", "teams", "register", "retention", "github")}
    assert "No alert raised in the last 30 days." in html and "/overview/trend.svg" not in html


async def test_the_overview_shows_alerts_risk_gaps_and_coverage(client, console, device, make):
    await console.sign_in(client, "admin", console.admin_password)
    leak = make.paste(device["device_id"], user="dave", action="allow", tool_id="chatgpt", domain="chatgpt.com")
    await console.post_events(client, device, [make.heartbeat(device["device_id"]), leak,
                                               make.observed(device["device_id"], user="erin")])
    await client.app[STORE].write(lambda db: replace_mapping(db, [("user", "dave", "operations")]))
    response = await client.get("/overview")
    html = await response.text()
    assert "img-src 'self'" in response.headers["Content-Security-Policy"]
    assert checklist(html) == {"device": "yes", "extension": "yes", "teams": "yes", "register": "no",
                               "retention": "no", "github": "no"}
    assert "Finish setting up" in html
    open_alerts = dict(re.findall(r'sev-(\w+)">\w+</span></th>\s*<td data-label="Open" class="num"><a [^>]*>(\d+)</a>', html))
    assert int(open_alerts["critical"]) >= 1
    users = re.search(r'id="riskiest-users".*?</table>', html, re.S).group(0)
    assert "dave" in users and "operations" in re.search(r'id="riskiest-teams".*?</table>', html, re.S).group(0)
    assert "ChatGPT" in re.search(r'id="riskiest-tools".*?</table>', html, re.S).group(0)
    gaps = re.search(r'id="register-gaps".*?</table>', html, re.S).group(0)
    assert "OpenAI" in gaps and "not in the register" in gaps and "Anthropic" in gaps
    assert "1 of 1 enrolled devices sent a heartbeat" in html and "0.1.0 (1)" in html
    chart = await client.get("/overview/trend.svg")
    assert chart.status == 200 and chart.content_type == "image/svg+xml" and "<svg" in await chart.text()
    # the register filled, the gap goes
    await make.approve_vendors(client, "OpenAI", "Anthropic")
    html = await (await client.get("/overview")).text()
    assert checklist(html)["register"] == "yes" and 'id="register-gaps"' not in html


async def test_the_overview_needs_a_session(client):
    response = await client.get("/overview", allow_redirects=False)
    assert response.status in (302, 303) and response.headers["Location"].startswith("/login")
    assert (await client.get("/overview/trend.svg", allow_redirects=False)).status in (302, 303, 401)
