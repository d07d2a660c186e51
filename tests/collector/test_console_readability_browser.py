"""Every console page with a table, readable at a desktop's 1440 px and a phone's 390 px, in
the real browser (Debian's Chromium through Playwright) against a real `shadowmap collector
serve` process seeded by `make demo`'s seeder (and CI's question about the demo's pull request):
no column narrower than the longest word of its header, no header overflowing, no sideways
scrolling of the page (tests/support/table_readability.py), no serious or critical axe-core
violation (WCAG 2.0-2.2 A/AA) at either width, and at phone width no form control wider than the
screen. A full-page screenshot of each page at each width goes to
tests/collector/artifacts/readable-<page>-<width>.png."""
from __future__ import annotations

import json
import re
import urllib.request
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Page, sync_playwright
from support.processes import start_collector
from support.table_readability import unreadable

from shadowmap.demo import _hash, plan, seed

CHROMIUM = "/usr/lib/chromium/chromium"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
AXE = Path(__file__).resolve().parents[1] / "tooling" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
PASSWORD = "readable tables browser password"
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
WIDTHS = {1440: 900, 390: 844}
# every page that shows a table once the demo week is in (the detail pages are found by their links)
PAGES = ("/alerts", "/alerts?status=any", "/false-positives", "/overview", "/inventory", "/register", "/reports",
         "/unknown-tools", "/sessions", "/sessions/pulls", "/exceptions", "/devices", "/mcp-servers", "/extensions",
         "/admin", "/admin/devices", "/admin/policy", "/admin/org-detectors", "/account/password",
         "/alerts?date_from=bad&tool=Claude", "/alerts/999999")
ERROR_PAGES = {"/alerts?date_from=bad&tool=Claude": 400, "/alerts/999999": 404}  # inside the layout, on purpose
DETAIL_LINKS = {  # page, the link to follow from it: an alert (with evidence), a device, a session
    "alert": ("/alerts?status=any&finding=adhoc_production_data", "table.queue td[data-label=Alert] a"),
    "alert-secret": ("/alerts?status=any&finding=copied_secrets", "table.queue td[data-label=Alert] a"),
    "device": ("/devices", "table#devices td[data-label=Host] a"),
    "device-alerts": ("/devices", "table#devices td[data-label=Alerts] a"),  # the queue with the device filter
    "session": ("/sessions", "main table a[href^='/sessions/']:not([href^='/sessions/pulls'])"),
    "pull": ("/sessions/pulls", "table#pulls td[data-label='Pull request'] a"),  # CI's question below
    "report-weekly": ("/reports", "table.reports tr:nth-child(2) a.report-html"),  # last week: the demo's days
}
# a form control that pokes out of the screen at phone width (the page itself may not scroll: overflow hidden)
OVERFLOWING_CONTROLS = """() => [...document.querySelectorAll('main input, main select, main textarea, main button, header a, header button')]
  .filter(e => e.type !== 'hidden' && e.getClientRects().length)
  .filter(e => { const r = e.getBoundingClientRect(); return r.right > window.innerWidth + 0.5 || r.left < -0.5; })
  .map(e => `${e.tagName.toLowerCase()}[name=${e.name || ''}] ${e.getBoundingClientRect().right.toFixed(0)}px`)"""

pytestmark = pytest.mark.browser


def _post(url: str, body: dict, headers: dict | None = None) -> dict:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json", **(headers or {})})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def _unknown_tool_and_exception_request(url: str, enroll_secret: str) -> None:
    """What the demo week has none of: an unknown AI tool's signal and a user's exception request."""
    enrolled = _post(url + "/api/v1/enroll", {"enroll_secret": enroll_secret, "host_identifier": "readable-lab",
                                              "hostname": "ops-lab-precision-7680", "os": "Linux"})
    ts = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")

    def event(type_: str, data: dict) -> dict:
        return {"schema": "shadowmap.event/1", "id": str(uuid.uuid4()), "type": type_,
                "device_id": enrolled["device_id"], "user": "quinn@acme.example", "ts": ts, "data": data}
    events = [
        event("ai_tool.unknown_signal", {"domain": "chat.internal-llm-playground.example.ai",
                                         "signal": "large_paste_chat_input", "paste_length": 4000,
                                         "input_kind": "textarea", "browser": "chrome"}),
        event("exception.requested", {"scan_id": str(uuid.uuid4()), "tool_id": "chatgpt", "domain": "chatgpt.com",
                                      "data_classes": ["pii", "production"], "channel": "paste", "account_tier": "corporate",
                                      "reason": "Support case 4711: drafting the reply to a customer escalation"})]
    reply = _post(url + "/api/v1/events", {"events": events}, {"Authorization": f"Bearer {enrolled['node_key']}"})
    assert reply["rejected"] == []


