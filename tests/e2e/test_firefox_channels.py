"""More channels in Debian's real Firefox ESR, with the extension's Firefox build and the
real native host (registered by `shadowmap bridge install --browser firefox`), against the
scripted agent, all driven over WebDriver BiDi with trusted input:
- a file input (input.setFiles): a file holding an AWS key is blocked before the page's
  listener sees it, a harmless one reaches the page;
- drops and pasted files (page-dispatched events): blocked, or replayed to the page;
- the warn dialog on a typed prompt with an email address: its text (read inside the
  closed shadow root, which the page cannot), Cancel, then "Send anyway" with a typed
  justification, both overrides recorded by the agent, screenshots;
- a real Ctrl+V from the system clipboard (headless Firefox keeps its own clipboard) into
  the textarea (block with its banner, allow, redact, warn) and the real ProseMirror
  editor (plain text, and HTML that lands rich);
- the agent going down: the cached policy's fail-closed/fail-open per data class, the
  decisions queued and uploaded when the agent is back."""
from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest
from e2e.firefox_bidi import BiDi, decision, guarded_firefox, open_ai_page, reset
from support.waiting import wait_until

from shadowmap.bridge.build_extension import FIREFOX_ADDON_ID

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"   # the Chromium tests' screenshots folder
SECRET_VALUE = "AKIAQ7ZXW3RT5YUP2MNB"   # the scripted agent blocks on "AKIA"
REDACT_MARK = "jane@acme-corp.com"     # ... redacts this address
EMAIL = "margaret@northwind-traders.com"
ENTER, CONTROL = "\ue007", "\ue009"
EMAIL_PATTERN = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")


@pytest.fixture
def firefox(tmp_path, scripted_agent):
    with guarded_firefox(tmp_path, scripted_agent.path) as session:
        yield session


def warn_on_email(agent) -> None:
    """The default policy warns on personal data such as an email address (a lone name is
    allowed): make the scripted agent answer so, keeping its other answers."""
    scripted = agent.reply_to

    def reply_to(request: dict) -> dict:
        if request.get("type") == "scan" and EMAIL_PATTERN.search(request["text"]):
            agent.event_ids.append(f"ev-{len(agent.received)}")
            return {"type": "verdict", "action": "warn", "reason": "policy says warn",
                    "findings": [{"entity_type": "EMAIL_ADDRESS", "data_class": "pii", "count": 1, "reason": "email"}],
                    "event_id": agent.event_ids[-1]}
        return scripted(request)

    agent.reply_to = reply_to


def wait_for(predicate, what: str, timeout: float = 15.0):
    return wait_until(predicate, timeout, what)


def type_prompt(bidi: BiDi, context: str, text: str) -> str:
    """Clear the textarea, type `text` and Enter like a user; returns the decision."""
    bidi.evaluate(context, "(() => { const ta = document.getElementById('ta'); ta.value = ''; ta.focus(); })()")
    reset(bidi, context)
    bidi.type_keys(context, f"{text}{ENTER}")
    return decision(bidi, context)


def dispatch_with_files(kind: str, selector: str, files: list[tuple[str, str, str]]) -> str:
    """A page script dispatching a paste or drop that carries files at `selector` (a page
    cannot put files on the real clipboard, and BiDi has no OS-level drag; the extension
    treats every paste/drop event alike). Firefox's ClipboardEvent ignores the
    clipboardData it is given and makes its own, writable one: the files go there."""
    return f"""(([kind, selector, files]) => {{
      const init = {{ bubbles: true, cancelable: true }};
      const event = kind === 'paste' ? new ClipboardEvent('paste', {{ ...init, clipboardData: new DataTransfer() }})
                                     : new DragEvent('drop', {{ ...init, dataTransfer: new DataTransfer() }});
      const data = kind === 'paste' ? event.clipboardData : event.dataTransfer;
      for (const [name, type, body] of files) data.items.add(new File([body], name, {{ type }}));
      document.querySelector(selector).dispatchEvent(event);
      return true;
    }})({json.dumps([kind, selector, files])})"""


def wait_dialog(bidi: BiDi, context: str, state: str = "asking") -> str:
    host = "(document.querySelector('shadowmap-dialog') || {dataset: {}})"
    bidi.wait_for(context, f"{host}.dataset.state === {state!r}")
    return bidi.shadow_text(context, "shadowmap-dialog")


