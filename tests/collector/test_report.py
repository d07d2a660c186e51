"""The weekly sub-processor report on a generated fleet (500 devices, a month of events
through the real ingest path into a real SQLite file): every number in the JSON and CSV is
checked against counts computed here, independently, from the generated events."""
from __future__ import annotations

import asyncio
import csv
import io
import json
import random
import subprocess
import sys
import uuid
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlite_utils

from shadowmap import contract
from shadowmap.collector.api.ingest_lane import store_batch
from shadowmap.collector.api.ingest_parse import parse_batch
from shadowmap.collector.config import CollectorConfig
from shadowmap.collector.report.render import render
from shadowmap.collector.report.weekly import ReportError, build, week_bounds
from shadowmap.collector.store.migrations import apply_migrations
from shadowmap.detectors.catalog import load_catalog
from shadowmap.detectors.vendors import load_vendors

WEEK = "2026-W47"
WEEK_START, WEEK_END = date(2026, 11, 16), date(2026, 11, 23)
MONTH_START = date(2026, 10, 24)
DEVICES = 500
REGULAR_TOOLS = ["chatgpt", "claude", "cursor", "gemini", "perplexity", "lovable", "notebooklm"]
NEW_TOOLS = ["deepseek", "doubao"]  # first seen inside the report week
TEAMS = ["engineering", "marketing", "operations", "sales"]
HOSTILE_TEAM = '<script>alert(1)</script>$x$ & "team"'
CLASSES = ["pii", "secret", "payment", "production"]
POLICY_DAYS = 30


def paste(device_id: str, user: str, tool: str, ts: str, classes: list[str], action: str) -> dict:
    findings = [{"entity_type": "EMAIL_ADDRESS" if c == "pii" else "AWS_ACCESS_KEY", "data_class": c, "count": 1,
                 "score": 0.9, "hashes": [uuid.uuid4().hex + uuid.uuid4().hex], "reason": "test"} for c in classes]
    return {"schema": "shadowmap.event/1", "id": str(uuid.uuid4()), "type": "paste.scanned", "device_id": device_id,
            "user": user, "ts": ts, "data": {"channel": "paste", "tool_id": tool, "domain": "example.ai",
                                             "data_classes": classes, "findings": findings, "action": action,
                                             "reason": "policy", "text_length": 200, "elapsed_ms": 3.0}}


def observed(device_id: str, user: str, tool: str, ts: str) -> dict:
    return {"schema": "shadowmap.event/1", "id": str(uuid.uuid4()), "type": "ai_tool.observed", "device_id": device_id,
            "user": user, "ts": ts, "data": {"tool_id": tool, "source": "extension", "domain": "example.ai",
                                             "browser": "chrome"}}


def generate(rng: random.Random) -> tuple[list[dict], dict[str, str], dict[str, str]]:
    """Events for a month; user -> team and device -> team mappings (some people unmapped)."""
    events, user_team, device_team = [], {}, {}
    for n in range(DEVICES):
        device, user = f"dev-{n:03d}", f"user{n:03d}@acme.example"
        roll = rng.random()
        if roll < 0.85:
            user_team[user] = TEAMS[n % len(TEAMS)]
        elif roll < 0.95:
            device_team[device] = HOSTILE_TEAM if n % 2 else "it"
        favourites = rng.sample(REGULAR_TOOLS, 2)
        day = MONTH_START
        while day < WEEK_END + timedelta(days=3):
            for _ in range(rng.randint(0, 3)):
                tool = rng.choice(favourites)
                if day >= WEEK_START and rng.random() < 0.03:
                    tool = rng.choice(NEW_TOOLS)
                moment = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(
                    seconds=rng.randint(0, 86399))
                ts = moment.isoformat().replace("+00:00", "Z")
                if rng.random() < 0.4:
                    classes = sorted(rng.sample(CLASSES, rng.randint(1, 2)))
                    events.append(paste(device, user, tool, ts, classes, rng.choice(["allow", "warn", "block"])))
                else:
                    events.append(observed(device, user, tool, ts))
            day += timedelta(days=1)
    return events, user_team, device_team


