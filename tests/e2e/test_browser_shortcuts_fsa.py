"""Two ways round the classic channels, in real Chromium with the real extension and
native host, against the scripted agent: prompts sent with Ctrl+Enter (a REAL ProseMirror
editor where Enter makes a new line) or its send button, and files read through the File
System Access API (getAsFileSystemHandle() on a real drop, then handle.getFile()).

showOpenFilePicker() itself cannot be answered here: with Playwright's file-chooser
interception on, headless Chromium rejects it at once ("AbortError: Intercepted by
Page.setInterceptFileChooserDialog()") and emits no file-chooser event; without it, the
native picker waits for a user. The gate sits on FileSystemFileHandle.getFile(), which
picker handles and dropped handles share, so the drop tests exercise the same code."""
from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

SECRET_VALUE = "AKIAQ7ZXW3RT5YUP2MNB"   # the scripted agent blocks on "AKIA"
REDACT_MARK = "jane@acme-corp.com"     # ... and redacts this address


def submits(agent) -> list[str]:
    return [r["text"] for r in agent.requests("scan") if r["channel"] == "submit"]


def test_ctrl_enter_and_the_send_button_are_checked_where_enter_makes_a_new_line(guarded_browser, scripted_agent, ui):
    page = ui.open(guarded_browser, "https://chatgpt.com/")
    ui.reset(page)
    page.click("#pm2")
    page.keyboard.type("first line")
    page.keyboard.press("Enter")          # checked once; the page makes it a new line
    assert ui.decision(page) == "allow"
    page.wait_for_function("window.pm2View.state.doc.childCount === 2", timeout=5000)
    ui.reset(page)
    page.keyboard.type(f"key {SECRET_VALUE}")
    page.keyboard.press("Control+Enter")
    assert ui.decision(page) == "block"
    assert page.evaluate("window.pm2Text()") == f"first line\nkey {SECRET_VALUE}"   # kept for the user to edit
    assert "blocked this message" in ui.banner_text(page)
    assert page.evaluate("window.sent") == []

    page.evaluate("window.pm2View.dispatch(window.pm2View.state.tr.delete(0, window.pm2View.state.doc.content.size))")
    ui.reset(page)
    page.click("#pm2")
    page.keyboard.type("what is a haiku")
    page.keyboard.press("Enter")          # learnt: a new line here, not checked again
    page.keyboard.type("in five words")
    page.keyboard.press("Control+Enter")
    assert ui.decision(page) == "allow"
    page.wait_for_function("window.sent.length === 1", timeout=5000)

    ui.reset(page)
    page.click("#pm2")
    page.keyboard.type(f"write to {REDACT_MARK}")
    page.click("#pm2-send")
    assert ui.decision(page) == "redact"
    page.wait_for_function("window.sent.length === 2", timeout=5000)
    assert page.evaluate("window.sent") == [{"from": "pm2", "text": "what is a haiku\nin five words"},
                                            {"from": "pm2", "text": "write to <EMAIL_1>"}]
    checked = [" ".join(t.split()) for t in submits(scripted_agent)]
    assert checked == ["first line", f"first line key {SECRET_VALUE}", "what is a haiku in five words",
                       f"write to {REDACT_MARK}"]


def real_file_drop(page, selector: str, path: Path) -> None:
    """An OS-level drop of a file from disk (DevTools Input.dispatchDragEvent): trusted,
    and its items have real file-system handles."""
    box = page.locator(selector).bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    cdp = page.context.new_cdp_session(page)
    try:
        data = {"items": [], "files": [str(path)], "dragOperationsMask": 1}
        for kind in ("dragEnter", "dragOver", "drop"):
            cdp.send("Input.dispatchDragEvent", {"type": kind, "x": x, "y": y, "data": data})
    finally:
        cdp.detach()


def test_files_read_through_file_system_handles_are_checked(guarded_browser, scripted_agent, ui, tmp_path):
    page = ui.open(guarded_browser, "https://claude.ai/")
    notes, secrets = tmp_path / "notes.txt", tmp_path / "prod.env"
    notes.write_text("agenda: budget review")
    secrets.write_text(f"AWS_ACCESS_KEY_ID={SECRET_VALUE}\n")

    # a dropped secret: stopped with the drop, the page never gets a handle
    ui.reset(page)
    real_file_drop(page, "#fsa-drop", secrets)
    assert ui.decision(page) == "block"
    assert page.evaluate("window.fsaHandles.length") == 0

    # an allowed drop: the page gets the real handle, and reads the file once unchallenged
    ui.reset(page)
    real_file_drop(page, "#fsa-drop", notes)
    assert ui.decision(page) == "allow"
    page.wait_for_function("window.fsaRead.length === 1", timeout=5000)
    assert page.evaluate("window.fsaRead") == [{"name": "notes.txt", "text": "agenda: budget review"}]
    assert [r["channel"] for r in scripted_agent.requests("scan")] == ["drop", "drop"]

    # the file changes on disk; the page reads it again through its handle: checked
    notes.write_text(f"agenda: budget review\nAWS_ACCESS_KEY_ID={SECRET_VALUE}\n")
    ui.reset(page)
    page.evaluate("window.fsaReadAll()")
    assert ui.decision(page) == "block"
    assert page.evaluate("window.fsaRead[1]") == {"name": "notes.txt", "error": "NotAllowedError"}
    assert "blocked this file upload" in ui.banner_text(page)
    upload = scripted_agent.requests("scan")[-1]
    assert upload["channel"] == "upload" and SECRET_VALUE in upload["text"]
    assert upload["files"] == [{"name": "notes.txt", "mime": "text/plain", "size": notes.stat().st_size, "read": True}]

    notes.write_text("agenda: offsite")
    ui.reset(page)
    page.evaluate("window.fsaReadAll()")
    assert ui.decision(page) == "allow"
    page.wait_for_function("window.fsaRead.length === 3", timeout=5000)
    assert page.evaluate("window.fsaRead[2]") == {"name": "notes.txt", "text": "agenda: offsite"}


def test_the_private_channel_is_not_seen_nor_forged_by_the_page(guarded_browser, scripted_agent, ui):
    page = ui.open(guarded_browser, "https://chatgpt.com/")
    # the page's earliest message listener never saw the extension's port
    assert page.evaluate("window.portsSeen") == 0
    # a page offering its own port gets no answer: only the first hand-over is taken
    answered = page.evaluate("""() => new Promise((resolve) => {
      const ch = new MessageChannel();
      ch.port1.onmessage = (e) => resolve(e.data);
      window.postMessage({ shadowmapFsaPort: true }, location.origin, [ch.port2]);
      setTimeout(() => resolve(null), 1000);
    })""")
    assert answered is None
    assert page.evaluate("window.portsSeen") == 1   # the page's listener does see ports: it saw its own
    # files the page keeps in its own private storage (OPFS) are its own: not checked
    text = page.evaluate(f"""async () => {{
      const root = await navigator.storage.getDirectory();
      const handle = await root.getFileHandle('draft.txt', {{ create: true }});
      const out = await handle.createWritable();
      await out.write('kept by the page {SECRET_VALUE}');
      await out.close();
      return (await handle.getFile()).text();
    }}""")
    assert text == f"kept by the page {SECRET_VALUE}"
    assert scripted_agent.requests("scan") == []
