"""The alerts queue and the alert page in the real browser (Debian's Chromium through
Playwright) against a real `shadowmap collector serve` process seeded through the public
API: readable at 1440 px and at 390 px (no column narrower than its header word, no
sideways scrolling), and a triage walked end to end: sign in to the page asked for,
filter, sort, page, bulk acknowledge, open an alert, resolve it with a reason.
Full-page screenshots go to tests/collector/artifacts/."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, sync_playwright
from support.alert_seed import seed
from support.processes import start_collector

CHROMIUM = "/usr/lib/chromium/chromium"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
PASSWORD = "browser queue admin password"

pytestmark = pytest.mark.browser

# For each column of the queue: the width of the longest word of its header, in the header's
# font, against the width the column's cells get (a card's field at phone width).
READABILITY = """() => {
  const table = document.querySelector('table.queue');
  const heads = [...table.querySelectorAll('thead th')];
  const probe = document.createElement('span');
  probe.style.cssText = 'position:absolute;visibility:hidden;white-space:nowrap';
  document.body.appendChild(probe);
  const problems = [];
  heads.forEach((th, index) => {
    if (th.querySelector(':scope > .visually-hidden')) return;  // the select column: a header for screen readers
    const label = th.innerText.replace(/[▲▼]/g, '').trim();
    const word = label.split(/\\s+/).reduce((a, b) => (a.length >= b.length ? a : b));
    const style = getComputedStyle(th);
    probe.style.font = style.font;
    probe.style.textTransform = style.textTransform;
    probe.style.letterSpacing = style.letterSpacing;
    probe.textContent = word;
    const need = probe.getBoundingClientRect().width;
    for (const row of table.querySelectorAll('tbody tr')) {
      const td = row.children[index];
      const padding = parseFloat(getComputedStyle(td).paddingLeft) + parseFloat(getComputedStyle(td).paddingRight);
      const room = td.getBoundingClientRect().width - padding;
      if (room + 0.5 < need) problems.push(`${label}: ${room.toFixed(1)} < ${need.toFixed(1)}`);
    }
    if (getComputedStyle(th).display !== 'none' && th.scrollWidth > th.clientWidth + 1)
      problems.push(`${label}: header overflows (${th.scrollWidth} > ${th.clientWidth})`);
  });
  probe.remove();
  const sideways = document.documentElement.scrollWidth - window.innerWidth;
  if (sideways > 0) problems.push(`page scrolls sideways by ${sideways}px`);
  return problems;
}"""


@pytest.fixture
def collector_url(tmp_path: Path):
    with start_collector(tmp_path, PASSWORD) as collector:
        seed(collector.url, collector.enroll_secret)
        yield collector.url


def _shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"queue-{name}.png"), full_page=True)


def _users(page: Page) -> list[str]:
    return page.locator("table.queue td[data-label=User] a").all_inner_texts()


def test_triage_walks_the_queue_end_to_end_and_reads_at_desktop_and_phone_width(collector_url: str):
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                     args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            page.set_default_timeout(15000)
            # asked for a filtered queue while signed out: back to it after signing in
            page.goto(collector_url + "/alerts?status=any&tool=ChatGPT")
            page.wait_for_url(re.compile(r".*/login\?next=.*"))
            page.fill("input[name=username]", "admin")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(re.compile(r".*/alerts\?status=any&tool=ChatGPT$"))
            assert page.locator("span.total").inner_text() == "32 alerts"  # 15 users x 2 findings, dave's, OpenAI's
            assert page.locator("input[name=tool]").input_value() == "ChatGPT"

            # the default queue: active, most severe first, 50 a page of a true total
            page.goto(collector_url + "/alerts")
            assert page.locator("span.total").inner_text() == "63 alerts"
            assert page.locator("table.queue tbody tr").count() == 50
            first = page.locator("table.queue tbody tr").first
            assert first.locator("td[data-label=Severity]").inner_text() == "critical"
            assert "ops-dave-xps" in first.locator("td[data-label=Hosts]").inner_text()
            seen = first.locator("td[data-label='Last seen']")   # relative, and the exact time in the account's zone
            assert re.fullmatch(r"\d+ min ago|just now", seen.locator("time").inner_text())
            assert re.fullmatch(r"\d{1,2} [A-Z][a-z]{2} \d\d:\d\d UTC", seen.locator(".line").inner_text())
            assert page.evaluate(READABILITY) == []
            assert page.locator("nav.main a[aria-current=page]").inner_text() == "Alerts"
            _shot(page, "alerts-1440")

            # filter by tool name, then a bad date kept beside the other filters
            page.fill("input[name=tool]", "Claude")
            page.click("form.filters button[type=submit]")
            page.wait_for_url(re.compile(r".*tool=Claude.*"))
            assert page.locator("span.total").inner_text() == "31 alerts"
            assert set(page.locator("table.queue td[data-label=Tool]").all_inner_texts()) == {"Claude\nclaude.ai"}
            page.goto(collector_url + "/alerts?tool=Claude&date_from=yesterday")
            assert page.locator("#err-date_from").is_visible()
            assert page.locator("input[name=tool]").input_value() == "Claude"
            assert page.locator("table.queue").count() == 0
            page.goto(collector_url + "/alerts?tool=Claude")

            # sort by user: descending first, then ascending; page 2 carries the sort
            page.click("table.queue th >> text=User")
            page.wait_for_url(re.compile(r".*sort=user&dir=desc.*"))
            assert _users(page) == sorted(_users(page), reverse=True)
            page.click("table.queue th >> text=User")
            page.wait_for_url(re.compile(r".*sort=user&dir=asc.*"))
            users = _users(page)
            assert users == sorted(users) and users[0] == "user00"
            assert page.locator("table.queue th[aria-sort=ascending]").text_content().strip() == "User"

            # page: 30 alerts fit on one page; the unfiltered queue has two
            page.goto(collector_url + "/alerts?sort=last_seen")
            page.click("nav.pages a[rel=next]")
            page.wait_for_url(re.compile(r".*page=2.*"))
            assert "Page 2 of 2" in page.locator("nav.pages").inner_text()
            assert page.locator("table.queue tbody tr").count() == 13

            # bulk: acknowledge the first two of this page
            page.locator("table.queue input[name=alert_id]").nth(0).check()
            page.locator("table.queue input[name=alert_id]").nth(1).check()
            page.select_option("form.bulk select[name=action]", "acknowledge")
            page.click("form.bulk button[type=submit]")
            page.wait_for_url(re.compile(r".*msg=.*"))
            assert "Acknowledge: 2 of 2 alerts" in page.locator("p.notice").inner_text()
            assert "page=2" in page.url  # back where the analyst was
            assert page.locator("table.queue td.status-acknowledged").count() == 2

            # the alert that leaked: its page explains itself
            page.goto(collector_url + "/alerts")
            page.locator("table.queue tbody tr").first.locator("td[data-label=Alert] a").click()
            page.wait_for_url(re.compile(r".*/alerts/\d+$"))
            assert page.locator("#alert-summary").inner_text() == (
                "5 AWS secret key pastes into ChatGPT on ops-dave-xps, 3 sent after warning, "
                "1 cancelled after warning, 1 awaiting decision")
            assert "INC-4711" in page.locator("dl.facts").inner_text()
            assert "prod.env" in page.locator("dl.facts").inner_text()
            assert page.locator("section.runbook li").count() >= 3
            _shot(page, "alert-1440")

            # resolve: the reason is required (the browser will not send without it), then given
            page.click("form.close-alert button[value=resolve]")
            assert page.locator("#alert-status").inner_text() == "open"
            page.fill("#close-reason", "AWS key rotated, INC-4711 closed")
            page.click("form.close-alert button[value=resolve]")
            page.wait_for_load_state()
            assert page.locator("#alert-status").inner_text() == "resolved"
            assert "resolve: AWS key rotated, INC-4711 closed" in page.locator("ol.log").inner_text()

            # a vendor's alert: every value behind it is capped, with "show all"
            page.goto(collector_url + "/alerts?finding=unknown_subprocessor&tool=ChatGPT")
            page.locator("table.queue td[data-label=Alert] a").first.click()
            page.wait_for_url(re.compile(r".*/alerts/\d+$"))
            assert page.locator("table.correlation tbody tr").count() == 10
            assert page.locator("table.evidence tbody tr").count() == 10
            assert page.evaluate("document.documentElement.scrollHeight") < 4000
            # the pastes it shares with dave's leak alert carry the decisions joined there
            assert page.locator("table.evidence .outcome-sent_after_warning").count() == 3
            assert "INC-4711" in page.locator("dl.facts").inner_text()
            _shot(page, "vendor-alert-1440")
            page.click("p.more a:has-text('Show all')")
            assert page.locator("table.evidence tbody tr").count() == 35  # 15 users x 2 pastes, and dave's 5

            # phone width: the queue as cards, every field labelled and readable
            page.set_viewport_size({"width": 390, "height": 844})
            page.goto(collector_url + "/alerts")
            assert page.evaluate(READABILITY) == []
            # no table header over the cards: the sortable columns stay as a row of links ("Sort by")
            assert page.locator("table.queue thead th:visible").all_text_contents() == \
                ["Severity", "Alert", "Tool", "User", "Events", "Last seen", "Status", "Assignee"]
            assert page.locator("table.queue thead th:visible a").count() == 8
            _shot(page, "alerts-390")
            page.goto(collector_url + "/alerts/999999")
            assert page.locator("h1").inner_text() == "Not found" and page.locator("nav.main").is_visible()
        finally:
            browser.close()
