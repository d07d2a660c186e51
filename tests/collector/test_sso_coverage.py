"""Accounts by tier, over the real server on both backends, from the agents' own
ai_account.observed events (built with the agent's classifier): the inventory shows each
tool's users and accounts per tier, and the weekly report's SSO coverage section gives the
share of each tool's users on corporate accounts, the change from the week before, and the
controls it evidences; the HTML (the PDF's source) shows it."""
from __future__ import annotations

import base64
import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from shadowmap import contract
from shadowmap.agent import accounts
from shadowmap.collector.report import render
from shadowmap.collector.report.weekly import build
from shadowmap.collector.state import STORE

pytestmark = pytest.mark.both_backends
ORG = ["acme-corp.example"]


def sign_in(device: dict, user: str, tool_id: str, domain: str, email: str, when: datetime) -> dict:
    org_key = base64.b64decode(device["org_key"])
    event = {"schema": "shadowmap.event/1", "id": str(uuid.uuid4()), "type": "ai_account.observed",
             "device_id": device["device_id"], "user": user,
             "ts": when.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
             "data": {"tool_id": tool_id, "domain": domain, "source": "login_form",
                      **accounts.classify(email, None, ORG).event_data(org_key, emails_in_clear=False)}}
    contract.validate_event(event)
    return event


def this_week() -> tuple[str, datetime, datetime]:
    """The current ISO week, a moment in it (now) and the same moment of the week before."""
    now = datetime.now(UTC)
    year, week, _ = now.isocalendar()
    return f"{year}-W{week:02d}", now, now - timedelta(days=7)


async def test_inventory_and_weekly_report_count_users_by_account_tier(client, device, console):
    week, now, last_monday = this_week()
    events = [
        # this week: ChatGPT, 3 users: 2 corporate, 1 on both (counts as personal); Claude: 1 personal
        sign_in(device, "alice", "chatgpt", "chatgpt.com", "alice@acme-corp.example", now),
        sign_in(device, "bob", "chatgpt", "chatgpt.com", "bob@eu.acme-corp.example", now),
        sign_in(device, "carol", "chatgpt", "chatgpt.com", "carol@acme-corp.example", now),
        sign_in(device, "carol", "chatgpt", "chatgpt.com", "carol.private@gmail.com", now),
        sign_in(device, "dan", "claude", "claude.ai", "dan@othercorp.example", now),
        # last week: ChatGPT 1 of 2 users corporate
        sign_in(device, "alice", "chatgpt", "chatgpt.com", "alice@acme-corp.example", last_monday),
        sign_in(device, "erin", "chatgpt", "chatgpt.com", "erin@gmail.com", last_monday),
    ]
    await console.post_events(client, device, events)

    report = await client.app[STORE].read(lambda db: build(db, week))
    sso = report["sso_coverage"]
    by_tool = {t["tool_id"]: t for t in sso["tools"]}
    assert list(by_tool) == ["chatgpt", "claude"]                         # most users first
    chatgpt = by_tool["chatgpt"]
    assert chatgpt["users"] == {"corporate": 2, "personal": 1, "unknown": 0}
    assert chatgpt["accounts"] == {"corporate": 3, "personal": 1, "unknown": 0}
    assert (chatgpt["corporate_share"], chatgpt["last_week_share"], chatgpt["change_points"]) == (66.7, 50.0, 16.7)
    assert by_tool["claude"]["users"] == {"corporate": 0, "personal": 1, "unknown": 0}
    assert by_tool["claude"]["corporate_share"] == 0.0 and by_tool["claude"]["last_week_share"] is None
    assert (sso["overall"], sso["overall_last_week"], sso["personal_users"]) == (50.0, 50.0, 2)
    assert "CC6.1" in sso["controls"]["soc2"] and "A.5.18" in sso["controls"]["iso27001"]
    assert any(c["item"] == "sso_coverage" for c in report["controls"])
    assert "50.0 %" in sso["statement"] and "ChatGPT" in sso["statement"]

    html = render.to_html(report)
    table = html.split('id="sso-coverage"', 1)[1].split("</table>", 1)[0]
    assert re.search(r"ChatGPT</td><td class=\"num\">2</td><td class=\"num\">1</td>", table)
    assert "66.7 %" in table and "+16.7" in table and "SOC 2 CC6.1, CC6.2" in html

    empty = await client.app[STORE].read(lambda db: build(db, "2026-W30"))
    assert empty["sso_coverage"]["tools"] == [] and "not known" in empty["sso_coverage"]["statement"]

    await console.add_account(client, "vera", "viewer")
    await console.sign_in(client, "vera")
    page = await (await client.get("/inventory", params={"days": "30"})).text()
    row = page.split("<code>chatgpt</code>", 1)[1].split("</tr>", 1)[0]     # 30 days: both weeks
    assert '<span data-tier="corporate">2 (3)</span>' in row and '<span data-tier="personal">2 (2)</span>' in row
    claude = page.split("<code>claude</code>", 1)[1].split("</tr>", 1)[0]
    assert '<span data-tier="personal">1 (1)</span>' in claude and "0 % corporate" in claude
