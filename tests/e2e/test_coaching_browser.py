"""Coaching and the exception request in real Chromium against a scripted agent (fast, and able
to answer what the real agent never would): a verdict's coaching is shown as text only, a
link only when it is https (a javascript: URL or markup in the alternative stays inert); the
warn dialog's exception request carries the warning's event id and the reason, survives an
agent that refuses it (the dialog says so and stays), and is followed by the warning's cancel.
The same coaching and exception request in Debian's Firefox ESR (WebDriver BiDi)."""
from __future__ import annotations

import pytest
from e2e.firefox_bidi import decision, guarded_firefox
from e2e.firefox_bidi import open_ai_page as open_in_firefox
from support.waiting import wait_until

from .conftest import ScriptedAgent, open_ai_page

pytestmark = pytest.mark.browser
HOSTILE_ALTERNATIVE = '<img src=x onerror="window.pwned = true">use Acme GPT'
REASON = "I am drafting the reply to this customer's complaint"


class CoachingAgent(ScriptedAgent):
    """The scripted agent, with coaching on warn and block verdicts and a settable answer to
    exception requests."""

    def __init__(self, path, coaching: dict):
        super().__init__(path)
        self.coaching = coaching
        self.exception_reply: dict = {"type": "ack"}

    def reply_to(self, request: dict) -> dict:
        if request.get("type") == "exception":
            return self.exception_reply
        reply = super().reply_to(request)
        if reply.get("type") == "verdict" and reply["action"] in ("warn", "block"):
            reply["coaching"] = self.coaching
        return reply


@pytest.fixture
def scripted_agent(short_dir):
    agent = CoachingAgent(short_dir / "agent.sock", {"policy_url": "javascript:window.pwned=true",
                                                      "alternative": HOSTILE_ALTERNATIVE})
    agent.start()
    yield agent
    agent.stop()


def shadow_nodes(page, host_tag: str) -> list[dict]:
    """Every element node under the closed shadow root of `host_tag` (DevTools protocol)."""
    cdp = page.context.new_cdp_session(page)
    try:
        root = cdp.send("DOM.getDocument", {"depth": -1, "pierce": True})["root"]
    finally:
        cdp.detach()
    found: list[dict] = []

    def walk(node: dict, inside: bool) -> None:
        inside = inside or node.get("localName") == host_tag
        if inside and node.get("nodeType") == 1:
            found.append(node)
        for child in node.get("children", []) + node.get("shadowRoots", []):
            walk(child, inside)
    walk(root, False)
    return found


def test_coaching_is_text_and_only_an_https_link(guarded_browser, scripted_agent, ui):
    page = open_ai_page(guarded_browser, "https://chatgpt.com/")
    assert ui.paste(page, "#ta", "deploy with AKIAQ7ZXW3RT5YUP2MNB") == "block"
    shown = ui.banner_text(page)
    assert f"Approved alternative: {HOSTILE_ALTERNATIVE}" in shown, shown        # the markup as text
    nodes = shadow_nodes(page, "shadowmap-banner")
    assert not [n for n in nodes if n["localName"] in ("a", "img")]              # no link, no image
    assert "Read the company AI policy" not in shown
    assert page.evaluate("window.pwned") is None

    scripted_agent.coaching = {"policy_url": "https://intranet.example/ai?a=1&b=2"}
    assert ui.paste(page, "#ta", "again AKIAQ7ZXW3RT5YUP2MNB") == "block"
    (link,) = [n for n in shadow_nodes(page, "shadowmap-banner") if n["localName"] == "a"]
    attributes = dict(zip(link["attributes"][::2], link["attributes"][1::2], strict=True))
    assert attributes["href"] == "https://intranet.example/ai?a=1&b=2" and attributes["rel"] == "noopener noreferrer"
    assert "Approved alternative" not in ui.banner_text(page)                      # none given this time


def test_an_exception_request_from_the_warn_dialog(guarded_browser, scripted_agent, ui):
    page = open_ai_page(guarded_browser, "https://chatgpt.com/")
    ui.start_paste(page, "#ta", "Dr. Jane Roe's case notes")                      # the scripted agent warns
    ui.wait_dialog(page)
    (warned,) = scripted_agent.event_ids
    ui.dialog_click(page, "exception")
    ui.wait_dialog(page, "requesting")
    ui.dialog_click(page, "exception")                                            # no reason yet
    assert "Please give a short reason." in ui.wait_dialog(page, "requesting")
    page.keyboard.type(REASON)

    scripted_agent.exception_reply = {"type": "error", "error": "bad_request", "detail": "not a recent warning"}
    ui.dialog_click(page, "exception")
    wait_until(lambda: "The request could not be sent" in ui.wait_dialog(page, "requesting"), 15,
               "the dialog saying the request failed")                           # and it stays open
    assert not page.evaluate("document.documentElement.dataset.shadowmapDecision")

    scripted_agent.exception_reply = {"type": "ack"}
    ui.dialog_click(page, "exception")
    assert ui.decision(page) == "exception-requested"
    assert "Exception requested" in ui.banner_text(page)
    assert page.eval_on_selector("#ta", "e => e.value") == ""                     # nothing landed
    requests = scripted_agent.requests("exception")
    assert [(r["event_id"], r["reason"]) for r in requests] == [(warned, REASON), (warned, REASON)]
    assert set(requests[0]) <= {"type", "event_id", "reason", "id", "browser"}    # the content is not sent
    overrides = wait_until(lambda: scripted_agent.requests("override"), 15, "the warning's decision")
    assert [(o["event_id"], o["decision"]) for o in overrides] == [(warned, "cancel")]
    order = [r["type"] for r in scripted_agent.received if r["type"] in ("exception", "override")]
    assert order == ["exception", "exception", "override"]


def test_firefox_shows_the_coaching_and_sends_an_exception_request(tmp_path, https_port, scripted_agent):
    scripted_agent.coaching = {"policy_url": "https://intranet.example/ai", "alternative": "use Acme GPT"}
    with guarded_firefox(tmp_path, scripted_agent.path) as (bidi, context):
        open_in_firefox(bidi, context, f"https://chatgpt.com:{https_port}/")
        bidi.evaluate(context, "(() => { const ta = document.getElementById('ta'); ta.value = ''; ta.focus(); })()")
        bidi.type_keys(context, "Dr. Jane Roe's case notes\ue007")            # Enter: the scripted agent warns
        bidi.wait_for(context, "(document.querySelector('shadowmap-dialog') || {dataset: {}}).dataset.state === 'asking'")
        shown = bidi.shadow_text(context, "shadowmap-dialog")
        assert "Approved alternative: use Acme GPT" in shown and "Read the company AI policy" in shown, shown
        link = bidi.shadow_element(context, "shadowmap-dialog", "policy-link")
        assert link["value"]["attributes"]["href"] == "https://intranet.example/ai"
        bidi.click_element(context, bidi.shadow_element(context, "shadowmap-dialog", "exception"))
        bidi.wait_for(context, "document.querySelector('shadowmap-dialog').dataset.state === 'requesting'")
        bidi.type_keys(context, REASON)
        bidi.click_element(context, bidi.shadow_element(context, "shadowmap-dialog", "exception"))
        assert decision(bidi, context) == "exception-requested"
        assert "Exception requested" in bidi.shadow_text(context, "shadowmap-banner")
        assert bidi.evaluate(context, "window.sent") == []                         # nothing was sent
        (warned,) = scripted_agent.event_ids
        assert [(r["event_id"], r["reason"], r["browser"]) for r in scripted_agent.requests("exception")] == [
            (warned, REASON, "bridge@shadowmap.dev")]