@pytest.fixture(scope="module")
def fleet(tmp_path_factory) -> dict:
    rng = random.Random(47)
    events, user_team, device_team = generate(rng)
    for sample in rng.sample(events, 50):
        contract.validate_event(sample)  # the generator speaks the contract
    path = tmp_path_factory.mktemp("fleet") / "collector.db"
    db = sqlite_utils.Database(path)
    db.enable_wal()
    db.execute("PRAGMA synchronous = OFF")  # generating test data: the ingest code path is the same, fsyncs are not
    apply_migrations(db)
    config = CollectorConfig(db_path=path)
    by_device: dict[str, list[dict]] = defaultdict(list)
    for event in events:
        by_device[event["device_id"]].append(event)
    for device, device_events in by_device.items():
        for i in range(0, len(device_events), 1000):
            raw = json.dumps({"events": device_events[i:i + 1000]}).encode()
            batch = parse_batch(raw, "", device, config)
            assert not batch.rejected
            with db.atomic():
                store_batch(db, batch, device)
    with db.atomic():
        for user, team in user_team.items():
            db.execute("INSERT INTO team_members (kind, key, team) VALUES ('user', ?, ?)", (user, team))
        for device, team in device_team.items():
            db.execute("INSERT INTO team_members (kind, key, team) VALUES ('device', ?, ?)", (device, team))
        db.execute("INSERT INTO register (vendor, dpa_signed, dpa_date, listed, data_classes, retention_days, notes,"
                   " updated_at, updated_by) VALUES ('OpenAI', 1, '2025-03-01', 1, '[\"pii\"]', 30, '', 'now', 'test')")
        db.execute("INSERT INTO register (vendor, dpa_signed, dpa_date, listed, data_classes, retention_days, notes,"
                   " updated_at, updated_by) VALUES ('Anthropic', 0, '', 1, '[]', NULL, '', 'now', 'test')")
        db.execute("INSERT INTO org_settings (name, value) VALUES ('retention_policy_days', ?) "
                   "ON CONFLICT(name) DO UPDATE SET value = excluded.value", (str(POLICY_DAYS),))
    yield {"db": db, "path": path, "events": events, "user_team": user_team, "device_team": device_team}
    db.conn.close()


def expected(fleet: dict) -> dict[str, dict]:
    """Per vendor, straight from the generated events."""
    catalog = load_catalog()
    first_seen: dict[str, str] = {}
    for event in fleet["events"]:
        vendor = catalog.by_id(event["data"]["tool_id"]).vendor
        first_seen[vendor] = min(first_seen.get(vendor, "9999"), event["ts"][:10])
    out: dict[str, dict] = {}
    for event in fleet["events"]:
        if not WEEK_START.isoformat() <= event["ts"][:10] < WEEK_END.isoformat():
            continue
        vendor = catalog.by_id(event["data"]["tool_id"]).vendor
        v = out.setdefault(vendor, {"users": set(), "devices": set(), "teams": set(), "tools": set(), "events": 0,
                                    "sent": defaultdict(int), "blocked": defaultdict(int),
                                    "new": first_seen[vendor] >= WEEK_START.isoformat()})
        v["users"].add(event["user"])
        v["devices"].add(event["device_id"])
        v["tools"].add(event["data"]["tool_id"])
        v["teams"].add(fleet["user_team"].get(event["user"]) or fleet["device_team"].get(event["device_id"])
                       or "(no team)")
        v["events"] += 1
        for c in event["data"].get("data_classes", []):
            # a warned paste has not reached the vendor until the user sends it anyway (no decision here)
            (v["blocked"] if event["data"]["action"] in ("block", "warn") else v["sent"])[c] += 1
    return out


