"""Files and screenshots in the real browser, through the real stack (Chromium with the
extension, the native host, the agent with its engine and OCR, the collector): an XLSX of
customers chosen in a file input and a screenshot of a customer table pasted with a real
Ctrl+V, on a mapped AI page, are read on the device and blocked by the collector's policy.
The user sees "checking…" while the agent reads; the page never gets the file, the image or
their values, and no planted value is in any file the collector or the agent wrote."""
from __future__ import annotations

import base64
import json
import secrets
import sqlite3
from pathlib import Path

import pytest
from openpyxl import Workbook
from support.file_samples import screenshot
from support.waiting import wait_until

pytestmark = pytest.mark.browser

PAGE = "https://chatgpt.com/"
POLICY = {
    "version": 1,
    "name": "files e2e: personal data blocked everywhere",
    "unknown_tool": "monitor",
    # an image the agent cannot OCR within the budget is blocked too (fail_closed): a page
    # must never get an unchecked screenshot; the test tells the two blocks apart by the event
    "on_incomplete_file": {"image_budget_seconds": 25, "image_over_budget": "fail_closed"},
    "rules": [
        {"tool": "*", "data_class": "secret", "action": "block"},
        {"tool": "*", "data_class": "pii", "action": "block"},
        {"tool": "*", "data_class": "production", "action": "block"},
    ],
}
RUN = secrets.token_hex(3)        # fresh per run: finding one in a file can only mean this run leaked it
SHEET_EMAILS = [f"cust{i}.{RUN}@harbor-freight-test.com" for i in range(40)]
EVENT_TIMEOUT_S = 60
OCR_VERDICT_TIMEOUT_MS = 40_000    # the extension waits 35 s for the host (host.v1.json)
OCR_ATTEMPTS = 4


@pytest.fixture(scope="module")
def stack(full_stack):
    full_stack.set_policy(POLICY)
    return full_stack


def customers_xlsx(path: Path) -> Path:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Customers")
    sheet.append(["Customer ID", "Name", "Email", "Phone"])
    for i, email in enumerate(SHEET_EMAILS):
        sheet.append([f"C-{5000 + i}", f"Customer {i}", email, f"(415) 555-{2000 + i:04d}"])
    workbook.save(path)
    return path


def collected(stack, channel: str, count: int = 1) -> list[dict]:
    """The collector's paste.scanned events of ``channel``, once ``count`` arrived (oldest first)."""
    def probe() -> list[dict]:
        with sqlite3.connect(f"file:{stack.db_path}?mode=ro", uri=True, timeout=5) as db:
            bodies = [json.loads(b) for (b,) in db.execute("SELECT body FROM events WHERE type = 'paste.scanned' "
                                                           "ORDER BY ts")]
        found = [e for e in bodies if e["data"]["channel"] == channel]
        return found if len(found) >= count else []
    return wait_until(probe, EVENT_TIMEOUT_S, f"paste.scanned on {channel}", interval=0.25)


def watch_page(page) -> None:
    """What the page itself receives: paste events and file-input changes (bubble phase)."""
    page.evaluate("""() => {
      window.pageSaw = [];
      document.addEventListener('paste', (e) => window.pageSaw.push(
        {paste: [...e.clipboardData.files].map((f) => f.name), text: e.clipboardData.getData('text/plain')}));
    }""")


def test_an_xlsx_upload_is_read_and_blocked(stack, ui, tmp_path):
    page = ui.open(stack.context, PAGE)
    watch_page(page)
    ui.reset(page)
    page.set_input_files("#file", str(customers_xlsx(tmp_path / "customers.xlsx")))
    decided = ui.decision(page)
    assert decided == "block", (decided, collected(stack, "upload")[-1]["data"])
    shown = ui.banner_text(page)
    assert "shadowmap blocked this file upload" in shown and "email address" in shown, shown
    assert not [e for e in SHEET_EMAILS if e in shown]
    assert page.eval_on_selector("#file", "i => i.files.length") == 0     # the page cannot read it later
    assert page.evaluate("window.uploaded") == []
    (event,) = collected(stack, "upload")
    data = event["data"]
    assert data["action"] == "block" and "pii" in data["data_classes"], data
    assert data["files"] == [{"name": "customers.xlsx", "size": (tmp_path / "customers.xlsx").stat().st_size,
                              "read": True, "mime": data["files"][0]["mime"]}]
    assert {f["entity_type"] for f in data["findings"]} >= {"EMAIL_ADDRESS"}


def paste_image(page, ui, png: bytes) -> None:
    """A real Ctrl+V of a PNG put on the clipboard."""
    ui.reset(page)
    page.evaluate("""async (b64) => {
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      await navigator.clipboard.write([new ClipboardItem({'image/png': new Blob([bytes], {type: 'image/png'})})]);
    }""", base64.b64encode(png).decode())
    page.click("#ta")
    page.keyboard.press("Control+V")


def test_a_screenshot_paste_is_ocred_and_blocked(stack, ui):
    png, records = screenshot(rows=5, size=(1280, 320), seed=7)
    page = ui.open(stack.context, PAGE)
    watch_page(page)
    # the agent loads (and verifies) its OCR with the first image: on a loaded machine that
    # alone can pass the budget. Every attempt must be blocked (by what was found, or as over
    # budget: fail_closed), and within a few attempts one must be read and blocked for its findings
    read_event = None
    for attempt in range(1, OCR_ATTEMPTS + 1):
        paste_image(page, ui, png)
        if attempt == 1:     # "checking…" while the agent reads the image (seconds: OCR)
            page.wait_for_selector("shadowmap-banner[data-kind='checking']", state="attached", timeout=10000)
            checking = ui.banner_text(page)
            assert "checking this paste" in checking, checking
        page.wait_for_function("document.documentElement.dataset.shadowmapDecision", timeout=OCR_VERDICT_TIMEOUT_MS)
        assert ui.decision(page) == "block"
        shown = ui.banner_text(page)
        assert "shadowmap blocked this paste" in shown, shown
        assert not [r for r in records if r[2] in shown or r[3] in shown], shown
        assert page.evaluate("window.pageSaw") == []                   # the page never got the paste
        assert ui.text(page, "#ta") == ""
        event = collected(stack, "paste", count=attempt)[-1]
        if event["data"]["files"][0]["read"]:
            read_event, banner = event, shown
            break
    assert read_event is not None, f"the image was over the OCR budget {OCR_ATTEMPTS} times"
    assert "email address" in banner, banner
    data = read_event["data"]
    assert data["action"] == "block" and "pii" in data["data_classes"], data
    kinds = {f["entity_type"] for f in data["findings"]}
    assert {"EMAIL_ADDRESS", "PHONE_NUMBER"} <= kinds, kinds

    # no planted value (sheet or screenshot) in any file the collector or the agent wrote
    planted = [*SHEET_EMAILS, *(r[2] for r in records), *(r[3] for r in records)]
    hits = [(str(p), v) for p in stack.stored_files() for v in planted if v.encode() in p.read_bytes()]
    assert hits == []
