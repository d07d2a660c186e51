"""The console in the real browser (Debian's Chromium through Playwright) against a real
`shadowmap collector serve` process: sign in, triage an alert end to end, import a register
CSV, open the weekly report from the console, and check that hostile HTML/JS planted in
event fields renders as text and never runs.
Screenshots go to tests/collector/artifacts/."""
from __future__ import annotations

import json
import re
import urllib.request
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Page, sync_playwright
from support.processes import start_collector

CHROMIUM = "/usr/lib/chromium/chromium"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
PASSWORD = "browser test admin password"
# Each canary would set window.__pwned (or open a dialog) if it ever ran.
CANARY_USER = '<script>window.__pwned="user"</script><img src=x onerror="window.__pwned=\'img\'">'
CANARY_HOST = '"><svg onload="window.__pwned=\'host\'">'
CANARY_PROCESS = "<iframe srcdoc='<script>parent.__pwned=1</script>'>"
CANARY_NOTES = "<b onmouseover=alert(1)>bold?</b><script>alert('notes')</script>"

pytestmark = pytest.mark.browser


def _post(url: str, body: dict, headers: dict | None = None) -> dict:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json", **(headers or {})})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def _event(device_id: str, type_: str, data: dict, user: str = "alice") -> dict:
    ts = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return {"schema": "shadowmap.event/1", "id": str(uuid.uuid4()), "type": type_, "device_id": device_id,
            "user": user, "ts": ts, "data": data}


@pytest.fixture
def collector_url(tmp_path: Path):
    """A real collector process on a free loopback port, seeded with hostile events."""
    with start_collector(tmp_path, PASSWORD) as collector:
        url = collector.url
        enrolled = _post(url + "/api/v1/enroll", {"enroll_secret": collector.enroll_secret,
                                                  "host_identifier": "browser-host", "hostname": CANARY_HOST,
                                                  "os": "linux"})
        did = enrolled["device_id"]
        secret_finding = {"entity_type": "AWS_ACCESS_KEY", "data_class": "secret", "count": 1, "score": 0.95,
                          "hashes": ["ab" * 32], "reason": "AWS access key"}
        events = [
            _event(did, "paste.scanned", {"channel": "paste", "tool_id": "chatgpt", "domain": "chatgpt.com",
                                          "data_classes": ["secret"], "findings": [secret_finding],
                                          "action": "block", "reason": "policy"}, user=CANARY_USER),
            _event(did, "ai_tool.observed", {"tool_id": None, "source": "process", "process": CANARY_PROCESS}),
        ]
        reply = _post(url + "/api/v1/events", {"events": events}, {"Authorization": f"Bearer {enrolled['node_key']}"})
        assert reply["rejected"] == []
        yield url


def _assert_nothing_ran(page: Page, dialogs: list) -> None:
    assert page.evaluate("window.__pwned === undefined"), page.evaluate("String(window.__pwned)")
    assert dialogs == []


def _shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"console-{name}.png"), full_page=True)


