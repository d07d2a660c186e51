"""`make demo` against a real collector on loopback (a `shadowmap collector serve` process):
the seeder enrolls laptops, sends a week of events and signed GitHub webhooks through the
public API, and the console's setup steps through its forms; every finding an agent or a
webhook raises is then in the collector ("Protection disabled" from the device watch's pass the
demo runs with `shadowmap collector devices watch`), and the overview's checklist is complete. Also:
`shadowmap agent status` finds the socket of the agent started beside its state (make run's)."""
from __future__ import annotations

import json
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from support.processes import start_collector
from support.week import silent_hostnames, this_week, users_seen

ADMIN_PASSWORD = "demo test admin password"
BOUND_S = 120  # each step of this test is bounded


@pytest.fixture
def running_collector(tmp_path: Path):
    """A real `shadowmap collector serve` process on a free loopback port, with its var folder."""
    with start_collector(tmp_path, ADMIN_PASSWORD, timeout=BOUND_S) as collector:
        (tmp_path / "admin_password").write_text(ADMIN_PASSWORD + "\n")
        yield collector.url, tmp_path


def test_make_demo_seeds_every_finding_through_the_public_api(running_collector):
    url, var = running_collector
    result = subprocess.run([sys.executable, "-m", "shadowmap.demo", "--url", url, "--var-dir", str(var)],
                            capture_output=True, text=True, timeout=BOUND_S)
    assert result.returncode == 0, result.stderr
    assert "13 devices" in result.stdout and "3 GitHub deliveries" in result.stdout
    assert "1 console lockout (from 127.0.0.2)" in result.stdout
    assert '1 "Protection disabled" alert opened by the device watch' in result.stdout
    db = sqlite3.connect(f"file:{var / 'collector.db'}?mode=ro", uri=True)
    findings = {row[0] for row in db.execute("SELECT DISTINCT finding_id FROM alerts")}
    # protection_disabled: nothing in the public API starts the device watch (every 5 minutes on
    # the collector's clock); the demo runs one pass with `shadowmap collector devices watch`
    assert findings == {"copied_secrets", "adhoc_production_data", "unknown_subprocessor", "dpa_missing",
                        "retention_exceeds", "unreviewed_ai_code", "risky_agent_setup", "personal_account",
                        "console_lockout", "protection_disabled"}
    [protection] = db.execute("SELECT facts FROM alerts WHERE finding_id = 'protection_disabled'").fetchall()
    facts = json.loads(protection[0])
    assert facts["device"] == "fin-hana-xps"  # its heartbeats say the extension is switched off
    assert facts["reason"] == "the extension is disabled in chrome profile Default"
    assert {row[0] for row in db.execute("SELECT user FROM alerts WHERE finding_id = 'personal_account'")} == {
        "erin@acme.example", "kai@acme.example", "gus@acme.example", "milo@acme.example"}  # marketing and sales
    [lockout] = db.execute("SELECT facts FROM alerts WHERE finding_id = 'console_lockout'").fetchall()
    assert json.loads(lockout[0])["address"] == "127.0.0.2"  # the admin's address stays free: signed in below
    severities = {row[0] for row in db.execute("SELECT severity FROM alerts WHERE finding_id = 'copied_secrets'")}
    assert "critical" in severities  # the key sent after a warning
    assert db.execute("SELECT count(DISTINCT team) FROM team_members").fetchone()[0] == 6
    assert db.execute("SELECT count(*) FROM devices").fetchone()[0] == 13
    # which devices and users this ISO week's report must name, worked out from the stored events
    week = this_week()
    silent_this_week = silent_hostnames(db, week)
    assert "fin-spare-xps" in silent_this_week  # the spare laptop never sends a heartbeat
    users_this_week = users_seen(db, "ai_tool.observed", week)
    db.close()
    # the overview's checklist is complete, and this week's report sees the silent laptop
    from urllib.request import HTTPCookieProcessor, build_opener

    from shadowmap.demo import Collector

    console = Collector(url)
    console.opener = build_opener(HTTPCookieProcessor())
    token = console.csrf("/login")
    console.post_form("/login", {"csrf_token": token, "username": "admin", "password": ADMIN_PASSWORD})
    status, html = console.request("/overview")
    assert status == 200 and 'data-done="no"' not in html and "Finish setting up" not in html
    status, text = console.request(f"/reports/weekly?week={week.name}&format=json")
    report = json.loads(text)
    assert sorted(d["hostname"] for d in report["coverage"]["silent_devices"]) == silent_this_week
    assert report["attestation"]["signature"] and report["summary"]["users"] == len(users_this_week)
    # a second run adds a second week's worth without failing (re-enrolling keeps each device)
    again = subprocess.run([sys.executable, "-m", "shadowmap.demo", "--url", url, "--var-dir", str(var)],
                           capture_output=True, text=True, timeout=BOUND_S)
    assert again.returncode == 0, again.stderr
    assert '0 "Protection disabled" alerts opened by the device watch' in again.stdout  # still the one open


def test_make_demo_says_when_no_collector_runs(tmp_path):
    result = subprocess.run([sys.executable, "-m", "shadowmap.demo", "--var-dir", str(tmp_path)],
                            capture_output=True, text=True, timeout=BOUND_S)
    assert result.returncode == 2 and "make run" in result.stderr


def test_agent_status_finds_the_socket_beside_its_state(tmp_path):
    state = tmp_path / "agent"
    state.mkdir()
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(state / "agent.sock"))  # where make run starts its agent
    listener.listen()
    try:
        result = subprocess.run([sys.executable, "-m", "shadowmap.cli", "agent", "status", "--state-dir", str(state)],
                                capture_output=True, text=True, timeout=BOUND_S)
    finally:
        listener.close()
    assert result.returncode == 0, result.stderr
    assert f"socket:       {state / 'agent.sock'}" in result.stdout
