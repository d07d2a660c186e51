"""Every channel x action through the real stack, driven by the collector's policy: Debian's
Chromium with the extension, the native host from `shadowmap bridge install`, the real
agent (Presidio + spaCy) enrolled with the real collector, pulling a policy that redacts
personal data on claude.ai, warns on it on chatgpt.com and blocks secrets everywhere. For
paste (real Ctrl+V into the real ProseMirror editor), drop, file input and typed prompt at
submit (Enter): what lands in the page, what the user sees, and what reaches the
collector's SQLite (read-only). At the end, no planted value is in any collector or agent
file. One browser and one agent+collector for the module (see `full_stack` in conftest)."""
from __future__ import annotations

import json
import secrets
import sqlite3
import string
from dataclasses import dataclass
from pathlib import Path

import pytest
from support.waiting import wait_until

pytestmark = pytest.mark.browser

EVENT_TIMEOUT_S = 60   # agent spool -> upload (every 0.5 s) -> collector

POLICY = {
    "version": 1,
    "name": "full-stack test: personal data redacted on Claude, warned on ChatGPT",
    "unknown_tool": "monitor",
    "on_agent_unavailable": "fail_open",
    "rules": [
        {"tool": "*", "data_class": "secret", "action": "block"},
        {"tool": "claude", "data_class": "pii", "min_severity": "medium", "action": "redact"},
        {"tool": "chatgpt", "data_class": "pii", "min_severity": "medium", "action": "warn"},
    ],
}
PAGES = {"chatgpt": "https://chatgpt.com/", "claude": "https://claude.ai/new"}
DOMAINS = {"chatgpt": "chatgpt.com", "claude": "claude.ai"}

# fresh per run, so finding one in a file can only mean this run leaked it
_BASE32 = string.ascii_uppercase + "234567"
AWS_KEY = "AKIA" + "".join(secrets.choice(_BASE32) for _ in range(16))
EMAIL = f"rosalind.okafor.{secrets.token_hex(3)}@northwind-traders.com"
PLANTED = (AWS_KEY, EMAIL)

HARMLESS = "please summarise these release notes"
SECRET_TEXT = f"deploy the billing export with key {AWS_KEY}"
PII_TEXT = f"Draft a reply to {EMAIL} about the invoice"
REDACTED_PII_TEXT = "Draft a reply to <EMAIL_1> about the invoice"
JUSTIFICATION = f"the customer {EMAIL} asked for it"
REDACTED_JUSTIFICATION = "the customer <EMAIL_1> asked for it"

# a synthetic drop carrying files (a page cannot start a real OS drag; the extension
# handles every drop event alike, as tests/e2e/test_browser_channels.py does)
DROP_FILES = """([selector, files]) => {
  const data = new DataTransfer();
  for (const [name, type, body] of files) data.items.add(new File([body], name, { type }));
  document.querySelector(selector).dispatchEvent(
    new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }));
}"""
CLEAR_PM = "window.pmView.dispatch(window.pmView.state.tr.delete(0, window.pmView.state.doc.content.size))"


@dataclass(frozen=True)
class Attempt:
    """One action the user took, and what the collector must end up holding for it."""
    tool: str
    action: str
    data_classes: frozenset[str]


ATTEMPTS: dict[str, list[Attempt]] = {}   # by channel, filled as the tests act


def attempt(channel: str, tool: str, action: str, *classes: str) -> None:
    ATTEMPTS.setdefault(channel, []).append(Attempt(tool, action, frozenset(classes)))


@pytest.fixture(scope="module")
def stack(full_stack):
    full_stack.set_policy(POLICY)
    return full_stack


def rows(db_path: Path, sql: str, params: tuple = ()) -> list[sqlite3.Row]:
    """Committed rows, read on a read-only connection of our own."""
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=5) as db:
        db.row_factory = sqlite3.Row
        return db.execute(sql, params).fetchall()


def events(db_path: Path, event_type: str) -> list[dict]:
    return [json.loads(row["body"]) for row in rows(db_path, "SELECT body FROM events WHERE type = ? ORDER BY ts",
                                                     (event_type,))]


def wait_for(what: str, probe, timeout: float = EVENT_TIMEOUT_S):
    return wait_until(probe, timeout, what, interval=0.25)