def test_file_input_is_checked_before_the_page_gets_the_files(firefox, https_port, scripted_agent, tmp_path):
    bidi, context = firefox
    open_ai_page(bidi, context, f"https://claude.ai:{https_port}/")
    secret_file = tmp_path / "prod.env"
    secret_file.write_text(f"AWS_ACCESS_KEY_ID={SECRET_VALUE}\n")
    reset(bidi, context)
    bidi.set_files(context, "#file", [secret_file])
    assert decision(bidi, context) == "block"
    assert bidi.evaluate(context, "window.uploaded") == []
    assert bidi.evaluate(context, "document.getElementById('file').files.length") == 0   # emptied
    shown = bidi.shadow_text(context, "shadowmap-banner")
    assert "blocked this file upload" in shown and "AWS access key" in shown and SECRET_VALUE not in shown

    harmless, image = tmp_path / "agenda.txt", tmp_path / "photo.png"
    harmless.write_text("agenda: budget review")
    image.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    reset(bidi, context)
    bidi.set_files(context, "#file", [harmless, image])
    assert decision(bidi, context) == "allow"
    assert bidi.wait_for(context, "window.uploaded.length === 1 && window.uploaded", timeout=5) == [
        [{"name": "agenda.txt", "size": 21}, {"name": "photo.png", "size": 108}]]
    first, second = scripted_agent.requests("scan")
    assert first["channel"] == second["channel"] == "upload"
    assert SECRET_VALUE in first["text"] and second["text"] == "agenda: budget review"
    # a PNG (by its bytes) goes to the agent to be OCRed: its bytes, base64; `read` is the agent's to say
    assert second["files"] == [{"name": "agenda.txt", "mime": "text/plain", "size": 21, "read": True},
                               {"name": "photo.png", "mime": "image/png", "size": 108, "read": False,
                                "content": base64.b64encode(image.read_bytes()).decode()}]
    assert first["browser"] == second["browser"] == FIREFOX_ADDON_ID   # the host names its caller


def test_drop_and_files_on_the_clipboard(firefox, https_port, scripted_agent):
    bidi, context = firefox
    open_ai_page(bidi, context, f"https://claude.ai:{https_port}/")
    reset(bidi, context)
    bidi.evaluate(context, dispatch_with_files("drop", "#drop", [("creds.txt", "text/plain", f"key {SECRET_VALUE}")]))
    assert decision(bidi, context) == "block"
    assert bidi.evaluate(context, "window.dropped") == []
    assert "blocked this dropped content" in bidi.shadow_text(context, "shadowmap-banner")

    # allowed: the replayed drop carries the file to the page's own listener
    reset(bidi, context)
    bidi.evaluate(context, dispatch_with_files("drop", "#drop", [("notes.md", "text/markdown", "# agenda\n- budget")]))
    assert decision(bidi, context) == "allow"
    assert bidi.wait_for(context, "window.dropped.length === 1 && window.dropped", timeout=5) == [
        {"text": "", "files": [{"name": "notes.md", "text": "# agenda\n- budget"}]}]

    reset(bidi, context)
    files = [("keys.env", "", f"AWS_ACCESS_KEY_ID={SECRET_VALUE}\n"), ("logo.png", "image/png", "PNG....")]
    bidi.evaluate(context, dispatch_with_files("paste", "#ta", files))
    assert decision(bidi, context) == "block"
    assert bidi.evaluate(context, "document.getElementById('ta').value") == ""
    drops, pastes = scripted_agent.requests("scan")[:2], scripted_agent.requests("scan")[2:]
    assert [d["channel"] for d in drops] == ["drop", "drop"] and SECRET_VALUE in drops[0]["text"]
    [paste] = pastes
    assert paste["channel"] == "paste" and SECRET_VALUE in paste["text"] and "PNG" not in paste["text"]
    assert paste["files"] == [{"name": "keys.env", "mime": "", "size": len(files[0][2]), "read": True},
                              {"name": "logo.png", "mime": "image/png", "size": 7, "read": False}]


