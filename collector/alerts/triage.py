"""Triage decisions on alerts: acknowledge, resolve, false positive, reopen, assign, comment.
Which status each action may start from is data (TRANSITIONS); every decision is logged in
`alert_log` with who and when."""
from __future__ import annotations

import sqlite_utils

from shadowmap.collector import record
from shadowmap.collector.store.sqlite import accounts, alerts
from shadowmap.collector.timestamps import utc_now
from shadowmap.contract import enums

MAX_NOTE = 4000

# action -> (statuses it may start from, status it leaves)
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "acknowledge": (frozenset({"open"}), "acknowledged"),
    "resolve": (frozenset(enums.ACTIVE_ALERT_STATUSES), "resolved"),
    "false_positive": (frozenset(enums.ACTIVE_ALERT_STATUSES), "false_positive"),
    "reopen": (frozenset(enums.CLOSED_ALERT_STATUSES), "open"),
}
ACTIONS = (*TRANSITIONS, "assign", "comment")
# closing an alert says why: the log is what an auditor and the next responder read
REASON_REQUIRED = frozenset({"resolve", "false_positive"})


class TriageError(ValueError):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def log_action(db: sqlite_utils.Database, alert_id: int, actor: str, action: str, note: str = "") -> dict:
    """Writer fn: log a decision on the alert and append it to the hash-chained record."""
    at = utc_now()
    alerts.log_decision(db, alert_id, at, actor, action, note)
    record.append(db, "triage", f"alert:{alert_id}", actor, {"action": action, "note": note})
    return {"alert_id": alert_id, "at": at, "actor": actor, "action": action, "note": note}


def apply(db: sqlite_utils.Database, alert_id: int, action: str, actor: str, note: str = "",
          assignee: str | None = None) -> dict:
    """Writer fn: apply one triage action; returns the log entry. TriageError says why not."""
    if action not in ACTIONS:
        raise TriageError(400, f"unknown action {action[:40]!r}")
    if len(note) > MAX_NOTE:
        raise TriageError(400, f"a note is at most {MAX_NOTE} characters")
    status = alerts.alert_status(db, alert_id)
    if status is None:
        raise TriageError(404, "no such alert")
    now = utc_now()
    if action == "comment":
        if not note.strip():
            raise TriageError(400, "a comment needs text")
        return log_action(db, alert_id, actor, "comment", note)
    if action == "assign":
        if assignee and not accounts.account_exists(db, assignee):
            raise TriageError(400, "assign to an existing account (or nobody)")
        alerts.set_assignee(db, alert_id, assignee or None, now)
        return log_action(db, alert_id, actor, "assign", assignee or "(nobody)")
    allowed_from, to = TRANSITIONS[action]
    if action in REASON_REQUIRED and not note.strip():
        raise TriageError(400, f"say why: to {action.replace('_', ' ')} an alert needs a reason")
    if status not in allowed_from:
        raise TriageError(409, f"cannot {action.replace('_', ' ')} an alert that is {status.replace('_', ' ')}")
    if not alerts.set_status(db, alert_id, to, now):
        raise TriageError(409, "another alert for the same finding, tool and user is already active")
    return log_action(db, alert_id, actor, action, note)


def alert_log(db: sqlite_utils.Database, alert_id: int) -> list[dict]:
    return alerts.decisions(db, alert_id)


def false_positive_rates(db: sqlite_utils.Database) -> list[dict]:
    """Per recognizer (entity type): alerts it took part in, how many were triaged (resolved
    or false positive), how many were false positives, and the rate among the triaged."""
    rows = alerts.false_positive_counts(db)
    return [{**row, "rate": (row["false_positives"] / row["triaged"]) if row["triaged"] else None} for row in rows]
