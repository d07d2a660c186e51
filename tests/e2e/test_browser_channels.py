"""Every channel in real Chromium with the real extension and native host, against the
scripted agent: HTML and files on the clipboard, drag-and-drop, file inputs (checked
before the page gets the files) and typed prompts at submit (Enter in the REAL ProseMirror
editor and the textarea, and the send button). For each: what reaches the agent, and what
reaches the page for allow, block and redact."""
from __future__ import annotations

import base64

import pytest

pytestmark = pytest.mark.browser

SECRET_VALUE = "AKIAQ7ZXW3RT5YUP2MNB"   # the scripted agent blocks on "AKIA"
REDACT_MARK = "jane@acme-corp.com"     # ... redacts this address, warns on "Dr."

# a synthetic paste/drop carrying files, dispatched at `selector` (a page cannot put files
# on the real clipboard; the extension treats every paste/drop event alike)
DISPATCH_WITH_FILES = """([kind, selector, plain, html, files]) => {
  const data = new DataTransfer();
  if (plain) data.setData('text/plain', plain);
  if (html) data.setData('text/html', html);
  for (const [name, type, body] of files) data.items.add(new File([body], name, { type }));
  const target = document.querySelector(selector);
  const event = kind === 'paste'
    ? new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true })
    : new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true });
  target.dispatchEvent(event);
}"""


def test_html_paste_is_scanned_as_text_and_lands_rich(guarded_browser, scripted_agent, ui):
    page = ui.open(guarded_browser, "https://chatgpt.com/")
    ui.reset(page)
    html = "<p>Quarterly <b>numbers</b></p><p>look fine</p>"
    page.evaluate("h => navigator.clipboard.write([new ClipboardItem({'text/html': new Blob([h], {type: 'text/html'})})])",
                  html)
    page.click("#pm")
    page.keyboard.press("Control+V")
    assert ui.decision(page) == "allow"
    assert page.evaluate("window.pmText()") == "Quarterly numbers\nlook fine"   # two paragraphs, kept rich
    assert page.eval_on_selector("#pm strong", "b => b.textContent") == "numbers"
    [scan] = scripted_agent.requests("scan")
    assert "Quarterly numbers" in scan["text"] and "<b>" not in scan["text"]

    # hidden in the HTML only: still found, and nothing lands
    ui.reset(page)
    page.evaluate(DISPATCH_WITH_FILES, ["paste", "#pm .ProseMirror", "Quarterly numbers",
                                        f"<p>Quarterly numbers<span style='display:none'>{SECRET_VALUE}</span></p>", []])
    assert ui.decision(page) == "block"
    assert page.evaluate("window.pmText()") == "Quarterly numbers\nlook fine"


def test_files_on_the_clipboard_are_read_or_reported(guarded_browser, scripted_agent, ui):
    page = ui.open(guarded_browser, "https://chatgpt.com/")
    ui.reset(page)
    files = [["keys.env", "", f"AWS_ACCESS_KEY_ID={SECRET_VALUE}\n"], ["logo.png", "image/png", "\x89PNG...."]]
    page.evaluate(DISPATCH_WITH_FILES, ["paste", "#ta", "", "", files])
    assert ui.decision(page) == "block"
    [scan] = scripted_agent.requests("scan")
    assert SECRET_VALUE in scan["text"] and "PNG" not in scan["text"]
    assert scan["files"] == [{"name": "keys.env", "mime": "", "size": len(files[0][2]), "read": True},
                             {"name": "logo.png", "mime": "image/png", "size": 9, "read": False}]


def test_drop_is_checked_before_the_page_sees_it(guarded_browser, scripted_agent, ui):
    page = ui.open(guarded_browser, "https://claude.ai/")
    ui.reset(page)
    page.evaluate(DISPATCH_WITH_FILES, ["drop", "#drop", "", "", [["creds.txt", "text/plain", f"key {SECRET_VALUE}"]]])
    assert ui.decision(page) == "block"
    assert page.evaluate("window.dropped") == []
    assert "blocked this dropped content" in ui.banner_text(page)

    ui.reset(page)
    page.evaluate(DISPATCH_WITH_FILES, ["drop", "#drop", "", "", [["notes.md", "text/markdown", "# agenda\n- budget"]]])
    assert ui.decision(page) == "allow"
    page.wait_for_function("window.dropped.length === 1", timeout=5000)
    assert page.evaluate("window.dropped") == [{"text": "", "files": [{"name": "notes.md", "text": "# agenda\n- budget"}]}]
    assert [r["channel"] for r in scripted_agent.requests("scan")] == ["drop", "drop"]