def scanned_for(stack, channel: str) -> list[dict]:
    """The collector's paste.scanned events of `channel`, once one per attempt arrived."""
    expected = ATTEMPTS[channel]

    def probe() -> list[dict]:
        found = [e for e in events(stack.db_path, "paste.scanned") if e["data"]["channel"] == channel]
        return found if len(found) >= len(expected) else []
    found = wait_for(f"{len(expected)} paste.scanned events on channel {channel}", probe)
    assert len(found) == len(expected), found
    for event, want in zip(found, expected, strict=True):
        data = event["data"]
        assert (data["tool_id"], data["domain"], data["action"]) == (want.tool, DOMAINS[want.tool], want.action), data
        assert set(data["data_classes"]) == want.data_classes, data
    return found


def override_for(stack, scan_id: str) -> dict:
    return wait_for(f"paste.override for {scan_id}", lambda: next(
        (e["data"] for e in events(stack.db_path, "paste.override") if e["data"]["scan_id"] == scan_id), None))


def assert_banner(ui, page, title: str, *words: str) -> str:
    shown = ui.banner_text(page)
    assert title in shown and all(w in shown for w in words), shown
    assert not [v for v in PLANTED if v in shown], shown
    return shown


def warn_and_send_anyway(ui, page, what: str, screenshot: str | None = None) -> None:
    shown = ui.wait_dialog(page)
    assert f"Check this {what} before it is sent" in shown, shown
    assert "email address" in shown and "flagged by company AI policy" in shown, shown
    assert EMAIL not in shown
    if screenshot:
        ui.screenshot(page, screenshot)
    ui.send_anyway(page, JUSTIFICATION)
    assert ui.decision(page) == "warn-sent"


def test_paste_each_action(stack, ui):
    page = ui.open(stack.context, PAGES["chatgpt"])
    assert ui.paste(page, "#pm", HARMLESS) == "allow", stack.agent.log_tail()
    attempt("paste", "chatgpt", "allow")
    assert page.evaluate("window.pmText()") == HARMLESS
    assert ui.banner_kind(page) is None

    assert ui.paste(page, "#pm", SECRET_TEXT) == "block"
    attempt("paste", "chatgpt", "block", "secret")
    assert_banner(ui, page, "shadowmap blocked this paste", "AWS access key", "blocked by company AI policy")
    ui.screenshot(page, "full-stack-block-banner")
    assert page.evaluate("window.pmText()") == HARMLESS           # nothing landed

    page.evaluate(CLEAR_PM)
    ui.start_paste(page, "#pm", PII_TEXT)
    warn_and_send_anyway(ui, page, "paste", screenshot="full-stack-warn-dialog")
    attempt("paste", "chatgpt", "warn", "pii")
    assert page.evaluate("window.pmText()") == PII_TEXT            # the user chose to send it

    page = ui.open(stack.context, PAGES["claude"])
    assert ui.paste(page, "#pm", PII_TEXT) == "redact"
    attempt("paste", "claude", "redact", "pii")
    assert page.evaluate("window.pmText()") == REDACTED_PII_TEXT
    assert_banner(ui, page, "shadowmap replaced sensitive data in this paste", "email address",
                  "must be redacted by company AI policy")

    found = scanned_for(stack, "paste")
    assert [e["data"].get("redacted", False) for e in found] == [False, False, False, True]
    override = override_for(stack, found[2]["id"])
    assert (override["decision"], override["channel"], override["domain"]) == ("send_anyway", "paste", "chatgpt.com")
    assert override["justification"] == REDACTED_JUSTIFICATION    # scanned and redacted by the agent


def type_and_enter(ui, page, text: str) -> str:
    ui.reset(page)
    page.click("#pm")
    page.keyboard.type(text)
    page.keyboard.press("Enter")
    return ui.decision(page)