def test_warn_dialog_send_anyway_with_a_justification(firefox, https_port, scripted_agent):
    warn_on_email(scripted_agent)
    bidi, context = firefox
    open_ai_page(bidi, context, f"https://chatgpt.com:{https_port}/")
    bidi.evaluate(context, "(() => { const ta = document.getElementById('ta'); ta.value = ''; ta.focus(); })()")
    bidi.type_keys(context, f"send the invoice to {EMAIL}{ENTER}")
    shown = wait_dialog(bidi, context)
    assert "Check this message before it is sent" in shown and "email address" in shown
    assert "policy says warn" in shown and EMAIL not in shown
    assert bidi.evaluate(context, "document.querySelector('shadowmap-dialog').shadowRoot") is None  # closed
    bidi.screenshot(context, ARTIFACTS / "firefox-warn-dialog.png")
    assert bidi.evaluate(context, "window.sent") == []          # held while the user decides
    bidi.click_element(context, bidi.shadow_element(context, "shadowmap-dialog", "cancel"))
    assert decision(bidi, context) == "warn-cancelled"
    assert bidi.evaluate(context, "[window.sent, document.getElementById('ta').value]") == [
        [], f"send the invoice to {EMAIL}"]                     # kept for the user to edit

    reset(bidi, context)
    bidi.evaluate(context, "document.getElementById('ta').focus()")
    bidi.type_keys(context, ENTER)
    wait_dialog(bidi, context)
    bidi.click_element(context, bidi.shadow_element(context, "shadowmap-dialog", "send"))
    assert "Why do you need to send it?" in wait_dialog(bidi, context, "justifying")
    bidi.type_keys(context, "the customer asked for the invoice")
    bidi.screenshot(context, ARTIFACTS / "firefox-warn-dialog-justification.png")
    bidi.click_element(context, bidi.shadow_element(context, "shadowmap-dialog", "send"))
    assert decision(bidi, context) == "warn-sent"
    assert bidi.wait_for(context, "window.sent.length === 1 && window.sent") == [
        {"from": "ta", "text": f"send the invoice to {EMAIL}"}]

    scans = scripted_agent.requests("scan")
    assert [(s["channel"], s["text"]) for s in scans] == [("submit", f"send the invoice to {EMAIL}")] * 2
    cancelled, sent = wait_for(lambda: len(scripted_agent.requests("override")) == 2 and
                               scripted_agent.requests("override"), "the overrides")
    assert (cancelled["decision"], cancelled["event_id"]) == ("cancel", scripted_agent.event_ids[0])
    assert "justification" not in cancelled
    assert (sent["decision"], sent["event_id"], sent["justification"]) == \
        ("send_anyway", scripted_agent.event_ids[1], "the customer asked for the invoice")