def test_console_in_a_real_browser(collector_url: str, tmp_path: Path):
    register_csv = tmp_path / "register.csv"
    register_csv.write_text("vendor,dpa_signed,dpa_date,listed,data_classes,retention_days,notes\n"
                            f"OpenAI,yes,2026-01-10,yes,pii,30,\"{CANARY_NOTES.replace(chr(34), chr(34) * 2)}\"\n")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                     args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        try:
            page = browser.new_page()
            dialogs: list = []
            page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
            page.set_default_timeout(10000)

            page.goto(collector_url + "/login")
            page.fill("input[name=username]", "admin")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url("**/alerts")
            table = page.locator("table.alerts")
            assert CANARY_USER in table.inner_text()  # shown as text, exactly
            assert page.locator("table.alerts script, table.alerts img, table.alerts svg").count() == 0
            _assert_nothing_ran(page, dialogs)
            _shot(page, "alerts")

            page.click("table.alerts a:has-text('AI tool with production read access via copied secrets')")
            page.wait_for_url(re.compile(r".*/alerts/\d+$"))
            assert page.locator("#alert-status").inner_text() == "open"
            assert CANARY_HOST in page.locator("table.evidence").inner_text()
            _assert_nothing_ran(page, dialogs)
            page.click("button:has-text('Acknowledge')")
            assert page.locator("#alert-status").inner_text() == "acknowledged"
            page.select_option("select[name=assignee]", "admin")
            page.click("button:has-text('Assign')")
            assert page.locator("#alert-assignee").inner_text() == "admin"
            page.fill("#comment-note", "Key rotated by the owner <script>alert('c')</script>")
            page.click("button:has-text('Add comment')")
            page.fill("#close-reason", "Key rotated")  # closing an alert needs a reason
            page.click("button:has-text('Resolve')")
            assert page.locator("#alert-status").inner_text() == "resolved"
            history = page.locator("ol.log").inner_text()
            assert "Key rotated by the owner <script>alert('c')</script>" in history
            assert [line.split(" admin ", 1)[1].split(":")[0] for line in history.splitlines()] == [
                "acknowledge", "assign", "comment", "resolve"]
            _assert_nothing_ran(page, dialogs)
            _shot(page, "alert-resolved")

            page.goto(collector_url + "/register")
            page.set_input_files("#register-import input[type=file]", str(register_csv))
            page.click("#register-import button[type=submit]")
            page.wait_for_url(re.compile(r".*/register\?msg=.*"))
            assert "imported 1 vendor(s)" in page.locator("p.notice").inner_text()
            row = page.locator("table.register tbody tr").first
            assert CANARY_NOTES in row.inner_text()
            assert page.locator("table.register b, table.register script").count() == 0
            _assert_nothing_ran(page, dialogs)
            _shot(page, "register")

            page.goto(collector_url + "/unknown-tools")
            assert CANARY_PROCESS in page.locator("table.unknown").inner_text()
            assert page.locator("table.unknown iframe").count() == 0
            _assert_nothing_ran(page, dialogs)
            _shot(page, "unknown-tools")

            # the weekly report, reached the way a user would: nav -> Reports -> this week's HTML
            year, week, _ = date.today().isocalendar()
            this_week = f"{year}-W{week:02d}"
            page.click("nav.main a:has-text('Reports')")
            page.wait_for_url("**/reports")
            assert page.locator("table.reports tbody tr td").first.inner_text() == this_week
            page.locator("table.reports a.report-html").first.click()
            page.wait_for_url(re.compile(rf".*/reports/weekly\?week={this_week}&format=html$"))
            assert page.locator("h1").inner_text() == f"Weekly AI sub-processor report — {this_week}"
            rows = page.locator("#week-over-week tbody tr")
            this_week_figures = {rows.nth(i).locator("th").inner_text(): rows.nth(i).locator("td").first.inner_text()
                                 for i in range(rows.count())}
            # one paste to ChatGPT by one user on one laptop; OpenAI is in the imported register, and
            # the secret alert was resolved above, so nothing is open
            assert {label: this_week_figures[label] for label in (
                "AI sub-processors in use", "new this week", "users", "devices",
                "sensitive data reached a vendor (events)", "sensitive data kept back by policy (events)")} == {
                "AI sub-processors in use": "1", "new this week": "1", "users": "1", "devices": "1",
                "sensitive data reached a vendor (events)": "0", "sensitive data kept back by policy (events)": "1"}
            cells = page.locator("#standing th, #standing td").all_inner_texts()
            standing = dict(zip(cells[::2], cells[1::2], strict=True))
            assert standing == {"sub-processors not in the register": "0", "no DPA on file": "0",
                                "retention exceeds policy": "0", "open findings (all)": "0",
                                # the laptop pasted but sent no heartbeat: coverage counts heartbeats
                                "devices reporting": "0 of 1", "silent devices": "1"}
            openai = page.locator("#vendors tbody tr").first
            assert [openai.locator("td").nth(i).inner_text() for i in (0, 1, 2, 3, 5)] == [
                "OpenAI new", "ChatGPT", "1", "1", "1"]
            kept_back = page.locator("#data-classes tbody tr").first
            assert kept_back.locator("td").nth(2).inner_text() == "secret: 1"
            register_row = page.locator("#register tbody tr").first
            assert [register_row.locator("td").nth(i).inner_text() for i in (0, 1, 2, 3)] == [
                "OpenAI", "yes", "yes", "yes, signed 2026-01-10"]
            assert page.locator("figure svg").count() >= 2  # the charts, inline SVG from matplotlib
            _assert_nothing_ran(page, dialogs)
            _shot(page, "weekly-report")
        finally:
            browser.close()
