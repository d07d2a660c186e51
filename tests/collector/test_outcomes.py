"""Outcomes first: every paste's outcome (blocked, redacted, cancelled or sent after a
warning, allowed), the warning's decision joined to its scan at the collector, and leak
severity that follows what left the laptop. Events with known outcomes are generated; the
expected counts and severities are worked out here, independently of the collector's
code, and compared with the alerts it raised through the real server."""
from __future__ import annotations

import json
import random
import sqlite3
import uuid
from collections import Counter, defaultdict

from support.db_rows import rows

from shadowmap.collector.store import migrations
from shadowmap.contract import validate_event

# what the test knows about each outcome: the action the policy took, the user's decision
SCENARIOS = {
    "allowed": ("allow", None), "redacted": ("redact", None), "blocked": ("block", None),
    "sent_after_warning": ("warn", "send_anyway"), "cancelled_after_warning": ("warn", "cancel"),
    "awaiting_decision": ("warn", None),
}
LEFT_THE_LAPTOP = {"allowed", "sent_after_warning"}
TOOLS = [("chatgpt", "chatgpt.com"), ("claude", "claude.ai"), (None, "chat.unknown-model.ai")]
USERS = ["alice", "bob"]
KINDS = {"secret": ("AWS_ACCESS_KEY", "secret"), "pii": ("EMAIL_ADDRESS", "pii")}


def decision_event(scan: dict, decision: str, justification: str = "") -> dict:
    data = {"scan_id": scan["id"], "decision": decision, "tool_id": scan["data"]["tool_id"],
            "domain": scan["data"]["domain"], "channel": "paste"}
    if justification:
        data["justification"] = justification
    event = {"schema": "shadowmap.event/1", "id": str(uuid.uuid4()), "type": "paste.override",
             "device_id": scan["device_id"], "user": scan["user"], "ts": scan["ts"], "data": data}
    validate_event(event)
    return event


def expected_severity(kind: str, outcomes: Counter) -> str:
    reached = any(outcomes[o] for o in LEFT_THE_LAPTOP)
    if kind == "secret":
        return "critical" if reached else "medium"
    return "high" if reached else "low"


async def test_generated_outcomes_give_the_expected_counts_and_severities(client, device, make, config, console):
    await make.approve_vendors(client, "OpenAI", "Anthropic")
    did = device["device_id"]
    rng = random.Random(17)
    expected: dict[tuple, Counter] = defaultdict(Counter)
    batches: list[list[dict]] = [[], [], []]
    justifications = []
    for n in range(120):
        tool_id, domain = rng.choice(TOOLS)
        user, kind, outcome = rng.choice(USERS), rng.choice(list(KINDS)), rng.choice(list(SCENARIOS))
        action, decision = SCENARIOS[outcome]
        entity, data_class = KINDS[kind]
        scan = make.paste(did, user=user, action=action, tool_id=tool_id, domain=domain,
                          findings=[make.finding(entity, data_class)])
        if action == "redact":
            scan["data"]["redacted"] = True
        first = rng.randrange(2)
        batches[first].append(scan)
        if decision:
            text = f"ticket OPS-{n}" if decision == "send_anyway" else ""
            justifications += [text] if text else []
            # the decision comes in the scan's batch or a later one
            batches[rng.randrange(first, 3)].append(decision_event(scan, decision, text))
        finding = "copied_secrets" if kind == "secret" else "adhoc_production_data"
        expected[(finding, tool_id or domain, user)][outcome] += 1
    for batch in batches:
        await console.post_events(client, device, batch)

    raised = {(a["finding_id"], a["tool_id"] or a["domain"], a["user"]): a
              for a in rows(config.db_path, "SELECT * FROM alerts WHERE user != '*'")}
    assert set(raised) == set(expected)
    for key, outcomes in expected.items():
        alert = raised[key]
        assert json.loads(alert["outcomes"]) == dict(outcomes), key
        assert alert["count"] == sum(outcomes.values())
        kind = "secret" if key[0] == "copied_secrets" else "pii"
        assert alert["severity"] == expected_severity(kind, outcomes), (key, outcomes)
        if not (outcomes["allowed"] or outcomes["sent_after_warning"]):
            assert alert["severity"] not in ("critical", "high")  # stopped data never ranks as a leak
    # every decision is linked to its alert as evidence, so its justification can be shown
    linked = rows(config.db_path, "SELECT e.body FROM alert_events ae JOIN events e ON e.id = ae.event_id "
                                  "WHERE e.type = 'paste.override'")
    shown = sorted(j for j in (json.loads(r["body"])["data"].get("justification", "") for r in linked) if j)
    assert shown == sorted(justifications)