def test_json_numbers_match_the_generated_fleet(fleet):
    report = json.loads(render(build(fleet["db"], WEEK), "json"))
    want = expected(fleet)
    assert {v["vendor"] for v in report["vendors"]} == set(want)
    for v in report["vendors"]:
        w = want[v["vendor"]]
        assert v["users"] == len(w["users"]) and v["devices"] == len(w["devices"]), v["vendor"]
        assert v["events"] == w["events"] and v["tool_ids"] == sorted(w["tools"]), v["vendor"]
        assert v["tools"] == sorted(load_catalog().by_id(t).name for t in w["tools"]), v["vendor"]  # names
        assert v["teams"] == sorted(w["teams"]), v["vendor"]
        assert v["data_classes_sent"] == dict(sorted(w["sent"].items())), v["vendor"]
        assert v["data_classes_blocked"] == dict(sorted(w["blocked"].items())), v["vendor"]
        assert v["new_this_week"] == w["new"], v["vendor"]
    # new vendors come first
    flags = [v["new_this_week"] for v in report["vendors"]]
    assert flags == sorted(flags, reverse=True) and flags[0] is True
    assert {v["vendor"] for v in report["vendors"] if v["new_this_week"]} == {"DeepSeek", "ByteDance"}
    week_events = [e for e in fleet["events"] if WEEK_START.isoformat() <= e["ts"][:10] < WEEK_END.isoformat()]
    assert report["summary"]["users"] == len({e["user"] for e in week_events})
    assert report["summary"]["devices"] == len({e["device_id"] for e in week_events})
    assert report["summary"]["vendors_in_use"] == len(want)


def test_register_retention_and_findings(fleet):
    report = build(fleet["db"], WEEK)
    vendors = {v["vendor"]: v for v in report["vendors"]}
    want = expected(fleet)
    openai, anthropic = vendors["OpenAI"], vendors["Anthropic"]
    assert openai["register"]["listed"] and openai["register"]["dpa_signed"]
    assert openai["register"]["classes_not_allowed"] == sorted(set(want["OpenAI"]["sent"]) - {"pii"})
    assert openai["retention"] == {**openai["retention"], "vendor_days": 30, "basis": "register", "status": "within"}
    # listed without a DPA: judged on the consumer tier, where chats are kept until deleted
    assert anthropic["register"]["listed"] and not anthropic["register"]["dpa_signed"]
    assert anthropic["retention"]["vendor_days"] == "until_deleted" and anthropic["retention"]["status"] == "exceeds"
    assert not vendors["DeepSeek"]["register"]["in_register"] and vendors["ByteDance"]["retention"]["status"] == "unknown"
    assert report["summary"]["unlisted_vendors"] == len(vendors) - 2
    # open findings per vendor, counted straight from the alerts the ingest path raised
    catalog = load_catalog()
    open_alerts: dict[str, int] = defaultdict(int)
    for row in fleet["db"].query("SELECT tool_id FROM alerts WHERE status IN ('open', 'acknowledged')"):
        if row["tool_id"]:
            open_alerts[catalog.by_id(row["tool_id"]).vendor] += 1
    assert open_alerts  # blocked and warned pastes raised alerts
    for name, v in vendors.items():
        assert sum(v["open_findings"].values()) == open_alerts.get(name, 0), name
    # one control-mapping appendix, not a copy of it on every row
    sections = {c["item"]: c for c in report["controls"]}
    assert "CC9.2" in sections["vendors_in_use"]["soc2"] and "8.5.7" in sections["register_status"]["iso27701"]
    assert not any("controls" in v or "controls" in v["register"] for v in vendors.values())


def test_vendor_facts_say_which_were_checked_against_the_vendors_page(fleet):
    report = build(fleet["db"], WEEK)
    facts = load_vendors()
    for v in report["vendors"]:
        if not v["facts"]:
            continue
        for key, shown in v["facts"].items():
            fact = getattr(facts[v["vendor"]], key)
            assert shown["verified"] == (fact.source.verified if fact.verified and fact.source else None), \
                (v["vendor"], key)
    assert any(shown["verified"] for v in report["vendors"] if v["facts"] for shown in v["facts"].values())


