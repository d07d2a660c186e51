"""Account tiers, coaching and exceptions through the real stack in real Chromium (the
extension, the native host, the real agent enrolled with the real collector, pulling its
policy every second; see `full_stack` in conftest):

(a) signed in to the mapped https://chatgpt.com/ with a corporate address, a paste of personal
    data passes; signed in with a personal address, the same paste is blocked, and the banner
    links the company AI policy and names the approved alternative;
(b) on https://claude.ai/ the same paste is warned; from the warn dialog the user asks for an
    exception with a reason, an analyst approves it on the console's Exception requests page
    (in the same browser), the agent pulls it with the policy, and the next paste passes. The
    pasted address is in no collector, agent or log file; the decision is in the record."""
from __future__ import annotations

import json
import re
import secrets
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from support.waiting import wait_until

from .conftest import REPO

pytestmark = pytest.mark.browser

EVENT_TIMEOUT_S = 60
ORG_DOMAIN = "acme-corp.example"
POLICY_URL = "https://intranet.acme-corp.example/ai-policy"
ALTERNATIVE = "use the company ChatGPT workspace"
ASK_DPO = "ask the data protection team"
# fresh per run, so finding one in a file can only mean this run leaked it
PASTED_EMAIL = f"rosalind.okafor.{secrets.token_hex(3)}@northwind-traders.com"
PII_TEXT = f"Draft a reply to {PASTED_EMAIL} about the invoice"
PERSONAL = f"jane.private.{secrets.token_hex(3)}@gmail.com"
CORPORATE = f"jane@{ORG_DOMAIN}"
REASON = "I handle this customer's support case and draft the replies"
LOGIN = "/static/login.html"
CLEAR_PM = "window.pmView.dispatch(window.pmView.state.tr.delete(0, window.pmView.state.doc.content.size))"
POLICY = {
    "version": 1, "name": "e2e: account tiers", "unknown_tool": "monitor", "on_agent_unavailable": "fail_open",
    "org_email_domains": [ORG_DOMAIN], "ai_policy_url": POLICY_URL,
    "rules": [
        {"tool": "chatgpt", "data_class": "pii", "account_tier": "corporate", "action": "allow"},
        {"tool": "chatgpt", "data_class": "*", "account_tier": "personal", "action": "block",
         "alternative": ALTERNATIVE},
        {"tool": "*", "data_class": "secret", "action": "block"},
        {"tool": "*", "data_class": "pii", "min_severity": "medium", "action": "warn", "alternative": ASK_DPO},
    ],
}


@pytest.fixture(scope="module")
def stack(full_stack):
    full_stack.set_policy(POLICY)
    return full_stack


def events(db_path: Path, event_type: str) -> list[dict]:
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=5) as db:
        return [json.loads(row[0]) for row in db.execute("SELECT body FROM events WHERE type = ? ORDER BY ts",
                                                         (event_type,))]


def sign_in_as(stack, ui, email: str, tier: str) -> None:
    """Type the address into the tool's sign-in form; wait until the agent has classified it."""
    page = ui.open(stack.context, f"https://chatgpt.com{LOGIN}")
    page.fill("#email", email)
    page.press("#email", "Tab")
    wait_until(lambda: any(e["data"]["tier"] == tier and e["data"]["tool_id"] == "chatgpt"
                           for e in events(stack.db_path, "ai_account.observed")),
               EVENT_TIMEOUT_S, f"the {tier} sign-in", interval=0.25)


def shadow_attributes(page, role: str) -> dict[str, str]:
    """The attributes of the element with this data-role inside a closed shadow root."""
    cdp = page.context.new_cdp_session(page)
    try:
        root = cdp.send("DOM.getDocument", {"depth": -1, "pierce": True})["root"]
    finally:
        cdp.detach()
    found: list[dict[str, str]] = []

    def walk(node: dict) -> None:
        attrs = node.get("attributes", [])
        pairs = dict(zip(attrs[::2], attrs[1::2], strict=True))
        if pairs.get("data-role") == role:
            found.append(pairs)
        for child in node.get("children", []) + node.get("shadowRoots", []):
            walk(child)
    walk(root)
    assert len(found) == 1, (role, found)
    return found[0]


