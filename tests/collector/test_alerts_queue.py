"""The alerts queue and the alert page over the real server: active by default, sorted by
severity then last seen, real pages with a true total, filters (user, assignee, mine, free
text, tool by name) with their errors inline and the others kept, bulk actions (CSRF),
CSV export, the one-line summary and evidence, reasons to close, suppression rules,
errors inside the layout, and sign-in returning to the page asked for."""
from __future__ import annotations

import csv
import io
import re
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest

from shadowmap.collector.alerts.findings import BY_ID
from shadowmap.collector.alerts.runbooks import runbooks
from shadowmap.collector.state import STORE

ALERT_LINK = re.compile(r'<a href="/alerts/(\d+)">[^<]*</a> <span class="id">')
TOTAL = re.compile(r'<span class="total">(\d+) alerts?</span>')


@pytest.fixture
async def seeded(client, config, make, console) -> dict:
    """Approved vendors; 3 users x 2 tools x 2 findings (blocked secrets, allowed personal data),
    and gina's 5 warned secret pastes (3 sent anyway with a justification and a file, 1
    cancelled, 1 undecided): 13 alerts, all on ops-dave-xps."""
    await make.approve_vendors(client, "OpenAI", "Anthropic")
    hosts = {}
    for host in ("ops-dave-xps", "fin-erin-mbp"):
        enrolled = await make.enroll(client, config, host)
        enrolled["headers"] = {"Authorization": f"Bearer {enrolled['node_key']}"}
        hosts[host] = enrolled
    # enrolled as laptop-1: give each its own host name
    await client.app[STORE].write(lambda db: [db.execute("UPDATE devices SET hostname = ? WHERE device_id = ?",
                                                         (host, enrolled["device_id"]))
                                              for host, enrolled in hosts.items()])
    events = []
    dave = hosts["ops-dave-xps"]
    n = 0
    for user in ("dave", "erin", "frank"):
        for tool_id, domain in (("chatgpt", "chatgpt.com"), ("claude", "claude.ai")):
            n += 1
            events.append(make.paste(dave["device_id"], user=user, tool_id=tool_id, domain=domain,
                                     action="block", ts=f"2026-03-0{n % 9 + 1}T10:00:00Z"))
            events.append(make.paste(dave["device_id"], user=user, tool_id=tool_id, domain=domain, action="allow",
                                     findings=[make.finding("EMAIL_ADDRESS", "pii")],
                                     ts=f"2026-03-0{n % 9 + 1}T11:00:00Z"))
    sent = [make.paste(dave["device_id"], user="gina", action="warn", findings=[make.finding("AWS_SECRET_KEY")],
                       ts="2026-03-09T12:00:00Z") for _ in range(5)]
    for scan in sent[:3]:
        scan["data"]["files"] = [{"name": "prod.env", "size": 120, "read": True}]
    await console.post_events(client, dave, events + sent)
    decisions = []
    for index, scan in enumerate(sent[:4]):
        data = {"scan_id": scan["id"], "decision": "send_anyway" if index < 3 else "cancel",
                "tool_id": "chatgpt", "domain": "chatgpt.com", "channel": "paste"}
        if index < 3:
            data["justification"] = "incident INC-42, key already rotated"
        decisions.append({**scan, "id": str(uuid.uuid4()), "type": "paste.override", "data": data})
    await console.post_events(client, dave, decisions)
    return hosts


async def page(client, query: str = "") -> tuple[int, str]:
    response = await client.get("/alerts" + query)
    return response.status, await response.text()


async def test_the_queue_defaults_to_active_sorted_by_severity_with_a_true_total(client, seeded, console, config):
    csrf = await console.sign_in(client, "admin", console.admin_password)
    status, html = await page(client)
    assert status == 200
    assert TOTAL.search(html).group(1) == "13"
    severities = re.findall(r'<td data-label="Severity"><span class="sev sev-(\w+)">', html)
    assert severities == sorted(severities, key=["critical", "high", "medium", "low", "info"].index)
    assert severities[0] == "critical"  # the secret sent after warning; blocked ones are medium
    # then by last seen, newest first, within each severity
    last_seen = re.findall(r'<td data-label="Last seen"><time datetime="([^"]+)"', html)
    rows = list(zip(severities, last_seen, strict=True))
    for severity in set(severities):
        times = [seen for s, seen in rows if s == severity]
        assert times == sorted(times, reverse=True), severity
    assert len({seen for s, seen in rows if s == "medium"}) > 1  # the second key has something to order
    assert "ops-dave-xps" in html and "ChatGPT" in html and "Claude" in html
    shown = re.sub(r"<[^>]+>", " ", html)  # what people read (machine times stay in datetime="")
    assert ".000000Z" not in shown and "T10:00" not in shown
    # close one: it leaves the default (active) list, not "any"
    first = int(ALERT_LINK.findall(html)[-1])
    await client.post(f"/alerts/{first}/triage", data={"csrf_token": csrf, "action": "resolve", "note": "done"})
    assert TOTAL.search((await page(client))[1]).group(1) == "12"
    assert TOTAL.search((await page(client, "?status=any"))[1]).group(1) == "13"