def test_csv_agrees_with_json_and_neutralises_formulas(fleet):
    report = build(fleet["db"], WEEK)
    rows = list(csv.DictReader(io.StringIO(render(report, "csv"))))
    assert [r["vendor"] for r in rows] == [v["vendor"] for v in report["vendors"]]
    for row, v in zip(rows, report["vendors"], strict=True):
        assert int(row["users"]) == v["users"] and int(row["devices"]) == v["devices"]
        assert row["new_this_week"] == ("yes" if v["new_this_week"] else "no")
        assert row["listed"] in ("yes", "no") and row["dpa_signed"] in ("yes", "no")


def test_html_has_charts_and_escapes_hostile_names(fleet, tmp_path):
    out = tmp_path / "weekly.html"
    result = subprocess.run([sys.executable, "-m", "shadowmap.cli", "collector", "report", "weekly", "--week", WEEK,
                             "--format", "html", "--db", str(fleet["path"]), "--out", str(out)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    html = out.read_text()
    assert html.count("<svg") == 3  # users per vendor, data classes per vendor, data-flow map
    assert "<script" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # the hostile team name, as text
    assert "@media print" in html and "DeepSeek" in html


def test_bad_weeks_are_refused(fleet):
    for week in ("2026-47", "2026-W54", "", "W47"):
        with pytest.raises(ReportError):
            week_bounds(week)
    result = subprocess.run([sys.executable, "-m", "shadowmap.cli", "collector", "report", "weekly", "--week", "2026-W99",
                             "--db", str(fleet["path"]), "--format", "json"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "2026-W99" in result.stderr


async def test_the_collector_writes_last_weeks_report_on_schedule(aiohttp_client, config, make, tmp_path):
    from shadowmap.collector.app import create_app
    from shadowmap.collector.report.cli import last_week
    from shadowmap.collector.report.schedule import REPORT_SETTINGS, ReportSettings

    app = create_app(config)
    app[REPORT_SETTINGS] = ReportSettings(out_dir=tmp_path / "reports", every_seconds=0.2)
    await make.start_client(aiohttp_client, config, app)
    expected_files = [tmp_path / "reports" / f"weekly-{last_week()}.{fmt}" for fmt in ("html", "csv", "json")]
    for _ in range(300):
        if all(path.exists() for path in expected_files):
            break
        await asyncio.sleep(0.1)
    assert all(path.exists() for path in expected_files)
    assert json.loads(expected_files[2].read_text())["week"] == last_week()


async def test_a_report_leaves_the_pooled_reader_connection_current(client, device, make, config):
    from shadowmap.collector.state import STORE

    store = client.app[STORE]
    for _ in range(4):  # reach the pool's reader threads
        await store.read(lambda db: build(db, WEEK))
    # every reader thread must still see new writes (no transaction left open by temp tables)
    await make.enroll(client, config, "host-after-report")
    counts = {await store.read(lambda db: db.execute("SELECT count(*) FROM devices").fetchone()[0]) for _ in range(12)}
    assert counts == {2}


# ---- the auditor-grade parts: summary, attestation, PDF, coverage, local runtimes ----

def _signed(fleet: dict):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from shadowmap.collector.report.attestation import sign

    key = Ed25519PrivateKey.generate()
    return sign(build(fleet["db"], WEEK), key), key


def test_summary_deltas_and_open_findings_match_the_database(fleet):
    report, _ = _signed(fleet)
    want = expected(fleet)
    previous_start = (WEEK_START - timedelta(days=7)).isoformat()
    last_week = [e for e in fleet["events"] if previous_start <= e["ts"][:10] < WEEK_START.isoformat()]
    wow = report["week_over_week"]
    assert wow["users"]["last_week"] == len({e["user"] for e in last_week})
    assert wow["users"]["change"] == wow["users"]["this_week"] - wow["users"]["last_week"]
    assert wow["sensitive_events_reached"]["this_week"] == sum(sum(w["sent"].values()) for w in want.values())
    assert wow["sensitive_events_kept_back"]["this_week"] == sum(sum(w["blocked"].values()) for w in want.values())
    assert wow["new_vendors"] == {"this_week": 2, "last_week": 0, "change": 2}
    rows = list(fleet["db"].query("SELECT id, severity, assignee FROM alerts WHERE status IN ('open', 'acknowledged')"))
    findings = report["open_findings"]
    assert findings["total"] == len(rows) and findings["listed"] == min(len(rows), 100)
    listed = findings["rows"]
    assert all(f["owner"] == "unassigned" and f["age_days"] >= 0 and f["status"] == "open" for f in listed)
    ranks = [contract.enums.SEVERITIES.index(f["severity"]) for f in listed]
    assert ranks == sorted(ranks)  # most severe first
    critical = sum(r["severity"] == "critical" for r in rows)
    assert any(a.startswith(f"Triage {critical} critical open finding(s)") for a in report["top_actions"])
    assert any("not in the sub-processor register" in a and "DeepSeek" in a for a in report["top_actions"])


def test_the_signature_covers_the_report(fleet):
    from shadowmap.collector.report.attestation import verify

    report, key = _signed(fleet)
    attestation = report["attestation"]
    # the record's head: the last event run, or a later entry (the report CLI records its read)
    from shadowmap.collector.store.sqlite.record import last_entry
    seq, entry_hash = last_entry(fleet["db"])
    assert attestation["record_seq"] == seq and attestation["record_entry_hash"] == entry_hash
    assert verify(json.loads(render(report, "json")), key.public_key())
    tampered = json.loads(render(report, "json"))
    tampered["summary"]["open_findings_all"] -= 1
    assert not verify(tampered, key.public_key())


def test_the_pdf_shows_the_figures_of_the_json(fleet, tmp_path):
    import re

    import pypdf

    from shadowmap.collector.report.attestation import verify
    from shadowmap.collector.report.render import LABELS, to_pdf

    report, key = _signed(fleet)
    pdf = to_pdf(report)
    (tmp_path / "weekly.pdf").write_bytes(pdf)
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    # the signed JSON travels inside the PDF, and checks out
    [attached] = reader.attachments[f"weekly-{WEEK}.json"]
    data = json.loads(attached)
    assert data == json.loads(render(report, "json")) and verify(data, key.public_key())
    text = "\n".join(page.extract_text() for page in reader.pages)
    flat = " ".join(text.split())
    for name, d in data["week_over_week"].items():
        assert f"{LABELS[name]} {d['this_week']} {d['last_week']} {d['change']:+d}" in flat, name
    for v in data["vendors"]:
        row = rf"{re.escape(v['vendor'])}( new)? {re.escape(', '.join(v['tools']))} {v['users']} {v['devices']} "
        assert re.search(row, flat), v["vendor"]
    for f in data["open_findings"]["rows"][:20]:
        assert re.search(rf"#{f['id']} {f['severity']} ", flat), f["id"]
    assert f"{data['open_findings']['total']} open or acknowledged" in flat
    assert f"record entry {data['attestation']['record_seq']}" in flat
    assert data["attestation"]["key_sha256"] in flat.replace(" ", "") and "Approved by:" in flat
    # one control-mapping appendix: each control as often as the appendix names it, not once per vendor row
    assert "Appendix: control mapping" in flat
    assert flat.count("CC9.2") == sum("CC9.2" in c["soc2"] for c in data["controls"]) < len(data["vendors"])


def test_cli_writes_a_signed_pdf(fleet, tmp_path):
    import pypdf

    from shadowmap.collector.record import keys

    key_path = tmp_path / "record_signing_key.pem"
    key = keys.load_or_create_key(key_path)
    out = tmp_path / "out.pdf"
    result = subprocess.run([sys.executable, "-m", "shadowmap.cli", "collector", "report", "weekly", "--week", WEEK,
                             "--db", str(fleet["path"]), "--key", str(key_path), "--pdf", str(out)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    reader = pypdf.PdfReader(out)
    [attached] = reader.attachments[f"weekly-{WEEK}.json"]
    assert json.loads(attached)["attestation"]["key_sha256"] == keys.fingerprint(key)


async def test_coverage_warns_when_agents_were_silent_and_local_runtimes_stay_apart(client, config, make, console):
    from shadowmap.collector.state import STORE

    reporting = await make.enroll(client, config, "host-reporting")
    await make.enroll(client, config, "host-silent")  # enrolled, never heard from
    headers = {"Authorization": f"Bearer {reporting['node_key']}"}
    did = reporting["device_id"]
    heartbeat = make.heartbeat(did, data={"agent_version": "1.4.2", "hostname": "reporting-1", "os": "linux"})
    await console.post_events(client, {"headers": headers}, [
        heartbeat, make.observed(did, user="ann", data={"tool_id": "ollama", "source": "process", "process": "ollama"}),
        make.paste(did, user="ann", action="allow", tool_id="chatgpt")])
    year, week, _ = date.today().isocalendar()
    report = await client.app[STORE].read(lambda db: build(db, f"{year}-W{week:02d}"))
    cover = report["coverage"]
    assert cover["devices_enrolled"] == 2 and cover["devices_reporting"] == 1
    assert len(cover["silent_devices"]) == 1 and cover["agent_versions"] == {"1.4.2": 1}
    assert "1 of 2 enrolled devices" in cover["warning"]
    # Ollama runs on the laptop: a local runtime, not an unlisted sub-processor
    assert [v["vendor"] for v in report["vendors"]] == ["OpenAI"]
    assert [r["tools"] for r in report["local_runtimes"]] == [["Ollama"]]
    assert report["summary"]["unlisted_vendors"] == 1 and report["summary"]["local_runtimes"] == 1
    html = render(report, "html")
    assert 'id="coverage-warning"' in html and "Ollama" in html.split('id="local-runtimes"', 1)[1]
    # an empty week warns too, instead of looking clean
    empty = await client.app[STORE].read(lambda db: build(db, "2026-W30"))
    assert "No agent reported anything this week" in empty["coverage"]["warning"]


async def test_reached_the_vendor_counts_only_what_left_the_laptop(client, device, make, console):
    from shadowmap.collector.state import STORE

    did = device["device_id"]

    def secret_paste(action: str) -> dict:
        return make.paste(did, action=action, tool_id="chatgpt", findings=[make.finding()])

    def decision(scan: dict, choice: str) -> dict:
        data = {"scan_id": scan["id"], "decision": choice, "tool_id": "chatgpt", "domain": "chatgpt.com"}
        return {**make.observed(did), "type": "paste.override", "data": data}

    allowed, blocked, cancelled, sent_anyway, undecided = (secret_paste(a) for a in
                                                           ("allow", "block", "warn", "warn", "warn"))
    await console.post_events(client, device, [allowed, blocked, cancelled, sent_anyway, undecided])
    # the decisions come in a later batch, as the extension sends them; one for a paste of
    # another user is not taken
    stranger = make.paste(did, user="mallory", action="warn", tool_id="chatgpt", findings=[make.finding()])
    await console.post_events(client, device, [stranger, decision(cancelled, "cancel"),
                                               decision(sent_anyway, "send_anyway"),
                                               {**decision(stranger, "send_anyway"), "user": "alice"}])
    year, week, _ = date.today().isocalendar()
    report = await client.app[STORE].read(lambda db: build(db, f"{year}-W{week:02d}"))
    [openai] = report["vendors"]
    # reached: the allowed paste and the one sent after the warning; kept back: blocked,
    # cancelled, awaiting a decision, and the stranger's (its decision came from someone else)
    assert openai["data_classes_sent"] == {"secret": 2}
    assert openai["data_classes_blocked"] == {"secret": 4}
    assert report["week_over_week"]["sensitive_events_reached"]["this_week"] == 2