def test_real_ctrl_v_from_the_clipboard(firefox, https_port, scripted_agent):
    bidi, context = firefox
    open_ai_page(bidi, context, f"https://chatgpt.com:{https_port}/")
    for text, expected, lands in ((f"deploy with {SECRET_VALUE}", "block", ""),
                                  ("summarise the meeting notes", "allow", "summarise the meeting notes"),
                                  (f"reply to {REDACT_MARK} today", "redact", "reply to <EMAIL_1> today")):
        bidi.click(context, "#ta")
        bidi.evaluate(context, "document.getElementById('ta').value = ''")
        reset(bidi, context)
        bidi.write_clipboard(context, text)
        bidi.chord(context, CONTROL, "v")
        assert decision(bidi, context) == expected, text
        assert bidi.evaluate(context, "document.getElementById('ta').value") == lands
        if expected == "block":
            shown = bidi.shadow_text(context, "shadowmap-banner")
            assert "blocked this paste" in shown and "AWS access key" in shown and SECRET_VALUE not in shown
            bidi.screenshot(context, ARTIFACTS / "firefox-block-banner.png")
    # warn on a paste: the dialog, then "Send anyway" with a reason lands it
    bidi.evaluate(context, "document.getElementById('ta').value = ''")
    reset(bidi, context)
    bidi.write_clipboard(context, "letter for Dr. Watson")       # the scripted agent warns on "Dr."
    bidi.chord(context, CONTROL, "v")
    assert "Check this paste before it is sent" in wait_dialog(bidi, context)
    bidi.click_element(context, bidi.shadow_element(context, "shadowmap-dialog", "send"))
    wait_dialog(bidi, context, "justifying")
    bidi.type_keys(context, "a letter the customer asked for")
    bidi.click_element(context, bidi.shadow_element(context, "shadowmap-dialog", "send"))
    assert decision(bidi, context) == "warn-sent"
    assert bidi.evaluate(context, "document.getElementById('ta').value") == "letter for Dr. Watson"
    # the override is sent after the text lands: wait for it (a CI run under load read it too early)
    [override] = wait_for(lambda: scripted_agent.requests("override"), "the warning's override")
    assert (override["decision"], override["justification"]) == ("send_anyway", "a letter the customer asked for")

    # the real ProseMirror editor gets the allowed paste replayed and takes it into its own state
    bidi.click(context, "#pm .ProseMirror")
    reset(bidi, context)
    bidi.write_clipboard(context, "draft the agenda")
    bidi.chord(context, CONTROL, "v")
    assert decision(bidi, context) == "allow"
    assert bidi.wait_for(context, "window.pmText()", timeout=5) == "draft the agenda"
    # HTML on the clipboard: its text is what is scanned, and ProseMirror gets it rich
    bidi.evaluate(context, "(v => v.dispatch(v.state.tr.delete(0, v.state.doc.content.size)))(window.pmView)")
    reset(bidi, context)
    bidi.write_clipboard(context, "Quarterly numbers look fine",
                         html="<p>Quarterly <b>numbers</b></p><p>look fine</p>")
    bidi.chord(context, CONTROL, "v")
    assert decision(bidi, context) == "allow"
    assert bidi.wait_for(context, "window.pmText()", timeout=5) == "Quarterly numbers\nlook fine"
    assert bidi.evaluate(context, "document.querySelector('#pm strong').textContent") == "numbers"
    scans = scripted_agent.requests("scan")
    assert [(s["channel"], s["text"]) for s in scans[:-1]] == [
        ("paste", f"deploy with {SECRET_VALUE}"), ("paste", "summarise the meeting notes"),
        ("paste", f"reply to {REDACT_MARK} today"), ("paste", "letter for Dr. Watson"), ("paste", "draft the agenda")]
    assert "Quarterly numbers" in scans[-1]["text"] and "<b>" not in scans[-1]["text"]


def test_agent_down_cached_policy_per_class_then_uploaded(firefox, https_port, scripted_agent):
    bidi, context = firefox
    open_ai_page(bidi, context, f"https://chatgpt.com:{https_port}/")
    assert type_prompt(bidi, context, "warm up") == "allow"
    wait_for(lambda: scripted_agent.requests("policy"), "the extension to fetch the policy")

    scripted_agent.stop()
    assert type_prompt(bidi, context, f"deploy with {SECRET_VALUE}") == "block"      # secrets fail closed
    shown = bidi.shadow_text(context, "shadowmap-banner")
    assert "decided while shadowmap was unavailable" in shown and "secret" in shown and SECRET_VALUE not in shown
    assert type_prompt(bidi, context, f"mail {EMAIL}") == "allow"                    # pii fails open
    assert bidi.evaluate(context, "window.sent") == [{"from": "ta", "text": "warm up"},
                                                     {"from": "ta", "text": f"mail {EMAIL}"}]

    scripted_agent.start()
    assert type_prompt(bidi, context, "agent is back") == "allow"
    uploaded = wait_for(lambda: len(scripted_agent.requests("offline_decision")) >= 2 and
                        scripted_agent.requests("offline_decision"), "the queued decisions")
    assert [(d["action"], d["data_classes"], d["channel"]) for d in uploaded] == [
        ("block", ["secret"], "submit"), ("allow", ["pii"], "submit")]
    assert all(d["decided_at"].endswith("Z") and "text" not in d for d in uploaded)
    assert len({d["decision_id"] for d in uploaded}) == 2


def test_never_reached_agent_fails_open_by_default(tmp_path, https_port, short_dir):
    # no agent ever answered, so no cached policy: the managed default (fail_open) applies
    with guarded_firefox(tmp_path, short_dir / "no-agent.sock") as (bidi, context):
        open_ai_page(bidi, context, f"https://chatgpt.com:{https_port}/")
        assert type_prompt(bidi, context, "hello from a harmless prompt") == "allow"
        assert bidi.wait_for(context, "window.sent.length === 1 && window.sent") == [
            {"from": "ta", "text": "hello from a harmless prompt"}]
