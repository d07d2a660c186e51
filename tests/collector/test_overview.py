"""The overview page (the console's home) on a real collector: the first-run checklist on an
empty collector, then each item ticked as its fact appears; open alerts by severity, the
riskiest users and tools, register gaps and coverage from events sent through the real API."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

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


# ---- the figures, computed here from what was sent ------------------------------------------

NAMES = {"chatgpt": "ChatGPT", "gemini": "Gemini", "perplexity": "Perplexity", "cursor": "Cursor"}
DOMAINS = {"chatgpt": "chatgpt.com", "gemini": "gemini.google.com", "perplexity": "perplexity.ai",
           "cursor": "cursor.com"}


def severity_rows(html: str) -> dict[str, tuple[int, ...]]:
    """severity -> (open, no owner, raised last 7 days, prior 7 days, last 30 days)."""
    table = re.search(r'<table class="overview-severities" id="open-alerts">.*?</table>', html, re.S).group(0)
    rows = {}
    for row in re.findall(r"<tr><th data-label=\"Severity\".*?</tr>", table, re.S):
        severity = re.search(r'sev-(\w+)"', row).group(1)
        cells = [re.sub(r"<[^>]+>", "", cell) for cell in re.findall(r'<td data-label="[^"]+" class="num">(.*?)</td>', row)]
        rows[severity] = tuple(int(cell) for cell in cells)
    return rows


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def linear_percentile(values: list[float], share: float) -> float:
    """The percentile by linear interpolation between the closest ranks (numpy's default,
    Excel's PERCENTILE.INC)."""
    ordered = sorted(values)
    position = share * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (position - low) * (ordered[high] - ordered[low])


async def test_trend_new_tools_and_time_to_resolve_match_what_was_sent(client, console, device, make):
    """One user per alert, so each paste raises its own: secrets that reached ChatGPT
    (critical) and secrets that were blocked (medium), first seen a known number of days
    ago; tools first used at known days; four alerts resolved. The overview's figures are
    worked out here from those times."""
    await make.approve_vendors(client, "OpenAI", "Google", "Perplexity AI", "Anysphere")
    now = datetime.now(UTC)
    half_hour = timedelta(minutes=30)
    pastes = [("critical", days, "allow") for days in (0, 2, 6, 7, 10, 13, 14, 25, 35)]
    pastes += [("medium", days, "block") for days in (1, 8, 29)]
    sent = []  # (user, severity, first seen)
    events = []
    for n, (severity, days, action) in enumerate(pastes):
        seen = now - timedelta(days=days) - half_hour
        user = f"user{n}"
        sent.append((user, severity, seen))
        events.append(make.paste(device["device_id"], user=user, action=action, ts=iso(seen)))
    tools_used = [("gemini", 7), ("perplexity", 6), ("cursor", 3), ("perplexity", 1), ("chatgpt", 0)]
    for tool_id, days in tools_used:
        events.append(make.observed(device["device_id"], user="dana", ts=iso(now - timedelta(days=days) - half_hour),
                                    data={"tool_id": tool_id, "source": "extension", "domain": DOMAINS[tool_id],
                                          "browser": "chrome"}))
    await console.post_events(client, device, events)
    csrf = await console.sign_in(client, "admin", console.admin_password)

    # resolve four alerts: the ones first seen 1, 2, 6 and 10 days ago
    ids = {}
    for user, _, _ in sent:
        html = await (await client.get(f"/alerts?status=any&user={user}")).text()
        [ids[user]] = re.findall(r'<a href="/alerts/(\d+)">[^<]*</a> <span class="id">', html)
    to_close = [(user, seen) for (user, _, seen), (_, days, _) in zip(sent, pastes, strict=True) if days in (1, 2, 6, 10)]
    for user, _ in to_close:
        response = await client.post(f"/alerts/{ids[user]}/triage", data={
            "csrf_token": csrf, "action": "resolve", "note": "key rotated"}, allow_redirects=False)
        assert response.status == 303
    closed_at = datetime.now(UTC)
    html = await (await client.get("/overview")).text()
    today = datetime.now(UTC).date()

    # raised per severity: last 7 days (today and the 6 before), the 7 before those, last 30
    expected: dict[str, list[int]] = {}
    closed_users = {user for user, _ in to_close}
    for user, severity, seen in sent:
        age = (today - seen.date()).days
        counts = expected.setdefault(severity, [0, 0, 0, 0, 0])
        if user not in closed_users:
            counts[0] += 1                   # open
            counts[1] += 1                   # nobody assigned
        counts[2] += age <= 6
        counts[3] += 7 <= age <= 13
        counts[4] += age <= 29
    rows = severity_rows(html)
    for severity in ("critical", "medium"):
        assert rows[severity] == tuple(expected[severity]), severity
    if (now - half_hour).date() == today:  # not in the day's first half hour: each paste on the day it names
        assert rows["critical"][2:] == (3, 3, 8) and rows["medium"][2:] == (1, 1, 3)
    assert all(rows[severity] == (0, 0, 0, 0, 0) for severity in ("high", "low", "info"))

    # new tools: first used in the last 7 days, newest first
    first_day: dict[str, str] = {}
    for tool_id, days in tools_used:
        day = (now - timedelta(days=days) - half_hour).date().isoformat()
        first_day[tool_id] = min(first_day.get(tool_id, day), day)
    first_day["chatgpt"] = min(first_day["chatgpt"], *(seen.date().isoformat() for _, _, seen in sent))
    recent = (today - timedelta(days=6)).isoformat()
    new = sorted((day, tool) for tool, day in first_day.items() if day >= recent)
    new.sort(key=lambda t: t[0], reverse=True)  # newest day first, tools of one day by id
    listed = re.findall(r'<li>([^<]+) <span class="hint">first used ([\d-]+)</span></li>',
                        re.search(r'<ul id="new-tools">.*?</ul>', html, re.S).group(0))
    assert listed == [(NAMES[tool], day) for day, tool in new]
    if (now - half_hour).date() == today:  # in the day's first half hour Perplexity's first use is 7 days back
        assert [name for name, _ in listed] == ["Cursor", "Perplexity"]

    # time to resolve: from first seen to closed, median and 90th percentile, in hours
    hours = [(closed_at - seen).total_seconds() / 3600 for _, seen in to_close]
    median = (sorted(hours)[1] + sorted(hours)[2]) / 2
    text = re.sub(r"\s+", " ", re.search(r'<p id="time-to-resolve">(.*?)</p>', html, re.S).group(1))
    assert text == (f"4 alerts closed in the last 30 days; median {median:.1f} h, 90th percentile "
                    f"{linear_percentile(hours, 0.9):.1f} h from first seen to closed.")
