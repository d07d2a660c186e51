"""The Firefox build in Debian's real Firefox ESR: installed as a temporary add-on over
WebDriver BiDi, its native host registered for Firefox by the real `shadowmap bridge
install --browser firefox` (allowed_extensions, under the test's own HOME), a catalogued AI
hostname (chatgpt.com, resolved to the local test server), and trusted typing
(input.performActions): a prompt with a planted AWS key is blocked at Enter, a harmless
one is sent, Ctrl+Enter in the real ProseMirror editor is checked too, and every prompt
reached the agent through the native host."""
from __future__ import annotations

import pytest
from e2e.firefox_bidi import guarded_firefox, open_ai_page

pytestmark = pytest.mark.browser

SECRET_VALUE = "AKIAQ7ZXW3RT5YUP2MNB"   # the scripted agent blocks on "AKIA"
ENTER, CONTROL = "\ue007", "\ue009"


@pytest.fixture
def firefox(tmp_path, scripted_agent):
    with guarded_firefox(tmp_path, scripted_agent.path) as session:
        yield session


def test_firefox_blocks_a_typed_secret_at_enter(firefox, https_port, scripted_agent):
    bidi, context = firefox
    open_ai_page(bidi, context, f"https://chatgpt.com:{https_port}/")

    bidi.evaluate(context, "document.getElementById('ta').focus()")
    bidi.type_keys(context, f"key {SECRET_VALUE}{ENTER}")
    assert bidi.wait_for(context, "document.documentElement.dataset.shadowmapDecision") == "block"
    assert bidi.evaluate(context, "window.sent") == []
    assert bidi.evaluate(context, "document.getElementById('ta').value") == f"key {SECRET_VALUE}"

    bidi.evaluate(context, "(() => { const ta = document.getElementById('ta'); ta.value = ''; ta.focus();"
                           " delete document.documentElement.dataset.shadowmapDecision; })()")
    bidi.type_keys(context, f"plan the offsite{ENTER}")
    assert bidi.wait_for(context, "document.documentElement.dataset.shadowmapDecision") == "allow"
    assert bidi.wait_for(context, "window.sent.length === 1 && window.sent") == [{"from": "ta", "text": "plan the offsite"}]

    # the real ProseMirror editor where Enter makes a new line: Ctrl+Enter sends, checked first
    bidi.evaluate(context, "delete document.documentElement.dataset.shadowmapDecision")
    bidi.click(context, "#pm2 .ProseMirror")
    bidi.type_keys(context, f"deploy with {SECRET_VALUE}")
    bidi.chord(context, CONTROL, ENTER)
    assert bidi.wait_for(context, "document.documentElement.dataset.shadowmapDecision") == "block"
    assert bidi.evaluate(context, "window.pm2Text()") == f"deploy with {SECRET_VALUE}"
    assert bidi.evaluate(context, "window.sent.length") == 1

    scans = scripted_agent.requests("scan")
    assert [(s["channel"], s["text"]) for s in scans] == [
        ("submit", f"key {SECRET_VALUE}"), ("submit", "plan the offsite"), ("submit", f"deploy with {SECRET_VALUE}")]
