"""The overview, register and reports pages in the real browser (Debian's Chromium through
Playwright) against a real `shadowmap collector serve` process, first empty, then seeded by
`make demo`'s seeder through the public API. Full-page screenshots go to
tests/collector/artifacts/ (overview-empty, overview, register-*, reports, weekly-report)."""
from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from playwright.sync_api import Page, sync_playwright
from support.processes import start_collector
from support.week import busiest_week, silent_hostnames

from shadowmap.demo import seed

CHROMIUM = "/usr/lib/chromium/chromium"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
PASSWORD = "overview browser test password"

pytestmark = pytest.mark.browser


def _shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _checklist(page: Page) -> dict[str, str]:
    items = page.locator("#setup li")
    return {items.nth(i).get_attribute("data-key"): items.nth(i).get_attribute("data-done")
            for i in range(items.count())}


def test_overview_register_and_reports_in_a_real_browser(tmp_path: Path):
    with start_collector(tmp_path, PASSWORD) as collector, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                     args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            page.set_default_timeout(20000)
            refused: list[str] = []  # anything the page's CSP blocked
            page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
            page.goto(collector.url + "/login")
            page.fill("input[name=username]", "admin")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_load_state()

            # empty: the home page says what to do next
            page.goto(collector.url + "/")
            page.wait_for_url("**/overview")
            assert "nothing has reached this collector yet" in page.locator("#setup h2").inner_text()
            assert set(_checklist(page).values()) == {"no"}
            assert page.locator("#setup a[href='/admin#enroll']").count() >= 1
            _shot(page, "overview-empty")

            sent = seed(collector.url, collector.enroll_secret, PASSWORD, tmp_path / "keys.json")
            assert sent["webhooks"] == 3
            page.reload()
            assert page.locator("#setup").count() == 0  # every item done: the checklist goes
            critical = page.locator("#open-alerts tr:has(.sev-critical) td.num a").inner_text()
            assert int(critical) >= 1
            chart = page.locator("figure img[src='/overview/trend.svg']")
            chart.wait_for()
            assert page.evaluate("document.querySelector('figure img').naturalWidth") > 100  # drawn, not refused
            users = page.locator("#riskiest-users tbody td:first-child").all_inner_texts()
            assert "*" not in users and "farah@acme.example" in users  # org-wide alerts are nobody's
            assert "operations" in page.locator("#riskiest-teams").inner_text()
            assert "not in the register" in page.locator("#register-gaps").inner_text()
            assert "12 of 13 enrolled devices" in page.locator("#coverage").inner_text()
            assert refused == []
            _shot(page, "overview")

            # register: edit in place, a tool's name is caught, removing asks first, every import error shown
            page.goto(collector.url + "/register")
            page.click("table.register tr:has(th:text-is('OpenAI')) a:text('Edit')")
            assert page.locator("#register-entry input[name=vendor]").input_value() == "OpenAI"
            assert page.locator("#register-entry input[name=owner]").input_value() == "legal@acme.example"
            page.goto(collector.url + "/register")
            page.click("a.add-vendor:has-text('Add Anysphere')")
            assert page.locator("#register-entry input[name=vendor]").input_value() == "Anysphere"
            page.fill("#register-entry input[name=vendor]", "Cursor")
            page.click("#register-entry button[type=submit]")
            assert "its vendor is Anysphere" in page.locator("#vendor-warning").inner_text()
            _shot(page, "register-warning")
            page.goto(collector.url + "/register")
            page.click("table.register tr:has(th:text-is('Anthropic')) a:text('Remove…')")
            assert "Remove Anthropic from the register?" in page.locator("#confirm-remove").inner_text()
            page.click("#confirm-remove a:text('Keep it')")
            assert page.locator("table.register th:text-is('Anthropic')").count() == 1
            bad = tmp_path / "bad.csv"
            bad.write_text("vendor,listed,dpa_expires\nCursor,yes,\nMistral AI,maybe,\nDeepL,no,31/12/2027\n")
            page.set_input_files("#register-import input[type=file]", str(bad))
            page.click("#register-import button[type=submit]")
            errors = page.locator("#register-errors li")
            assert errors.count() == 3 and "line 4: dpa_expires" in errors.nth(2).inner_text()
            _shot(page, "register-import-errors")

            # reports: the PDF link downloads a signed PDF; the HTML report opens with its summary
            page.goto(collector.url + "/reports")
            with sqlite3.connect(f"file:{collector.db_path}?mode=ro", uri=True) as db:
                week = busiest_week(db)  # the demo's week ends now: on a Monday it is mostly last week
                silent = len(silent_hostnames(db, week))  # the quiet laptop's two days may fall in it or not
            pdf_link = page.locator(f"a.report-pdf[href*='{week.name}']")
            response = page.request.get(collector.url + pdf_link.get_attribute("href"), timeout=180_000)  # a loaded machine
            assert response.status == 200 and response.headers["content-type"] == "application/pdf"
            assert response.body().startswith(b"%PDF")
            _shot(page, "reports")
            page.goto(collector.url + f"/reports/weekly?week={week.name}&format=html")
            assert "Executive summary" in page.locator("h2").first.inner_text()
            if silent:
                assert f"{silent} of 13 enrolled devices sent no heartbeat" in page.locator("#coverage-warning").inner_text()
            else:
                assert page.locator("#coverage-warning").count() == 0
            assert "Ollama" in page.locator("#local-runtimes").inner_text()  # a local runtime, kept apart
            assert "Ollama" not in page.locator("#vendors").inner_text()
            _shot(page, "weekly-report")
        finally:
            browser.close()
