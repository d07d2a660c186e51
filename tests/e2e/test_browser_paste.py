"""THE end-to-end test, real everything: Debian's Chromium with the shadowmap extension,
the native host registered by `shadowmap bridge install`, the real agent (Presidio + spaCy)
enrolled with the real collector. A real Ctrl+V of a customer record with an AWS key on
https://chatgpt.com/ and https://claude.ai/ is blocked, a harmless paste lands, the
collector raises the alert with the entity types, and the planted values are nowhere in
the collector's or the agent's files."""
from __future__ import annotations

import json
import secrets
import sqlite3
import string
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

ENGINE_LOAD_TIMEOUT_S = 180   # the agent loads and verifies the spaCy model before it listens
ALERT_TIMEOUT_S = 60
EXPECTED_TYPES = {"AWS_ACCESS_KEY", "EMAIL_ADDRESS", "PHONE_NUMBER"}


def planted_values() -> dict[str, str]:
    """Fresh values per run, so finding them in a file can only mean this run leaked them."""
    alphabet = string.ascii_uppercase + "234567"  # AWS key ids are base32 after the prefix
    return {
        "aws_key": "AKIA" + "".join(secrets.choice(alphabet) for _ in range(16)),
        "email": f"margaret.holloway.{secrets.token_hex(3)}@northwind-traders.com",
        "phone": "+1 212-736-5000",
    }


def customer_record(values: dict[str, str]) -> str:
    return (f"Customer record: Margaret Holloway, email {values['email']}, phone {values['phone']}, "
            f"AWS key {values['aws_key']} for the billing export")


def alerts_for(db_path: Path) -> list[dict]:
    if not db_path.exists():
        return []
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=5) as db:
        db.row_factory = sqlite3.Row
        try:
            return [dict(row) for row in db.execute("SELECT * FROM alerts")]
        except sqlite3.OperationalError:  # schema not created yet
            return []


def wait_for_alerts(db_path: Path, domains: set[str], timeout: float) -> list[dict]:
    deadline = time.monotonic() + timeout
    while True:
        alerts = [a for a in alerts_for(db_path) if a["domain"] in domains]
        types = {t for a in alerts for t in json.loads(a["entity_types"])}
        if {a["domain"] for a in alerts} == domains and types >= EXPECTED_TYPES:
            return alerts
        if time.monotonic() > deadline:
            raise AssertionError(f"no alerts for {domains} with {EXPECTED_TYPES} after {timeout}s: {alerts}")
        time.sleep(0.25)


def wait_for_event(db_path: Path, event_type: str, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        if db_path.exists():
            with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=5) as db:
                row = db.execute("SELECT body FROM events WHERE type = ?", [event_type]).fetchone()
            if row:
                return json.loads(row[0])
        if time.monotonic() > deadline:
            raise AssertionError(f"no {event_type} event reached the collector in {timeout}s")
        time.sleep(0.25)


def files_holding(values: list[str], files: list[Path]) -> list[tuple[str, str]]:
    hits = []
    for path in files:
        data = path.read_bytes()
        hits += [(str(path), value) for value in values if value.encode("utf-8") in data]
    return hits


def test_real_paste_is_blocked_alerted_and_never_stored(services, launch_chromium, short_dir, tmp_path, ui):
    collector_dir, state_dir, udd = tmp_path / "collector", tmp_path / "agent-state", tmp_path / "profile"
    collector_dir.mkdir()
    db_path = collector_dir / "collector.db"
    socket_path = short_dir / "agent.sock"

    collector = services(["collector", "serve", "--db", str(db_path), "--host", "127.0.0.1", "--port", "0"],
                         tmp_path / "collector.log")
    url = collector.wait_for_line("listening on http://", timeout=60).split("listening on ", 1)[1].strip()
    enroll = services(["agent", "enroll", "--collector", url, "--secret-file", str(collector_dir / "enroll_secret"),
                       "--state-dir", str(state_dir)], tmp_path / "enroll.log")
    assert enroll.proc.wait(timeout=60) == 0, enroll.log_tail()
    agent = services(["agent", "run", "--state-dir", str(state_dir), "--socket", str(socket_path),
                      "--collector", url, "--upload-interval", "0.5", "--backoff-max", "2"],
                     tmp_path / "agent.log")
    agent.wait_for_line("agent ready on", timeout=ENGINE_LOAD_TIMEOUT_S)
    ui.install_bridge(udd, socket_path, tmp_path / "bin")

    values = planted_values()
    record = customer_record(values)
    context = launch_chromium(udd)
    for page_url in ("https://chatgpt.com/", "https://claude.ai/new"):
        page = ui.open(context, page_url)
        for selector in ("#ta", "#pm"):
            assert ui.paste(page, selector, record) == "block", agent.log_tail()
            assert ui.banner_kind(page) == "block"
            shown = ui.banner_text(page)
            assert "AWS access key" in shown and "email address" in shown, shown
            assert not [v for v in values.values() if v in shown], shown
            assert ui.text(page, selector).strip() == ""  # nothing landed

            harmless = "please summarise these release notes"
            assert ui.paste(page, selector, harmless) == "allow"
            assert ui.text(page, selector).strip() == harmless
            assert ui.banner_kind(page) is None

    alerts = wait_for_alerts(db_path, {"chatgpt.com", "claude.ai"}, ALERT_TIMEOUT_S)
    # blocked: nothing left the laptop, so the secret leak is raised but not critical
    assert "medium" in {a["severity"] for a in alerts} and "critical" not in {a["severity"] for a in alerts}

    # personal data only: the default policy warns; the user sends it anyway with a reason
    # that itself names a person's address: the collector gets the decision, redacted
    page = ui.open(context, "https://chatgpt.com/")
    ui.start_paste(page, "#pm", f"Draft a reply to {values['email']} about the invoice")
    assert "email address" in ui.wait_dialog(page)
    ui.send_anyway(page, f"the customer {values['email']} asked for it")
    assert ui.decision(page) == "warn-sent", agent.log_tail()
    assert values["email"] in ui.text(page, "#pm")
    override = wait_for_event(db_path, "paste.override", ALERT_TIMEOUT_S)
    assert override["data"]["decision"] == "send_anyway" and override["data"]["domain"] == "chatgpt.com"
    assert override["data"]["justification"] == "the customer <EMAIL_1> asked for it"

    # the raw values must never leave the page: check the stored bytes, with the services
    # running (with their -wal files) and again after they stopped (checkpointed into the db)
    secrets_planted = [*values.values(), "".join(c for c in values["phone"] if c.isdigit())]
    for when in ("running", "stopped"):
        if when == "stopped":
            collector.stop()
            agent.stop()
        stored = [p for p in [*collector_dir.iterdir(), *state_dir.iterdir()] if p.is_file()]
        names = {p.name for p in stored}
        assert {"collector.db", "spool.db"} <= names, names
        assert files_holding(secrets_planted, stored) == [], when