def test_typed_prompt_at_submit_each_action(stack, ui):
    page = ui.open(stack.context, PAGES["chatgpt"])
    assert type_and_enter(ui, page, HARMLESS) == "allow"
    attempt("submit", "chatgpt", "allow")

    assert type_and_enter(ui, page, SECRET_TEXT) == "block"
    attempt("submit", "chatgpt", "block", "secret")
    assert_banner(ui, page, "shadowmap blocked this message", "AWS access key")
    assert page.evaluate("window.pmText()") == SECRET_TEXT        # kept for the user to edit, not sent
    page.evaluate(CLEAR_PM)

    ui.reset(page)
    page.click("#pm")
    page.keyboard.type(PII_TEXT)
    page.keyboard.press("Enter")
    warn_and_send_anyway(ui, page, "message")
    attempt("submit", "chatgpt", "warn", "pii")
    assert page.evaluate("window.sent") == [{"from": "pm", "text": HARMLESS}, {"from": "pm", "text": PII_TEXT}]

    page = ui.open(stack.context, PAGES["claude"])
    assert type_and_enter(ui, page, PII_TEXT) == "redact"
    attempt("submit", "claude", "redact", "pii")
    assert page.evaluate("window.sent") == [{"from": "pm", "text": REDACTED_PII_TEXT}]

    found = scanned_for(stack, "submit")
    override = override_for(stack, found[2]["id"])
    assert (override["decision"], override["channel"], override["justification"]) == \
        ("send_anyway", "submit", REDACTED_JUSTIFICATION)


# (name, type, body) of the files each test drops or uploads
NOTES = ("notes.md", "text/markdown", "# agenda\n- budget review")
CREDS = ("creds.env", "", f"AWS_ACCESS_KEY_ID={AWS_KEY}\n")
CONTACTS = ("contacts.csv", "text/csv", f"name,email\nRosalind Okafor,{EMAIL}\n")


def drop(ui, page, *files: tuple[str, str, str]) -> str:
    ui.reset(page)
    page.evaluate(DROP_FILES, ["#drop", [list(f) for f in files]])
    return ui.decision(page)


def test_drop_each_action(stack, ui):
    page = ui.open(stack.context, PAGES["chatgpt"])
    assert drop(ui, page, NOTES) == "allow"
    attempt("drop", "chatgpt", "allow")
    page.wait_for_function("window.dropped.length === 1", timeout=5000)

    assert drop(ui, page, CREDS) == "block"
    attempt("drop", "chatgpt", "block", "secret")
    assert_banner(ui, page, "shadowmap blocked this dropped content", "AWS access key")

    ui.reset(page)
    page.evaluate(DROP_FILES, ["#drop", [list(CONTACTS)]])
    warn_and_send_anyway(ui, page, "dropped content")
    attempt("drop", "chatgpt", "warn", "pii")
    page.wait_for_function("window.dropped.length === 2", timeout=5000)
    assert [d["files"] for d in page.evaluate("window.dropped")] == \
        [[{"name": NOTES[0], "text": NOTES[2]}], [{"name": CONTACTS[0], "text": CONTACTS[2]}]]

    # redact on a file: the agent cannot hand back a redacted file, so it blocks
    page = ui.open(stack.context, PAGES["claude"])
    assert drop(ui, page, CONTACTS) == "block"
    attempt("drop", "claude", "block", "pii")
    assert_banner(ui, page, "shadowmap blocked this dropped content", "files cannot be redacted")
    assert page.evaluate("window.dropped") == []

    found = scanned_for(stack, "drop")
    # facts only (the agent leaves out an empty type), never the content
    assert [e["data"]["files"] for e in found] == [
        [{"name": name, "size": len(body.encode()), "read": True, **({"mime": mime} if mime else {})}]
        for name, mime, body in (NOTES, CREDS, CONTACTS, CONTACTS)]
    assert override_for(stack, found[2]["id"])["justification"] == REDACTED_JUSTIFICATION


def upload(ui, page, tmp_path: Path, name: str, body: str) -> None:
    path = tmp_path / name
    path.write_text(body)
    ui.reset(page)
    page.set_input_files("#file", str(path))


