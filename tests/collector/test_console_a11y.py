"""Accessibility of the console's alert pages and its layout: axe-core (the npm package,
pinned in tests/tooling/axe) run in the real Chromium over the queue, a filter error, an
alert page, the false positives and suppression rules, an error page and the sign-in page,
and every other page, against WCAG 2.0-2.2 A and AA: no serious or critical violation. Then the keyboard: the
skip link comes first and lands on the content, the current page is marked."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, sync_playwright
from support.alert_seed import seed
from support.processes import start_collector

CHROMIUM = "/usr/lib/chromium/chromium"
AXE = Path(__file__).resolve().parents[1] / "tooling" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
PASSWORD = "accessibility admin password"
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
BLOCKING = {"serious", "critical"}
# the console's other pages (the devices, MCP servers and extensions pages have their own test)
EVERY_OTHER_PAGE = ("/overview", "/inventory", "/register", "/reports", "/unknown-tools", "/sessions", "/admin",
                    "/admin/devices", "/admin/policy", "/account/password")

pytestmark = pytest.mark.browser


def _violations(page: Page) -> list[str]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG)
    assert any(rule["id"] == "color-contrast" for rule in result["passes"] + result["violations"])  # it looked
    return [f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
            for v in result["violations"] if v["impact"] in BLOCKING]


@pytest.fixture
def collector_url(tmp_path: Path):
    assert AXE.exists(), "axe-core is missing: npm ci --prefix tests/tooling/axe (make test does it)"
    with start_collector(tmp_path, PASSWORD) as collector:
        seed(collector.url, collector.enroll_secret)
        yield collector.url


def test_the_alert_pages_have_no_serious_or_critical_axe_violations(collector_url: str):
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                     args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        try:
            # the console forbids scripts (CSP); only axe's own injection is let through
            page = browser.new_context(bypass_csp=True, viewport={"width": 1280, "height": 900}).new_page()
            page.set_default_timeout(15000)
            found: dict[str, list[str]] = {}
            page.goto(collector_url + "/login")
            found["/login"] = _violations(page)
            page.fill("input[name=username]", "admin")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url("**/alerts")
            alert_id = re.search(r"/alerts/(\d+)", page.locator("table.queue td[data-label=Alert] a").first
                                 .get_attribute("href")).group(1)
            for path in ("/alerts", "/alerts?status=any&sort=user&dir=asc&page=2", "/alerts?date_from=bad&tool=Claude",
                         f"/alerts/{alert_id}", f"/alerts/{alert_id}?all=1", "/false-positives", "/alerts/999999",
                         *EVERY_OTHER_PAGE):
                page.goto(collector_url + path)
                found[path] = _violations(page)
            page.set_viewport_size({"width": 390, "height": 844})
            page.goto(collector_url + "/alerts")
            found["/alerts at 390 px"] = _violations(page)
            assert {path: v for path, v in found.items() if v} == {}
        finally:
            browser.close()


def test_keyboard_skip_link_and_current_page(collector_url: str):
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page()
            page.goto(collector_url + "/login")
            page.fill("input[name=username]", "admin")
            page.fill("input[name=password]", PASSWORD)
            page.keyboard.press("Enter")  # the form is sent from the keyboard
            page.wait_for_url("**/alerts")
            page.keyboard.press("Tab")
            focused = page.evaluate("document.activeElement.className + '|' + document.activeElement.innerText")
            assert focused == "skip-link|Skip to content"
            assert page.locator(".skip-link").is_visible()  # shown once focused
            page.keyboard.press("Enter")
            assert page.evaluate("location.hash") == "#main"
            assert page.locator("nav.main a[aria-current=page]").all_inner_texts() == ["Alerts"]
            assert page.locator("table.queue th[scope=col]").count() >= 9
            # every filter is labelled
            fields = "form.filters input, form.filters select, form.bulk input:not([type=hidden]), form.bulk select"
            unlabelled = page.evaluate("sel => [...document.querySelectorAll(sel)].filter(e => !e.labels.length)"
                                       ".map(e => e.name)", fields)
            assert unlabelled == []
        finally:
            browser.close()