def test_file_input_is_checked_before_the_page_gets_the_files(guarded_browser, scripted_agent, ui, tmp_path):
    page = ui.open(guarded_browser, "https://claude.ai/")
    secret_file = tmp_path / "prod.env"
    secret_file.write_text(f"AWS_ACCESS_KEY_ID={SECRET_VALUE}\n")
    ui.reset(page)
    page.set_input_files("#file", str(secret_file))
    assert ui.decision(page) == "block"
    assert page.evaluate("window.uploaded") == []
    assert page.eval_on_selector("#file", "i => i.files.length") == 0     # the page cannot read it later
    assert "blocked this file upload" in ui.banner_text(page)

    harmless, image = tmp_path / "agenda.txt", tmp_path / "photo.png"
    harmless.write_text("agenda: budget review")
    image.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    ui.reset(page)
    page.set_input_files("#file", [str(harmless), str(image)])
    assert ui.decision(page) == "allow"
    page.wait_for_function("window.uploaded.length === 1", timeout=5000)
    assert page.evaluate("window.uploaded") == [[{"name": "agenda.txt", "size": 21}, {"name": "photo.png", "size": 108}]]
    first, second = scripted_agent.requests("scan")
    assert first["channel"] == second["channel"] == "upload"
    assert second["text"] == "agenda: budget review"
    # a PNG (by its bytes) goes to the agent to be OCRed: its bytes, base64; `read` is the agent's to say
    assert second["files"] == [{"name": "agenda.txt", "mime": "text/plain", "size": 21, "read": True},
                               {"name": "photo.png", "mime": "image/png", "size": 108, "read": False,
                                "content": base64.b64encode(image.read_bytes()).decode()}]


def test_typed_prompts_are_checked_at_submit(guarded_browser, scripted_agent, ui):
    page = ui.open(guarded_browser, "https://chatgpt.com/")
    # Enter in the real ProseMirror editor
    for text, expected in ((f"use key {SECRET_VALUE}", "block"), ("what is a haiku", "allow"),
                           (f"write to {REDACT_MARK}", "redact")):
        ui.reset(page)
        page.click("#pm")
        page.keyboard.type(text)
        page.keyboard.press("Enter")
        assert ui.decision(page) == expected, text
        if expected == "block":
            assert page.evaluate("window.pmText()") == text          # kept for the user to edit
            page.evaluate("window.pmView.dispatch(window.pmView.state.tr.delete(0, window.pmView.state.doc.content.size))")
    assert page.evaluate("window.sent") == [{"from": "pm", "text": "what is a haiku"},
                                            {"from": "pm", "text": "write to <EMAIL_1>"}]

    # Enter and the send button on the textarea form
    ui.reset(page)
    page.click("#ta")
    page.keyboard.type(f"key {SECRET_VALUE}")
    page.click("#send")
    assert ui.decision(page) == "block"
    assert ui.text(page, "#ta") == f"key {SECRET_VALUE}"
    page.fill("#ta", "")
    page.click("#ta")
    page.keyboard.type("plan the offsite")
    ui.reset(page)
    page.click("#send")
    assert ui.decision(page) == "allow"
    page.click("#ta")
    page.keyboard.type("and the budget")
    ui.reset(page)
    page.keyboard.press("Enter")
    assert ui.decision(page) == "allow"
    assert page.evaluate("window.sent")[2:] == [{"from": "ta", "text": "plan the offsite"},
                                                {"from": "ta", "text": "and the budget"}]
    submits = [r["text"] for r in scripted_agent.requests("scan") if r["channel"] == "submit"]
    assert submits == [f"use key {SECRET_VALUE}", "what is a haiku", f"write to {REDACT_MARK}",
                       f"key {SECRET_VALUE}", "plan the offsite", "and the budget"]