def test_file_input_each_action(stack, ui, tmp_path):
    page = ui.open(stack.context, PAGES["claude"])
    upload(ui, page, tmp_path, NOTES[0], NOTES[2])
    assert ui.decision(page) == "allow"
    attempt("upload", "claude", "allow")
    page.wait_for_function("window.uploaded.length === 1", timeout=5000)

    upload(ui, page, tmp_path, "prod.env", CREDS[2])
    assert ui.decision(page) == "block"
    attempt("upload", "claude", "block", "secret")
    assert_banner(ui, page, "shadowmap blocked this file upload", "AWS access key")
    assert page.eval_on_selector("#file", "i => i.files.length") == 0   # the page cannot read it later

    upload(ui, page, tmp_path, CONTACTS[0], CONTACTS[2])               # redact on a file: blocked
    assert ui.decision(page) == "block"
    attempt("upload", "claude", "block", "pii")
    assert_banner(ui, page, "shadowmap blocked this file upload", "files cannot be redacted")
    assert page.eval_on_selector("#file", "i => i.files.length") == 0
    assert page.evaluate("window.uploaded") == [[{"name": NOTES[0], "size": len(NOTES[2])}]]

    page = ui.open(stack.context, PAGES["chatgpt"])
    upload(ui, page, tmp_path, CONTACTS[0], CONTACTS[2])
    warn_and_send_anyway(ui, page, "file upload")
    attempt("upload", "chatgpt", "warn", "pii")
    page.wait_for_function("window.uploaded.length === 1", timeout=5000)
    assert page.evaluate("window.uploaded") == [[{"name": CONTACTS[0], "size": len(CONTACTS[2])}]]

    found = scanned_for(stack, "upload")
    assert [f["name"] for e in found for f in e["data"]["files"]] == [NOTES[0], "prod.env", CONTACTS[0], CONTACTS[0]]
    assert override_for(stack, found[3]["id"])["justification"] == REDACTED_JUSTIFICATION


def test_alerts_and_no_planted_value_in_any_file(stack):
    """Run after the channel tests (file order): their warned and blocked attempts are
    alerts; their planted values are in no file the collector or the agent wrote."""
    assert set(ATTEMPTS) == {"paste", "submit", "drop", "upload"}, "run the whole module"
    scanned = {channel: scanned_for(stack, channel) for channel in ATTEMPTS}
    # every attempt with data, whatever the policy did, is tied to a data alert (the alert's severity
    # then follows what reached the tool): a secret to copied_secrets, personal data to
    # adhoc_production_data (an event may also feed the tool's register alerts, e.g.
    # unknown_subprocessor: not checked here)
    for channel, found in scanned.items():
        for event in found:
            data = event["data"]
            expected = (set() if not data["data_classes"]  # a harmless paste
                        else {"copied_secrets"} if "secret" in data["data_classes"] else {"adhoc_production_data"})
            got = (wait_for(f"alert for {channel} {data['action']}", lambda event_id=event["id"]: data_alerts(stack, event_id),
                            timeout=10) if expected else data_alerts(stack, event["id"]))
            assert got == expected, (channel, data)
    alerts = rows(stack.db_path, "SELECT * FROM alerts")
    assert {(a["finding_id"], a["domain"]) for a in alerts} >= {
        ("copied_secrets", "chatgpt.com"), ("copied_secrets", "claude.ai"),
        ("adhoc_production_data", "chatgpt.com"), ("adhoc_production_data", "claude.ai")}
    assert not [a for a in alerts if any(v in json.dumps(dict(a)) for v in PLANTED)]

    # the stored bytes: with the services running (-wal files live), then after they
    # stopped (checkpointed into the databases)
    for when in ("running", "stopped"):
        if when == "stopped":
            stack.stop_services()
        stored = stack.stored_files()
        names = {p.name for p in stored}
        assert {"collector.db", "spool.db", "policy.json", "agent.log", "collector.log"} <= names, names
        if when == "running":
            assert "collector.db-wal" in names, names     # the live write-ahead log is checked too
        hits = [(str(p), v) for p in stored for v in PLANTED if v.encode() in p.read_bytes()]
        assert hits == [], when


DATA_FINDINGS = ("copied_secrets", "adhoc_production_data")


def data_alerts(stack, event_id: str) -> set[str]:
    """The data findings (not the register ones) whose alerts hold this event."""
    return {row["finding_id"] for row in rows(
        stack.db_path, "SELECT a.finding_id FROM alert_events ae JOIN alerts a ON a.id = ae.alert_id"
                       " WHERE ae.event_id = ?", (event_id,)) if row["finding_id"] in DATA_FINDINGS}
