"""Each verdict, applied to a real Ctrl+V in real Chromium with the real native host, in a
REAL ProseMirror editor (npm packages), a textarea and a plain contenteditable, against a
scripted agent (the real agent is in test_browser_paste.py): allow lands; redact lands the
agent's placeholder text; warn opens the in-page dialog, Cancel drops the paste and "Send
anyway" asks a justification, lands it and records it; block lands nothing and its banner
names the finding types, never the values."""
from __future__ import annotations

import pytest
from support.waiting import wait_until

pytestmark = pytest.mark.browser

EDITORS = ("#pm", "#ta", "#ce")
SECRET_VALUE = "AKIAQ7ZXW3RT5YUP2MNB"   # the scripted agent blocks on "AKIA"
REDACT_MARK = "jane@acme-corp.com"     # ... and redacts this address


def test_each_verdict_is_applied_in_every_editor(guarded_browser, scripted_agent, ui):
    page = ui.open(guarded_browser, "https://claude.ai/new")
    for selector in EDITORS:
        harmless = f"summarise the meeting notes for {selector}"
        assert ui.paste(page, selector, harmless) == "allow"
        assert ui.text(page, selector).strip() == harmless
        assert ui.banner_kind(page) is None

        assert ui.paste(page, selector, f"deploy with {SECRET_VALUE} and ops@acme-corp.com") == "block"
        assert ui.text(page, selector).strip() == harmless  # nothing new landed
        assert ui.banner_kind(page) == "block"
        shown = ui.banner_text(page)
        assert "blocked this paste" in shown and "AWS access key" in shown and "email address" in shown
        assert "policy says block" in shown and SECRET_VALUE not in shown and "acme-corp" not in shown

        assert ui.paste(page, selector, f"reply to {REDACT_MARK} today") == "redact"
        assert "reply to <EMAIL_1> today" in ui.text(page, selector)
        assert REDACT_MARK not in ui.text(page, selector)
        assert "replaced by placeholders" in ui.banner_text(page)
    assert page.evaluate("window.pmText()").endswith("reply to <EMAIL_1> today")  # ProseMirror's own state

    scans = scripted_agent.requests("scan")
    assert len(scans) == 9
    assert all(r["channel"] == "paste" and r["url"] == "https://claude.ai/new" for r in scans)
    assert all(r["browser"].startswith("chrome-extension://") for r in scans)
    assert [r["url"] for r in scripted_agent.requests("visit")] == ["https://claude.ai/"]  # origin only


def test_warn_dialog_cancel_and_send_anyway(guarded_browser, scripted_agent, ui):
    page = ui.open(guarded_browser, "https://chatgpt.com/")
    ui.start_paste(page, "#pm", "letter for Dr. Watson")
    shown = ui.wait_dialog(page)
    assert "Check this paste before it is sent" in shown and "person name" in shown and "policy says warn" in shown
    ui.screenshot(page, "warn-dialog")
    # the page cannot read the dialog: its shadow root is closed
    assert page.evaluate("document.querySelector('shadowmap-dialog').shadowRoot") is None
    ui.dialog_click(page, "cancel")
    assert ui.decision(page) == "warn-cancelled"
    assert page.evaluate("window.pmText()") == "" and page.query_selector("shadowmap-dialog") is None

    ui.start_paste(page, "#pm", "second letter for Dr. Watson")
    ui.wait_dialog(page)
    ui.dialog_click(page, "send")
    assert "Why do you need to send it?" in ui.wait_dialog(page, "justifying")
    ui.screenshot(page, "warn-dialog-justification")
    ui.dialog_click(page, "send")                   # an empty reason is not accepted
    assert "Please give a short reason." in ui.wait_dialog(page, "justifying")
    page.keyboard.type("the customer asked for this letter")
    ui.dialog_click(page, "send")
    assert ui.decision(page) == "warn-sent"
    assert page.evaluate("window.pmText()") == "second letter for Dr. Watson"

    # the override of the sent paste follows its text: wait for both (as the Firefox test does)
    cancelled, sent = wait_until(lambda: len(scripted_agent.requests("override")) == 2
                                 and scripted_agent.requests("override"), 15, "the two overrides")
    scans = scripted_agent.requests("scan")
    assert len(scans) == 2
    assert (cancelled["decision"], cancelled["event_id"]) == ("cancel", scripted_agent.event_ids[0])
    assert "justification" not in cancelled
    assert (sent["decision"], sent["event_id"], sent["justification"]) == \
        ("send_anyway", scripted_agent.event_ids[1], "the customer asked for this letter")


def test_block_banner_screenshot(guarded_browser, ui):
    page = ui.open(guarded_browser, "https://chatgpt.com/")
    assert ui.paste(page, "#ta", f"aws_access_key_id = {SECRET_VALUE}") == "block"
    assert page.evaluate("document.querySelector('shadowmap-banner').shadowRoot") is None
    ui.screenshot(page, "block-banner")
