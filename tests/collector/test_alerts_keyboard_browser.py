"""The alerts queue worked from the keyboard alone, in the real Chromium against a real
`shadowmap collector serve` process seeded through the public API: sign in, set a filter and
apply it, sort by a column, select two alerts and assign them in bulk, open an alert and resolve
it with a reason, at desktop and at phone width. Only Tab, Shift+Tab, Enter, Space, the arrow keys (to choose in a list) and
typing are used, never a click; at every element focus lands on, the focus is visible (its
computed outline or box-shadow), so a sighted keyboard user can follow it (WCAG 2.4.7)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, sync_playwright
from support.alert_seed import seed
from support.processes import start_collector

CHROMIUM = "/usr/lib/chromium/chromium"
PASSWORD = "keyboard triage admin password"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"

pytestmark = pytest.mark.browser

# what has focus, whether it matches the selector and whether its focus can be seen
FOCUSED = """(selector) => {
  const e = document.activeElement;
  if (!e || e === document.body) return {what: 'nothing', matches: false, visible: false};
  const s = getComputedStyle(e);
  const outline = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0 && !/rgba\\(.*, 0\\)$/.test(s.outlineColor);
  const shadow = s.boxShadow !== 'none' && s.boxShadow !== '';
  const what = `${e.tagName.toLowerCase()}${e.name ? '[name=' + e.name + ']' : ''} "${(e.innerText || e.value || '').trim().slice(0, 40)}"`;
  return {what, matches: e.matches(selector), visible: outline || shadow};
}"""


def tab_to(page: Page, selector: str, back: bool = False, limit: int = 200) -> None:
    """Tab (Shift+Tab when ``back``) until the focused element matches ``selector``; each
    element passed on the way must show its focus."""
    passed: list[str] = []
    for _ in range(limit):
        page.keyboard.press("Shift+Tab" if back else "Tab")
        focused = page.evaluate(FOCUSED, selector)
        assert focused["visible"], f"focus on {focused['what']} cannot be seen (after {passed[-3:]})"
        passed.append(focused["what"])
        if focused["matches"]:
            return
    raise AssertionError(f"{selector} never took the focus: {passed}")


def choose(page: Page, selector: str, value: str) -> None:
    """In the focused <select>, the arrow keys until ``value`` is chosen."""
    for key in ("ArrowDown", "ArrowUp"):
        for _ in range(60):
            if page.evaluate("s => document.activeElement.value", selector) == value:
                return
            page.keyboard.press(key)
    raise AssertionError(f"{value} is not an option of {selector}")


def submit(page: Page, key: str = "Enter") -> None:
    with page.expect_navigation():
        page.keyboard.press(key)


@pytest.mark.parametrize("width", [1440, 390])   # a desktop, and a phone with a keyboard (the queue as cards)
def test_the_alerts_queue_is_worked_from_the_keyboard(tmp_path: Path, width: int):
    ARTIFACTS.mkdir(exist_ok=True)
    with start_collector(tmp_path, PASSWORD) as collector, sync_playwright() as pw:
        seed(collector.url, collector.enroll_secret)
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                     args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        try:
            page = browser.new_context(viewport={"width": width, "height": 900}).new_page()
            page.set_default_timeout(15000)
            page.goto(collector.url + "/login")
            tab_to(page, "input[name=username]")
            page.keyboard.type("admin")
            tab_to(page, "input[name=password]")
            page.keyboard.type(PASSWORD)
            submit(page)
            assert page.url.endswith("/alerts")

            # a filter: the tool by its name, and high severity; applied with the Filter button
            tab_to(page, "form.filters select[name=severity]")
            choose(page, "select[name=severity]", "high")
            tab_to(page, "form.filters input[name=tool]")
            page.keyboard.type("ChatGPT")
            tab_to(page, "form.filters button[type=submit]")
            submit(page)
            assert re.search(r"severity=high", page.url) and re.search(r"tool=ChatGPT", page.url), page.url
            tools = page.locator("table.queue td[data-label=Tool]").all_inner_texts()
            severities = page.locator("table.queue td[data-label=Severity]").all_inner_texts()
            assert len(tools) >= 3 and all(t.startswith("ChatGPT") for t in tools), tools
            assert set(severities) == {"high"}, severities

            # sort by user: the header's link, from the keyboard (descending first, again for ascending); the filter stays
            for direction in ("descending", "ascending"):
                tab_to(page, "table.queue thead a[href*='sort=user']")
                submit(page)
                assert "sort=user" in page.url and "tool=ChatGPT" in page.url, page.url
                assert page.locator(f"table.queue th[aria-sort={direction}]").text_content().strip() == "User"
                users = page.locator("table.queue td[data-label=User] > a").all_inner_texts()
                assert users == sorted(users, reverse=direction == "descending") and len(set(users)) >= 3, users

            # select the first two alerts (Space), back up to the bulk form (Shift+Tab), assign them to admin
            tab_to(page, "input[name=alert_id]")
            page.keyboard.press("Space")
            first = page.evaluate("document.activeElement.value")
            page.keyboard.press("Tab")
            tab_to(page, "input[name=alert_id]")
            page.keyboard.press("Space")
            second = page.evaluate("document.activeElement.value")
            assert page.locator("input[name=alert_id]:checked").count() == 2
            tab_to(page, "form.bulk select[name=action]", back=True)
            choose(page, "form.bulk select[name=action]", "assign")
            tab_to(page, "form.bulk select[name=assignee]")
            choose(page, "form.bulk select[name=assignee]", "admin")
            tab_to(page, "form.bulk button[type=submit]")
            submit(page, "Space")
            assert page.locator("p.notice[role=status]").count() == 1, page.content()[:2000]
            assert "tool=ChatGPT" in page.url and "sort=user" in page.url, page.url   # back where the analyst was
            for alert_id in (first, second):
                row = page.locator("table.queue tr", has=page.locator(f"input[name=alert_id][value='{alert_id}']"))
                assert row.locator("td[data-label=Assignee]").inner_text().strip() == "admin"

            # open the first alert and resolve it with a reason
            tab_to(page, f"table.queue td[data-label=Alert] a[href='/alerts/{first}']", back=True)
            submit(page)
            assert page.url.endswith(f"/alerts/{first}"), page.url
            tab_to(page, "textarea#close-reason")
            page.keyboard.type("Key rotated by the user; INC-4711 closed")
            tab_to(page, "form.close-alert button[value=resolve]")
            submit(page)
            page.screenshot(path=str(ARTIFACTS / f"keyboard-resolved-{width}.png"), full_page=True)
            facts = page.locator("main").inner_text()
            assert re.search(r"Status\s+resolved", facts), facts[:1500]
            assert "Key rotated by the user; INC-4711 closed" in facts
        finally:
            browser.close()