async def test_pages_sorting_and_filters(client, seeded, console):
    await console.sign_in(client, "admin", console.admin_password)
    import shadowmap.collector.console.alerts as queue_module
    size = queue_module.PAGE_SIZE
    queue_module.PAGE_SIZE = 5
    try:
        _, first = await page(client)
        _, third = await page(client, "?page=3")
        assert len(ALERT_LINK.findall(first)) == 5 and len(ALERT_LINK.findall(third)) == 3
        assert "Page 3 of 3" in third and TOTAL.search(third).group(1) == "13"
        seen = set(ALERT_LINK.findall(first))
        _, second = await page(client, "?page=2")
        assert not seen & set(ALERT_LINK.findall(second))
    finally:
        queue_module.PAGE_SIZE = size
    _, by_user = await page(client, "?sort=user&dir=asc")
    users = re.findall(r'<td data-label="User"><a href="[^"]*">(\w+)</a>', by_user)
    assert users == sorted(users)
    for query, expected in (("?tool=ChatGPT", 7), ("?tool=chatgpt.com", 7), ("?user=erin", 4), ("?text=ops-dave", 13),
                            ("?text=aws_secret", 1), ("?text=email", 6), ("?assignee=-", 13), ("?mine=1", 0)):
        _, html = await page(client, query)
        assert len(ALERT_LINK.findall(html)) == expected, query


async def test_a_bad_filter_is_shown_inline_with_the_others_kept_and_lists_nothing(client, seeded, console):
    await console.sign_in(client, "admin", console.admin_password)
    status, html = await page(client, "?severity=urgent&user=erin&tool=ChatGPT&page=x")
    assert status == 400
    assert ALERT_LINK.findall(html) == []  # never every alert
    assert 'id="err-severity"' in html and 'aria-invalid="true"' in html and "page must be" in html
    assert 'name="user" value="erin"' in html and 'name="tool" value="ChatGPT"' in html
    assert "<script>" not in (await page(client, "?severity=<script>"))[1]


async def test_bulk_actions_need_csrf_and_a_reason_to_resolve(client, seeded, console):
    await console.add_account(client, "ana", "analyst")
    csrf = await console.sign_in(client, "ana")
    ids = ALERT_LINK.findall((await page(client, "?user=erin"))[1])
    form = [("alert_id", i) for i in ids] + [("back", "?user=erin")]
    assert (await client.post("/alerts/bulk", data=[*form, ("action", "acknowledge")])).status == 403  # no CSRF
    ok = await client.post("/alerts/bulk", data=[*form, ("action", "acknowledge"), ("csrf_token", csrf)],
                           allow_redirects=False)
    assert ok.status == 303 and ok.headers["Location"].startswith("/alerts?user=erin&msg=")
    html = (await page(client, "?user=erin"))[1]
    assert html.count('class="status status-acknowledged"') == 4
    no_reason = await client.post("/alerts/bulk", data=[*form, ("action", "resolve"), ("csrf_token", csrf)])
    assert no_reason.status == 400 and "reason" in await no_reason.text()
    assert "text/html" in no_reason.headers["Content-Type"] and '<nav class="main"' in await no_reason.text()
    await client.post("/alerts/bulk", data=[*form, ("action", "assign"), ("assignee", "ana"), ("csrf_token", csrf)])
    assert len(ALERT_LINK.findall((await page(client, "?mine=1"))[1])) == 4
    await client.post("/alerts/bulk", data=[*form, ("action", "resolve"), ("note", "talked to erin"),
                                            ("csrf_token", csrf)])
    assert ALERT_LINK.findall((await page(client, "?user=erin"))[1]) == []


async def test_csv_export_follows_the_filters_and_is_not_a_formula(client, seeded, console, config, make):
    await console.sign_in(client, "admin", console.admin_password)
    response = await client.get("/alerts.csv?tool=ChatGPT&status=any")
    assert response.status == 200 and response.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(await response.text())))
    assert len(rows) == 7 and {r["tool"] for r in rows} == {"ChatGPT"}
    assert all(r["hosts"] == "ops-dave-xps" for r in rows)
    assert make.count_rows(config.db_path, "record_entries", "kind = 'read' AND subject = 'export:alerts'") == 1


async def test_the_page_says_when_the_csv_export_is_cut_short(client, seeded, console, config, make, monkeypatch):
    import shadowmap.collector.console.alerts as queue_module

    await console.sign_in(client, "admin", console.admin_password)
    _, html = await page(client, "?status=any")
    assert 'id="export-cap"' not in html  # 13 alerts: all of them are exported
    monkeypatch.setattr(queue_module, "EXPORT_LIMIT", 5)
    _, html = await page(client, "?status=any")
    notice = re.search(r'<p class="notice" id="export-cap" role="status">([^<]+)</p>', html)
    assert notice and "the first 5 of these 13 alerts" in notice.group(1)
    response = await client.get("/alerts.csv?status=any")
    rows = list(csv.DictReader(io.StringIO(await response.text())))
    assert response.headers["X-Shadowmap-Rows"] == "5 of 13"
    assert [r["id"] for r in rows] == ALERT_LINK.findall(html)[:5]  # the first five in the queue's order
    [read] = make.select_rows(config.db_path, "SELECT detail FROM record_entries WHERE kind = 'read' "
                                              "AND subject = 'export:alerts'")
    assert '"matching":13' in read["detail"].replace(" ", "") and '"rows":5' in read["detail"].replace(" ", "")
    _, narrowed = await page(client, "?status=any&user=erin")
    assert 'id="export-cap"' not in narrowed  # 4 alerts fit


