"""Files in a scan request, through the agent's handler (real engine, spool and policy): the
bytes are read (documents) or OCRed (images), the text scanned, the verdict carries per-file
facts and never text, the event carries file facts only, and the policy's on_incomplete_file
decides for a file that could not be read."""
from __future__ import annotations

import base64
import json

import pytest
from support.file_samples import customer, xlsx, zip_bomb, zip_of

from shadowmap.agent.enroll import EnrollmentHolder
from shadowmap.agent.handlers import RequestHandlers
from shadowmap.agent.policy import PolicyStore
from shadowmap.agent.spool import Spool
from shadowmap.contract import default_policy, validate_ipc_reply
from shadowmap.contract.host import MAX_FILE_CONTENT
from shadowmap.detectors.catalog import load_catalog
from shadowmap.detectors.files.batch import IMAGE_OVER_BUDGET, FileScanner
from shadowmap.detectors.hashing import summarize
from shadowmap.detectors.settings import MAX_SCAN_CHARS

PAGE = "https://chatgpt.com/c/files"


@pytest.fixture
def make_handlers(tmp_path, engine):
    made = []

    def make(policy: dict | None = None, files: FileScanner | None = None) -> tuple[RequestHandlers, Spool]:
        state = tmp_path / f"state{len(made)}"
        state.mkdir()
        spool = Spool(state / "spool.db")
        store = PolicyStore(state / "policy.json")
        if policy is not None:
            assert store.accept(policy, '"t1"')
        made.append(spool)
        return RequestHandlers(engine, load_catalog(), summarize, store, spool, EnrollmentHolder(state),
                               files=files), spool
    yield make
    for spool in made:
        spool.close()


def scan(handlers: RequestHandlers, *files: tuple[str, bytes], text: str = "") -> dict:
    items = [{"name": name, "size": len(data), "read": False, "mime": "application/octet-stream",
              "content": base64.b64encode(data).decode()} for name, data in files]
    return handlers.handle({"type": "scan", "channel": "upload", "url": PAGE, "text": text, "files": items}, "alice")


def spooled(spool: Spool) -> tuple[list[dict], bytes]:
    """The events waiting in the spool, and every byte of its files (planted values must not be there)."""
    events = spool.next_batch(100)
    raw = b"".join(p.read_bytes() for p in spool.path.parent.glob("spool.db*"))
    return events, raw


def test_an_xlsx_of_customers_is_read_scanned_and_named_by_sheet(make_handlers):
    handlers, spool = make_handlers()
    data = xlsx(300)
    reply = scan(handlers, ("q3 export.bin", data))       # the name says nothing: the bytes do
    validate_ipc_reply(reply)
    assert reply["type"] == "verdict" and reply["action"] in ("warn", "block"), reply
    assert {f["entity_type"] for f in reply["findings"]} >= {"EMAIL_ADDRESS"}
    (facts,) = reply["files"]
    assert facts["format"] == "xlsx" and facts["read"] and facts["complete"]
    assert facts["found_in"] == ["sheet 'Customers'"]
    dumped = json.dumps(reply)
    assert customer(7)[2] not in dumped and customer(7)[3] not in dumped
    events, raw = spooled(spool)
    assert customer(7)[2].encode() not in raw and b"Customers" not in raw
    (event,) = [e for e in events if e.get("type") == "paste.scanned"]
    assert event["data"]["files"] == [{"name": "q3 export.bin", "mime": "application/octet-stream",
                                       "size": len(data), "read": True}]


def test_a_zip_bomb_is_stated_in_the_verdict_and_the_rest_is_scanned(make_handlers):
    handlers, _ = make_handlers()
    archive = zip_of({"bomb.zip": zip_bomb(32 << 20), "contacts.csv": b"name,email\nMaria Garcia,maria@acme-mail.com\n"})
    reply = scan(handlers, ("archive.zip", archive))
    (facts,) = reply["files"]
    assert facts["read"] and not facts["complete"]
    assert any("zip bomb" in note for note in facts["bounds"])
    assert facts["found_in"] == ["member 'contacts.csv'"]


def test_an_unreadable_file_follows_the_policy(make_handlers):
    damaged = xlsx(20)[:3000]
    open_handlers, _ = make_handlers()
    reply = scan(open_handlers, ("customers.xlsx", damaged))
    assert reply["action"] == "allow" and reply["files"][0]["read"] is False and reply["files"][0]["error"]
    closed = {**default_policy(), "on_incomplete_file": {"unreadable": "fail_closed"}}
    closed_handlers, _ = make_handlers(closed)
    reply = scan(closed_handlers, ("customers.xlsx", damaged))
    assert reply["action"] == "block" and "could not be checked" in reply["reason"]


def test_an_image_over_the_ocr_budget_follows_the_policy(make_handlers):
    from support.file_samples import screenshot
    png, _ = screenshot(rows=3, size=(800, 300))
    closed = {**default_policy(), "on_incomplete_file": {"image_over_budget": "fail_closed"}}
    handlers, _ = make_handlers(closed, FileScanner(ocr_budget_s=0.0))
    reply = scan(handlers, ("shot.png", png))
    assert reply["action"] == "block", reply
    assert reply["files"][0]["format"] == "png" and reply["files"][0]["read"] is False
    assert "longer than" in reply["files"][0]["error"]
    assert IMAGE_OVER_BUDGET == "image_over_budget"


def test_file_content_over_the_contract_limit_is_refused(make_handlers):
    handlers, _ = make_handlers()
    reply = scan(handlers, ("big.bin", b"\0" * (MAX_FILE_CONTENT + 1)))
    assert reply["type"] == "error" and reply["error"] == "too_large"
    bad = handlers.handle({"type": "scan", "channel": "upload", "url": PAGE, "text": "",
                           "files": [{"name": "x", "size": 3, "read": False, "content": "not base64!"}]}, "alice")
    assert bad["type"] == "error" and bad["error"] == "bad_request"


def test_a_long_sheet_is_scanned_column_by_column_and_every_phone_counted(make_handlers, engine):
    """The agent's upload path reads long tables column by column (detectors/files/table_scan.py):
    each of 2,000 customers' phones is found, where the cell-by-cell scan stops at the phone
    validation budget and says the scan is incomplete."""
    rows = 2000
    data = xlsx(rows)
    handlers, spool = make_handlers()
    reply = scan(handlers, ("customers.xlsx", data))
    (facts,) = reply["files"]
    assert facts["read"] and facts["complete"]
    events, _ = spooled(spool)
    (event,) = [e for e in events if e.get("type") == "paste.scanned"]
    counts = {f["entity_type"]: f["count"] for f in event["data"]["findings"]}
    assert counts["PHONE_NUMBER"] == rows
    assert counts["EMAIL_ADDRESS"] == rows
    # the same text scanned whole, as before: the budget cuts the phones short
    text = handlers.files.read([("customers.xlsx", data)], 0, MAX_SCAN_CHARS).text
    whole = engine.scan(text)
    assert sum(f.entity_type == "PHONE_NUMBER" for f in whole) < rows and not whole.complete