async def test_a_secret_sent_to_an_unknown_tool_under_monitor_is_critical_and_a_blocked_one_is_not(
        client, device, make, config, console):
    did = device["device_id"]
    await console.post_events(client, device, [
        make.paste(did, user="dave", action="allow", tool_id=None, domain="chat.newmodel.ai"),
        make.paste(did, user="erin", action="block"),
    ])
    severity = {(r["user"], r["finding_id"]): r["severity"] for r in rows(config.db_path, "SELECT * FROM alerts")}
    assert severity[("dave", "copied_secrets")] == "critical"
    assert severity[("erin", "copied_secrets")] == "medium"


async def test_a_decision_from_another_user_or_without_a_warning_changes_nothing(client, device, make, config,
                                                                                  console):
    did = device["device_id"]
    warned = make.paste(did, user="alice", action="warn")
    blocked = make.paste(did, user="alice", action="block", tool_id="claude", domain="claude.ai")
    forged = decision_event(warned, "send_anyway", "not mine")
    forged["user"] = "mallory"
    await console.post_events(client, device, [warned, blocked, forged, decision_event(blocked, "send_anyway", "x")])
    by_tool = {r["tool_id"]: r for r in rows(config.db_path, "SELECT * FROM alerts WHERE user = 'alice'")}
    assert json.loads(by_tool["chatgpt"]["outcomes"]) == {"awaiting_decision": 1}
    assert by_tool["chatgpt"]["severity"] == "medium"
    assert json.loads(by_tool["claude"]["outcomes"]) == {"blocked": 1}
    # the real decision then arrives, in a later batch: the secret left, the alert is critical
    await console.post_events(client, device, [decision_event(warned, "send_anyway", "needed for the demo")])
    [alert] = rows(config.db_path, "SELECT * FROM alerts WHERE user = 'alice' AND tool_id = 'chatgpt'")
    assert (json.loads(alert["outcomes"]), alert["severity"]) == ({"sent_after_warning": 1}, "critical")


def test_the_migration_re_judges_alerts_stored_before_it(tmp_path):
    """A database at migration 0092 holding alerts raised under the old rules (every blocked
    or warned paste critical/high) is re-judged by 0093."""
    conn = sqlite3.connect(tmp_path / "old.db")
    [rejudge] = [m for m in migrations.MIGRATIONS if m.number == 93]
    for migration in migrations.MIGRATIONS:
        if migration.number < 93:
            migration.up(conn)

    def event(type_: str, user: str, data: dict) -> str:
        event_id = str(uuid.uuid4())
        conn.execute("INSERT INTO events (id, type, user, ts, received_at, body, device_id) "
                     "VALUES (?, ?, ?, '2026-01-01', '2026-01-01', ?, 'd1')",
                     (event_id, type_, user, json.dumps({"data": data})))
        return event_id

    def alert(finding: str, user: str, severity: str, events: list[str]) -> int:
        alert_id = conn.execute(
            "INSERT INTO alerts (dedupe_key, finding_id, finding, severity, user, device_ids, entity_types, "
            "data_classes, count, first_seen, last_seen) VALUES (?, ?, ?, ?, ?, '[]', '[]', '[]', ?, 'a', 'b')",
            (f"{finding}-{user}", finding, finding, severity, user, len(events))).lastrowid
        conn.executemany("INSERT INTO alert_events (alert_id, event_id) VALUES (?, ?)",
                         [(alert_id, e) for e in events])
        return alert_id

    blocked = alert("copied_secrets", "alice", "critical", [event("paste.scanned", "alice", {"action": "block"})])
    warned = event("paste.scanned", "bob", {"action": "warn"})
    sent = alert("copied_secrets", "bob", "critical", [warned, event("paste.scanned", "bob", {"action": "block"})])
    event("paste.override", "bob", {"scan_id": warned, "decision": "send_anyway", "justification": "ok"})
    cancelled_scan = event("paste.scanned", "carol", {"action": "warn"})
    cancelled = alert("adhoc_production_data", "carol", "high", [cancelled_scan])
    event("paste.override", "carol", {"scan_id": cancelled_scan, "decision": "cancel"})
    config_secret = alert("copied_secrets", "dave", "critical", [event("ai_config.finding", "dave", {})])
    vendor = alert("unknown_subprocessor", "*", "medium", [event("ai_tool.observed", "erin", {})])
    rejudge.up(conn)
    judged = {row[0]: (json.loads(row[1]), row[2]) for row in conn.execute("SELECT id, outcomes, severity FROM alerts")}
    assert judged[blocked] == ({"blocked": 1}, "medium")
    assert judged[sent] == ({"sent_after_warning": 1, "blocked": 1}, "critical")
    assert judged[cancelled] == ({"cancelled_after_warning": 1}, "low")
    assert judged[config_secret] == ({}, "critical")  # a secret in an AI tool's config: the tool reads it
    assert judged[vendor] == ({}, "medium")
    linked = {row[0] for row in conn.execute("SELECT event_id FROM alert_events WHERE alert_id = ?", (sent,))}
    assert len(linked) == 3  # the decision is evidence now
