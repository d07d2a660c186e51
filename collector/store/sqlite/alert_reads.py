"""Reading alerts: the list (with the console's and the API's filters), one alert, the
events behind it."""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import sqlite_utils

ALERT_LIST_LIMIT = 500
LIST_COLUMNS = ("device_ids", "entity_types", "data_classes", "users")  # JSON lists, decoded when read
TEAM_MATCH = (
    "EXISTS (SELECT 1 FROM team_members tm WHERE tm.team = ? AND ("
    "(tm.kind = 'user' AND (tm.key = alerts.user OR tm.key IN (SELECT value FROM json_each(alerts.users))))"
    " OR (tm.kind = 'device' AND tm.key IN (SELECT d.device_id FROM devices d WHERE d.device_id IN "
    "(SELECT value FROM json_each(alerts.device_ids)) UNION SELECT d.hostname FROM devices d "
    "WHERE d.device_id IN (SELECT value FROM json_each(alerts.device_ids))))))")


@dataclass(frozen=True)
class AlertFilter:
    severity: str = ""
    finding: str = ""
    tool: str = ""
    team: str = ""
    status: str = ""   # "" = any; "active" = open or acknowledged
    date_from: str = ""  # YYYY-MM-DD, on last_seen
    date_to: str = ""
    assignee: str = ""

    def where(self) -> tuple[str, list[str]]:
        """The WHERE clause (empty for no filter) and its parameters."""
        clauses: list[str] = []
        params: list[str] = []

        def add(clause: str, *values: str) -> None:
            clauses.append(clause)
            params.extend(values)

        if self.severity:
            add("severity = ?", self.severity)
        if self.finding:
            add("finding_id = ?", self.finding)
        if self.tool:
            add("(tool_id = ? OR domain = ?)", self.tool, self.tool)
        if self.status == "active":
            add("status IN ('open', 'acknowledged')")
        elif self.status:
            add("status = ?", self.status)
        if self.date_from:
            add("last_seen >= ?", self.date_from)
        if self.date_to:
            add("first_seen < date(?, '+1 day')", self.date_to)
        if self.assignee:
            add("assignee = ?", self.assignee)
        if self.team:
            add(TEAM_MATCH, self.team)
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def _decode(row: dict[str, Any]) -> dict[str, Any]:
    for column in LIST_COLUMNS:
        row[column] = json.loads(row[column])
    row["facts"] = json.loads(row["facts"])
    row["outcomes"] = json.loads(row["outcomes"])
    return row


def list_alerts(db: sqlite_utils.Database, limit: int = ALERT_LIST_LIMIT, filters: AlertFilter | None = None) -> list[dict[str, Any]]:
    """Alerts, most recently seen first, with list columns decoded."""
    where, params = (filters or AlertFilter()).where()
    rows = db.query(
        "SELECT id, finding_id, finding, severity, tool_id, domain, vendor, user, users, device_ids, entity_types, "
        "data_classes, count, first_seen, last_seen, status, assignee, facts, updated_at, outcomes FROM alerts"
        f"{where} ORDER BY last_seen DESC, id DESC LIMIT ?", (*params, limit))
    return [_decode(row) for row in rows]


def get_alert(db: sqlite_utils.Database, alert_id: int) -> dict[str, Any] | None:
    rows = list(db.query("SELECT * FROM alerts WHERE id = ?", (alert_id,)))
    return _decode(rows[0]) if rows else None


def alert_evidence(db: sqlite_utils.Database, alert_id: int, limit: int = 200) -> list[dict[str, Any]]:
    """The events behind an alert, newest first, as stored (JSON decoded)."""
    rows = db.query(
        "SELECT e.id, e.type, e.device_id, e.user, e.ts, e.body, d.hostname FROM alert_events ae "
        "JOIN events e ON e.id = ae.event_id LEFT JOIN devices d ON d.device_id = e.device_id "
        "WHERE ae.alert_id = ? ORDER BY e.ts DESC LIMIT ?", (alert_id, limit))
    return [{**row, "data": json.loads(row.pop("body")).get("data", {})} for row in rows]
