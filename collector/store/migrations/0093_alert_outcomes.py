"""alert outcomes: what left the laptop, and the severity that follows

Adds `alerts.outcomes` (JSON: paste outcome -> events, e.g. {"blocked": 3, "sent_after_warning": 1})
and an index of `alert_events` by event (a user's decision on a warning is joined to the
alert of its paste by the paste's id). Then re-judges the leak alerts stored before: each
linked paste gets its outcome from its action and, for a warning, the decision that answers
it (linked as evidence too); a leak none of whose evidence reached the tool is no longer
critical/high. Frozen here as it was when this migration shipped; it imports nothing of
the collector. Portable SQL (`?` placeholders, ON CONFLICT) for the PostgreSQL mirror."""
from __future__ import annotations

import json
import sqlite3

NAME = "alert outcomes: what left the laptop, and the severity that follows"

SQL = (
    "ALTER TABLE alerts ADD COLUMN outcomes TEXT NOT NULL DEFAULT '{}'",
    "CREATE INDEX alert_events_event ON alert_events(event_id)",
)
ACTION_OUTCOMES = {"allow": "allowed", "redact": "redacted", "block": "blocked", "warn": "awaiting_decision"}
DECISION_OUTCOMES = {"send_anyway": "sent_after_warning", "cancel": "cancelled_after_warning"}
REACHED = {"allowed", "sent_after_warning"}
# finding -> (severity when some data reached the tool, severity when all of it was stopped)
JUDGED = {"copied_secrets": ("critical", "medium"), "adhoc_production_data": ("high", "low")}


def up(conn: sqlite3.Connection) -> None:
    for statement in SQL:
        conn.execute(statement)
    decisions: dict[str, tuple[str, str, str, str]] = {}  # scan id -> (decision id, device, user, decision)
    for decision_id, device_id, user, body in conn.execute(
            "SELECT id, device_id, user, body FROM events WHERE type = ?", ("paste.override",)).fetchall():
        data = json.loads(body).get("data") or {}
        if isinstance(data.get("scan_id"), str):
            decisions.setdefault(data["scan_id"], (decision_id, device_id, user, str(data.get("decision"))))
    alerts = conn.execute(
        "SELECT id, finding_id, count FROM alerts WHERE finding_id IN (?, ?)", tuple(JUDGED)).fetchall()
    for alert_id, finding_id, count in alerts:
        counts: dict[str, int] = {}
        for scan_id, device_id, user, body in conn.execute(
                "SELECT e.id, e.device_id, e.user, e.body FROM alert_events ae JOIN events e ON e.id = ae.event_id "
                "WHERE ae.alert_id = ? AND e.type = ?", (alert_id, "paste.scanned")).fetchall():
            action = (json.loads(body).get("data") or {}).get("action")
            outcome = ACTION_OUTCOMES.get(action) if isinstance(action, str) else None
            if outcome is None:
                continue
            decision = decisions.get(scan_id)
            if outcome == "awaiting_decision" and decision is not None and decision[1:3] == (device_id, user) \
                    and decision[3] in DECISION_OUTCOMES:
                outcome = DECISION_OUTCOMES[decision[3]]
                conn.execute("INSERT INTO alert_events (alert_id, event_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
                             (alert_id, decision[0]))
            counts[outcome] = counts.get(outcome, 0) + 1
        # evidence without a paste outcome (a config finding, or beyond the kept links) counts as reached
        reached = sum(n for outcome, n in counts.items() if outcome in REACHED) + max(0, count - sum(counts.values()))
        severity = JUDGED[finding_id][0 if reached else 1]
        conn.execute("UPDATE alerts SET outcomes = ?, severity = ? WHERE id = ?",
                     (json.dumps(counts), severity, alert_id))