def _ci_asks_about_the_demo_pull_request(page: Page, url: str) -> None:
    """What CI's `shadowmap provenance` sends for the demo's merged pull request (acme/payments#42):
    the added lines' hashes, some of them written in the engineers' recorded sessions. Its API token
    is made on the admin page, as an admin would make CI's."""
    page.goto(url + "/admin")
    form = page.locator("form[action='/admin/tokens']")
    form.locator("input[name=name]").fill("ci")
    form.locator("select[name=role]").select_option("viewer")
    form.locator("button[type=submit]").click()
    token = page.locator("#new-token").inner_text().strip()
    engineers = [d.hostname for d in plan() if d.team == "engineering"][:2]
    hashes = [_hash(f"{host}-0-line-{n}")[:32] for host in engineers for n in range(10)]
    answer = _post(url + "/api/v1/provenance", {
        "repo": "github.com/acme/payments", "number": 42, "commit": "a1" * 20,
        "files": [{"path": "payments/retry.py", "hashes": hashes + [f"{n:032x}" for n in range(5)]},
                  {"path": "payments/refund.py", "hashes": [f"{n + 99:032x}" for n in range(8)]}]},
        {"Authorization": f"Bearer {token}"})
    assert answer["ai_lines"] == 20 and len(answer["sessions"]) == 2, answer


def _violations(page: Page) -> list[str]:
    """axe-core's serious and critical WCAG A/AA violations (each width is its own layout)."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG)
    return [f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
            for v in result["violations"] if v["impact"] in ("serious", "critical")]


def _slug(path: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-") or "home"


def _check(page: Page, url: str, name: str, found: dict[str, list[str]], status: int = 200) -> None:
    """The page's tables readable, axe clean and a screenshot, at each width. The weekly report is
    an A4 document (its PDF is made from this HTML), not a console page: its tables are not laid
    out as cards at phone width, so there only axe's scan applies to it."""
    for width, height in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": height})
        response = page.goto(url)
        assert response is not None and response.status == status, url  # the page, not an error page
        assert page.locator("main h1").count() == 1, url
        problems = unreadable(page) if width >= 760 or name != "report-weekly" else []
        page.screenshot(path=str(ARTIFACTS / f"readable-{name}-{width}.png"), full_page=True)
        if width < 760:
            problems += [f"overflows the screen: {c}" for c in page.evaluate(OVERFLOWING_CONTROLS)]
        problems += _violations(page)
        found[f"{name} at {width}"] = problems


def test_every_console_table_is_readable_at_desktop_and_phone_width(tmp_path: Path):
    assert AXE.exists(), "axe-core is missing: npm ci --prefix tests/tooling/axe (make test does it)"
    ARTIFACTS.mkdir(exist_ok=True)
    with start_collector(tmp_path, PASSWORD) as collector, sync_playwright() as pw:
        seed(collector.url, collector.enroll_secret, PASSWORD, tmp_path / "keys.json")
        _unknown_tool_and_exception_request(collector.url, collector.enroll_secret)
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                     args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        try:
            # the console forbids scripts (CSP); only axe's own injection is let through
            page = browser.new_context(bypass_csp=True, viewport={"width": 1440, "height": 900}).new_page()
            page.set_default_timeout(20000)
            page.goto(collector.url + "/login")
            page.fill("input[name=username]", "admin")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url("**/alerts")
            _ci_asks_about_the_demo_pull_request(page, collector.url)
            tables = 0
            found: dict[str, list[str]] = {}
            for path in PAGES:
                _check(page, collector.url + path, _slug(path), found, ERROR_PAGES.get(path, 200))
                tables += page.locator("main table").count()
            for name, (listing, link) in DETAIL_LINKS.items():
                page.set_viewport_size({"width": 1440, "height": 900})
                page.goto(collector.url + listing)
                href = page.locator(link).first.get_attribute("href")
                assert href, f"no {name} link on {listing}"
                _check(page, collector.url + href, name, found)
                tables += page.locator("main table").count()
            assert tables >= 41  # the walk saw the tables (the demo and the two events above fill every page)
            bad = {name: problems for name, problems in found.items() if problems}
            assert not bad, json.dumps(bad, indent=1)
        finally:
            browser.close()