def test_a_personal_account_gets_blocked_what_the_corporate_one_may_paste(stack, ui):
    sign_in_as(stack, ui, CORPORATE, "corporate")
    page = ui.open(stack.context, "https://chatgpt.com/")
    assert ui.paste(page, "#pm", PII_TEXT) == "allow", stack.agent.log_tail()
    assert page.evaluate("window.pmText()") == PII_TEXT

    sign_in_as(stack, ui, PERSONAL, "personal")
    page = ui.open(stack.context, "https://chatgpt.com/")
    assert ui.paste(page, "#pm", PII_TEXT) == "block"
    assert page.evaluate("window.pmText()") == ""                  # nothing landed
    shown = ui.banner_text(page)
    assert "shadowmap blocked this paste" in shown and "email address" in shown, shown
    assert f"Approved alternative: {ALTERNATIVE}" in shown and "Read the company AI policy" in shown, shown
    assert PASTED_EMAIL not in shown
    link = shadow_attributes(page, "policy-link")
    assert (link["href"], link["target"], link["rel"]) == (POLICY_URL, "_blank", "noopener noreferrer")
    ui.screenshot(page, "account-tier-block-banner")

    def scans():
        found = [e["data"] for e in events(stack.db_path, "paste.scanned") if e["data"]["tool_id"] == "chatgpt"]
        return found if len(found) >= 2 else None
    assert [s["action"] for s in wait_until(scans, EVENT_TIMEOUT_S, "the two chatgpt scans")] == ["allow", "block"]


def analyst_approves_in_the_console(stack, request_id: str) -> None:
    """An analyst account (the CLI), signed in to the console in the same browser, approves."""
    password = "exception analyst test password"
    made = subprocess.run([sys.executable, "-m", "shadowmap.cli", "collector", "account", "create", "ana",
                           "--role", "analyst", "--db", str(stack.db_path)], input=password + "\n", cwd=REPO,
                          capture_output=True, text=True, timeout=60)
    assert made.returncode == 0, made.stderr
    console = stack.context.new_page()
    console.goto(f"{stack.url}/login?next=/exceptions")
    console.fill("input[name=username]", "ana")
    console.fill("input[name=password]", password)
    console.click("button[type=submit]")
    console.wait_for_url(re.compile(r".*/exceptions$"))
    row = console.locator(f'tr[data-request-id="{request_id}"]')
    assert REASON in row.inner_text() and "pii" in row.inner_text()
    row.locator("input[name=hours]").fill("2")
    row.locator("button[value=approved]").click()
    console.wait_for_url(re.compile(r".*/exceptions\?msg=.*"))
    assert "approved until" in console.inner_text("p.notice")
    console.close()


def test_an_exception_asked_from_the_warn_dialog_and_approved_in_the_console_lets_the_next_paste_through(stack, ui):
    page = ui.open(stack.context, "https://claude.ai/new")
    ui.start_paste(page, "#pm", PII_TEXT)
    shown = ui.wait_dialog(page)
    assert "Check this paste before it is sent" in shown and f"Approved alternative: {ASK_DPO}" in shown, shown
    assert "Read the company AI policy" in shown and shadow_attributes(page, "policy-link")["href"] == POLICY_URL
    ui.dialog_click(page, "exception")
    ui.wait_dialog(page, "requesting")
    page.keyboard.type(REASON)
    ui.screenshot(page, "exception-request-dialog")
    ui.dialog_click(page, "exception")
    assert ui.decision(page) == "exception-requested"
    assert "Exception requested" in ui.banner_text(page)
    assert page.evaluate("window.pmText()") == ""

    (request,) = wait_until(lambda: events(stack.db_path, "exception.requested"), EVENT_TIMEOUT_S,
                            "the exception request", interval=0.25)
    data = request["data"]
    assert (data["tool_id"], data["domain"], data["data_classes"], data["reason"]) == (
        "claude", "claude.ai", ["pii"], REASON)
    analyst_approves_in_the_console(stack, request["id"])

    cache = stack.state_dir / "policy.json"                          # the agent pulls every second
    wait_until(lambda: request["id"] in cache.read_text("utf-8"), 30, "the agent pulling the exception",
               interval=0.25)
    page.evaluate(CLEAR_PM)
    assert ui.paste(page, "#pm", PII_TEXT) == "allow"
    assert page.evaluate("window.pmText()") == PII_TEXT

    with sqlite3.connect(f"file:{stack.db_path}?mode=ro", uri=True) as db:
        ((actor, detail),) = db.execute("SELECT actor, detail FROM record_entries WHERE kind = 'admin' AND subject = ?",
                                        (f"exception:{request['id']}",)).fetchall()
    assert actor == "ana" and json.loads(detail)["decision"] == "approved"
    for path in stack.stored_files():
        content = path.read_bytes()
        assert PASTED_EMAIL.encode() not in content, path
        assert PERSONAL.encode() not in content, path
