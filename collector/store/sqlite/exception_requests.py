"""Exception requests (exception.requested events) and the analysts' decisions on them
(exception_decisions): the console's queue, one request, a decision, and the approved,
unexpired exceptions of one device that the served policy carries. Portable SQL (SQLite and
PostgreSQL)."""
from __future__ import annotations

import json
from typing import Any

import sqlite_utils

REQUEST_EVENT = "exception.requested"
STATUSES = ("pending", "approved", "denied", "all")
MAX_ROWS = 200

_REQUESTS = """
    SELECT e.id, e.device_id, e.user, e.ts, e.body, coalesce(dv.hostname, '') AS hostname,
           d.decision, d.decided_by, d.decided_at, d.expires_at, d.note
    FROM events e
    LEFT JOIN exception_decisions d ON d.request_id = e.id
    LEFT JOIN devices dv ON dv.device_id = e.device_id
    WHERE e.type = ?
"""


class DecisionError(ValueError):
    """The request cannot take this decision (none such, or decided already)."""

    def __init__(self, status: int, text: str):
        super().__init__(text)
        self.status = status


def _row(row: dict[str, Any]) -> dict[str, Any]:
    data = json.loads(row.pop("body"))["data"]
    row.update(tool_id=data["tool_id"], domain=data["domain"], data_classes=list(data["data_classes"]),
               reason=data["reason"], channel=data.get("channel", ""), account_tier=data.get("account_tier", ""),
               status=row["decision"] or "pending")
    return row


def requests(db: sqlite_utils.Database, status: str = "pending", limit: int = MAX_ROWS) -> list[dict[str, Any]]:
    """The requests with this status (pending, approved, denied, or all), newest first."""
    if status not in STATUSES:
        raise ValueError(f"status must be one of {', '.join(STATUSES)}")
    where = {"pending": " AND d.request_id IS NULL", "approved": " AND d.decision = 'approved'",
             "denied": " AND d.decision = 'denied'", "all": ""}[status]
    return [_row(dict(row)) for row in db.query(
        f"{_REQUESTS}{where} ORDER BY e.ts DESC, e.id LIMIT ?", (REQUEST_EVENT, limit))]


def request(db: sqlite_utils.Database, request_id: str) -> dict[str, Any] | None:
    rows = list(db.query(f"{_REQUESTS} AND e.id = ?", (REQUEST_EVENT, request_id)))
    return _row(dict(rows[0])) if rows else None


def decide(db: sqlite_utils.Database, request_id: str, decision: str, actor: str, decided_at: str,
           expires_at: str | None, note: str) -> dict[str, Any]:
    """Writer fn: store the decision on a pending request; returns the request as decided.
    DecisionError 404 when there is no such request, 409 when it was decided already."""
    found = request(db, request_id)
    if found is None:
        raise DecisionError(404, "no such exception request")
    inserted = db.execute(
        "INSERT INTO exception_decisions (request_id, device_id, user, tool_id, data_classes, decision, decided_by,"
        " decided_at, expires_at, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(request_id) DO NOTHING",
        (request_id, found["device_id"], found["user"], found["tool_id"], json.dumps(found["data_classes"]),
         decision, actor, decided_at, expires_at, note)).rowcount
    if inserted != 1:
        raise DecisionError(409, "this exception request was decided already")
    found.update(decision=decision, decided_by=actor, decided_at=decided_at, expires_at=expires_at, note=note,
                 status=decision)
    return found


def active_for_device(db: sqlite_utils.Database, device_id: str, now: str) -> list[dict[str, Any]]:
    """The device's approved exceptions that have not expired, as the policy's exceptions
    entries (one per data class), oldest decision first."""
    grants = []
    for row in db.query("SELECT request_id, user, tool_id, data_classes, expires_at FROM exception_decisions"
                        " WHERE device_id = ? AND decision = 'approved' AND expires_at > ?"
                        " ORDER BY decided_at, request_id", (device_id, now)):
        for data_class in json.loads(row["data_classes"]):
            grants.append({"id": row["request_id"], "user": row["user"], "tool": row["tool_id"],
                           "data_class": data_class, "expires_at": row["expires_at"]})
    return grants
