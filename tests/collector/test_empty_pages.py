"""Empty console pages say what to do next, over the real server: the sessions, inventory,
unknown tools, reports, exception requests and alerts pages on an empty collector each say
what they are waiting for and list the first-run steps they need that are not done yet; a
step leaves the list once it is done, and a page emptied by a filter says so instead."""
from __future__ import annotations

import re

import pytest

from shadowmap.collector.console.next_steps import STEPS

TEXT = {step.key: step.text for step in STEPS}


def next_steps(html: str) -> list[str] | None:
    """The keys of the steps an empty page lists, or None when it has no next steps."""
    block = re.search(r'<div class="empty next-steps" id="next-steps">(.*?)</div>', html, re.S)
    if block is None:
        return None
    listed = re.findall(r'<li data-step="(\w+)"><a href="[^"]+">([^<]+)</a></li>', block.group(1))
    assert all(text == TEXT[key].replace("'", "&#39;") for key, text in listed)
    return [key for key, _ in listed]


async def page(client, path: str) -> str:
    response = await client.get(path)
    assert response.status == 200, path
    return await response.text()


@pytest.fixture
async def admin(client, console):
    await console.sign_in(client, "admin", console.admin_password)
    return client


# path, the steps listed on an empty collector, words of what the page waits for
EMPTY_PAGES = [
    ("/sessions", ["device"], "No AI coding sessions yet"),
    ("/inventory", ["device", "extension"], "No AI tool seen in the last 30 days"),
    ("/unknown-tools", ["device", "extension"], "No unknown AI tool waiting for review"),
    ("/reports", ["device", "extension", "teams", "register", "retention"], "No device has been enrolled yet"),
    ("/exceptions", ["device", "extension"], "No exception request waits for a decision"),
    ("/alerts", ["device", "extension", "register"], "No active alerts"),
]


@pytest.mark.parametrize(("path", "steps", "words"), EMPTY_PAGES, ids=[p for p, _, _ in EMPTY_PAGES])
async def test_an_empty_page_says_what_to_do_next(admin, path, steps, words):
    html = await page(admin, path)
    assert next_steps(html) == steps
    assert words in html


@pytest.mark.parametrize(("path", "steps", "words"), EMPTY_PAGES, ids=[p for p, _, _ in EMPTY_PAGES])
async def test_a_step_done_leaves_the_list(admin, config, make, path, steps, words):
    await make.enroll(admin, config)
    html = await page(admin, path)
    assert next_steps(html) == [step for step in steps if step != "device"]
    if path == "/reports":  # a device reports: now the register and the rest are what is missing
        assert "No device has been enrolled yet" not in html and "Before a report is evidence" in html
        await make.approve_vendors(admin, "OpenAI")
        assert next_steps(await page(admin, path)) == ["extension", "teams", "retention"]
    else:
        assert words in html


async def test_a_page_emptied_by_a_filter_says_so_instead(admin):
    for path, words in (("/sessions?user=nobody", "No sessions match these filters"),
                        ("/unknown-tools?status=ignored", "No unknown tool marked ignored"),
                        ("/exceptions?status=all", "No exception requests."),
                        ("/alerts?user=nobody", "No alerts match these filters")):
        html = await page(admin, path)
        assert next_steps(html) is None and words in html, path


async def test_the_inventory_offers_a_longer_period(admin):
    html = await page(admin, "/inventory")
    assert '<a href="/inventory?days=365">Look back 365 days</a>' in html
    assert "/inventory?days=365" not in await page(admin, "/inventory?days=365")


async def test_a_page_with_data_lists_no_next_steps(admin, config, make, console):
    device = await make.enroll(admin, config)
    device["headers"] = {"Authorization": f"Bearer {device['node_key']}"}
    await console.post_events(admin, device, [make.paste(device["device_id"], user="dave", action="allow")])
    for path in ("/inventory", "/alerts"):
        assert next_steps(await page(admin, path)) is None, path
