"""Suppression rules: a false positive turned into a rule, so the same finding for the same
tool and user raises no new alert (the events are still stored and counted in reports).
Adding and removing a rule are logged and recorded like any triage decision."""
from __future__ import annotations

import json
from typing import Any

import sqlite_utils

from shadowmap.collector.alerts.triage import TriageError, log_action
from shadowmap.collector.store.sqlite import alert_reads
from shadowmap.collector.store.sqlite import alerts as stored_alerts
from shadowmap.collector.timestamps import utc_now


def suppress_like(db: sqlite_utils.Database, alert_id: int, actor: str, reason: str) -> None:
    """Writer fn: a rule silencing the finding x tool x user of this alert."""
    alert = alert_reads.get_alert(db, alert_id)
    if alert is None:
        raise TriageError(404, "no such alert")
    if not reason:
        raise TriageError(400, "a suppression rule needs a reason")
    tool = alert["tool_id"] or alert["domain"] or ""
    stored_alerts.add_suppression(db, (alert["dedupe_key"], alert["finding_id"], tool, alert["user"], alert_id,
                                       reason, actor, utc_now()))
    log_action(db, alert_id, actor, "suppress", reason)


def of_alert(db: sqlite_utils.Database, alert: dict[str, Any]) -> dict[str, Any] | None:
    """The rule silencing alerts like this one, if any."""
    return stored_alerts.suppression_of(db, alert["dedupe_key"])


def remove(db: sqlite_utils.Database, suppression_id: int, actor: str) -> None:
    """Writer fn: remove a rule; its alert's log says so."""
    rule = next((r for r in stored_alerts.suppressions(db) if r["id"] == suppression_id), None)
    if rule is None or not stored_alerts.remove_suppression(db, suppression_id):
        raise TriageError(404, "no such suppression rule")
    log_action(db, int(rule["alert_id"]), actor, "unsuppress", json.loads(rule["dedupe_key"])[0])


def rules(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    return stored_alerts.suppressions(db)