async def test_the_alert_page_explains_itself(client, seeded, console):
    await console.sign_in(client, "admin", console.admin_password)
    [alert_id] = ALERT_LINK.findall((await page(client, "?text=aws_secret"))[1])
    html = await (await client.get(f"/alerts/{alert_id}")).text()
    summary = re.search(r'<p class="alert-summary" id="alert-summary">([^<]*)</p>', html).group(1)
    assert summary == ("5 AWS secret key pastes into ChatGPT on ops-dave-xps, 3 sent after warning, "
                       "1 cancelled after warning, 1 awaiting decision")
    assert "incident INC-42, key already rotated" in html and "prod.env" in html
    assert "What to do" in html and "Rotate or revoke" in html  # the runbook
    assert "['" not in html and "True" not in html  # lists and booleans as text


async def test_closing_needs_a_reason_and_a_false_positive_can_suppress(client, seeded, console, config, make):
    csrf = await console.sign_in(client, "admin", console.admin_password)
    [alert_id] = ALERT_LINK.findall((await page(client, "?user=frank&tool=claude&finding=adhoc_production_data"))[1])
    url = f"/alerts/{alert_id}/triage"
    for action in ("resolve", "false_positive"):
        response = await client.post(url, data={"csrf_token": csrf, "action": action, "note": "  "})
        assert response.status == 400 and "reason" in await response.text()
    response = await client.post(url, data={"csrf_token": csrf, "action": "false_positive", "note": "test fixture",
                                            "suppress": "1"}, allow_redirects=False)
    assert response.status == 303
    assert "Suppressed" in await (await client.get(f"/alerts/{alert_id}")).text()
    before = make.count_rows(config.db_path, "alerts")
    dave = seeded["ops-dave-xps"]
    await console.post_events(client, dave, [make.paste(dave["device_id"], user="frank", tool_id="claude",
                                                        domain="claude.ai", action="allow",
                                                        findings=[make.finding("EMAIL_ADDRESS", "pii")])])
    assert make.count_rows(config.db_path, "alerts") == before  # silenced: no new alert
    html = await (await client.get("/false-positives")).text()
    rule_id = re.search(r'action="/suppressions/(\d+)/remove"', html).group(1)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    assert (await client.post(f"/suppressions/{rule_id}/remove", data={"csrf_token": csrf},
                              allow_redirects=False)).status == 303
    await console.post_events(client, dave, [make.paste(dave["device_id"], user="frank", tool_id="claude",
                                                        domain="claude.ai", action="allow",
                                                        findings=[make.finding("EMAIL_ADDRESS", "pii")])])
    assert make.count_rows(config.db_path, "alerts") == before + 1


async def test_errors_render_inside_the_layout_and_login_returns_to_the_page(client, seeded, console):
    response = await client.get("/alerts?user=erin&status=any", allow_redirects=False)
    assert response.status == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/login" and parse_qs(location.query) == {"next": ["/alerts?user=erin&status=any"]}
    login = await (await client.get(response.headers["Location"])).text()
    token = re.search(r'name="csrf_token" value="([^"]+)"', login).group(1)
    assert 'name="next" value="/alerts?user=erin&amp;status=any"' in login
    signed = await client.post("/login", allow_redirects=False, data={
        "csrf_token": token, "username": "admin", "password": console.admin_password,
        "next": "/alerts?user=erin&status=any"})
    assert signed.headers["Location"] == "/alerts?user=erin&status=any"
    for path in ("/alerts/999999", "/no-such-page", "/alerts/abc"):
        response = await client.get(path)
        html = await response.text()
        assert response.status == 404 and response.headers["Content-Type"].startswith("text/html"), path
        assert '<nav class="main"' in html and 'href="#main"' in html, path
    # an outside or odd "next" goes to the alerts instead
    client.session.cookie_jar.clear()
    for bad in ("//evil.example/x", "https://evil.example", "/\\evil.example", "javascript:alert(1)"):
        page_html = await (await client.get("/login")).text()
        token = re.search(r'name="csrf_token" value="([^"]+)"', page_html).group(1)
        response = await client.post("/login", allow_redirects=False, data={
            "csrf_token": token, "username": "admin", "password": console.admin_password, "next": bad})
        assert response.headers["Location"] == "/alerts", bad
        client.session.cookie_jar.clear()
    # the API keeps its JSON errors
    api = await client.get("/api/v1/alerts")
    assert api.status == 401 and api.headers["Content-Type"].startswith("application/json")


def test_every_finding_has_a_runbook():
    assert set(runbooks()) == set(BY_ID)
    assert all(book.goal and len(book.steps) >= 2 for book in runbooks().values())
