"""The org detectors page in the real Chromium, checked with axe-core (tests/tooling/axe)
against WCAG 2.0-2.2 A and AA, empty, after a refused document (its error shown) and with a
saved version (the versions table): no serious or critical violation; the text area is
labelled."""
from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, sync_playwright
from support.processes import start_collector

CHROMIUM = "/usr/lib/chromium/chromium"
AXE = Path(__file__).resolve().parents[1] / "tooling" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
PASSWORD = "org detectors a11y admin password"
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
REDOS = "version: 1\nidentifiers:\n  - {entity_type: ORG_T, pattern: '^(\\w+\\s?)+$', reason: t}\n"
GOOD = "version: 1\nidentifiers:\n  - {entity_type: ORG_C, pattern: '\\bC-\\d{6}\\b', reason: customer}\n"

pytestmark = pytest.mark.browser


def serious_violations(page: Page) -> list[str]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG)
    return [f"{v['id']}: {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
            for v in result["violations"] if v["impact"] in ("serious", "critical")]


def test_the_org_detectors_page_has_no_serious_axe_violations(tmp_path):
    assert AXE.exists(), "axe-core is missing: npm ci --prefix tests/tooling/axe (make test does it)"
    with start_collector(tmp_path, PASSWORD) as collector, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_context(bypass_csp=True).new_page()   # the CSP would stop axe's script
            page.set_default_timeout(15000)
            page.goto(collector.url + "/login")
            page.fill("input[name=username]", "admin")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url("**/alerts")
            found = {}
            page.goto(collector.url + "/admin/org-detectors")
            assert page.evaluate("document.getElementById('org-detectors-text').labels.length") == 1
            found["empty"] = serious_violations(page)
            page.fill("#org-detectors-text", REDOS)
            page.click("#org-detectors-form button[type=submit]")
            page.wait_for_selector("#org-detectors-error")
            found["refused"] = serious_violations(page)
            page.fill("#org-detectors-text", GOOD)
            page.click("#org-detectors-form button[type=submit]")
            page.wait_for_selector("#org-detectors-version")
            found["saved"] = serious_violations(page)
            assert {state: v for state, v in found.items() if v} == {}
        finally:
            browser.close()
