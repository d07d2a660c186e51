"""Reading alerts: the list (with the console's and the API's filters), one alert, the
events behind it."""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import sqlite_utils

from shadowmap.collector.store.sqlite.hash_sightings import sighting_key
from shadowmap.contract import enums

ALERT_LIST_LIMIT = 500
UNASSIGNED = "-"  # the assignee filter's value for alerts nobody owns
LIST_COLUMNS = ("device_ids", "entity_types", "data_classes", "users")  # JSON lists, decoded when read
TEAM_MATCH = (
    "EXISTS (SELECT 1 FROM team_members tm WHERE tm.team = ? AND ("
    "(tm.kind = 'user' AND (tm.key = alerts.user OR tm.key IN (SELECT value FROM json_each(alerts.users))))"
    " OR (tm.kind = 'device' AND tm.key IN (SELECT d.device_id FROM devices d WHERE d.device_id IN "
    "(SELECT value FROM json_each(alerts.device_ids)) UNION SELECT d.hostname FROM devices d "
    "WHERE d.device_id IN (SELECT value FROM json_each(alerts.device_ids))))))")


LIST_SELECT = (
    "id, finding_id, finding, severity, tool_id, domain, vendor, user, users, device_ids, entity_types, "
    "data_classes, count, first_seen, last_seen, status, assignee, facts, updated_at, outcomes")


@dataclass(frozen=True)
class AlertFilter:
    severity: str = ""
    finding: str = ""
    tool: str = ""
    team: str = ""
    status: str = ""   # "" = any; "active" = open or acknowledged
    date_from: str = ""  # YYYY-MM-DD, on last_seen
    date_to: str = ""
    assignee: str = ""   # an account, or UNASSIGNED
    user: str = ""       # the user an alert is about (or one of its users)
    text: str = ""       # free text: finding, tool, domain, vendor, users, assignee, entity types, host names
    device: str = ""     # exactly this device id among the alert's devices
    tool_ids: tuple[str, ...] = ()  # catalog tools whose name matches the tool filter
    text_tool_ids: tuple[str, ...] = ()  # ... and the free text

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
            like = _like(self.tool)
            add("(lower(coalesce(tool_id, '')) LIKE ? ESCAPE '\\' OR lower(coalesce(domain, '')) LIKE ? ESCAPE '\\' "
                "OR tool_id IN (SELECT value FROM json_each(?)))", like, like, json.dumps(self.tool_ids))
        if self.status == "active":
            add("status IN ('open', 'acknowledged')")
        elif self.status:
            add("status = ?", self.status)
        if self.date_from:
            add("last_seen >= ?", self.date_from)
        if self.date_to:
            add("first_seen < ?", _day_after(self.date_to))
        if self.team:
            add(TEAM_MATCH, self.team)
        if self.device:
            add("EXISTS (SELECT 1 FROM json_each(alerts.device_ids) j WHERE j.value = ?)", self.device)
        self._people_and_text(add)
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", params

    def _people_and_text(self, add: Callable[..., None]) -> None:
        if self.assignee == UNASSIGNED:
            add("assignee IS NULL")
        elif self.assignee:
            add("assignee = ?", self.assignee)
        if self.user:
            add("(user = ? OR ? IN (SELECT value FROM json_each(alerts.users)))", self.user, self.user)
        if self.text:
            like = _like(self.text)
            add(TEXT_MATCH, *([like] * TEXT_MATCH.count("LIKE")), json.dumps(self.text_tool_ids))


TEXT_MATCH = "(" + " OR ".join(
    [f"lower(coalesce({column}, '')) LIKE ? ESCAPE '\\'"
     for column in ("finding", "tool_id", "domain", "vendor", "user", "users", "assignee", "entity_types")]
    + ["EXISTS (SELECT 1 FROM devices d WHERE d.device_id IN (SELECT value FROM json_each(alerts.device_ids)) "
       "AND lower(d.hostname) LIKE ? ESCAPE '\\')", "tool_id IN (SELECT value FROM json_each(?))"]) + ")"


def _like(text: str) -> str:
    """A LIKE pattern for text anywhere, case-insensitive, its wildcards taken literally."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _rank(column: str, ranks: dict[str, int]) -> str:
    return f"CASE {column} " + " ".join(f"WHEN '{name}' THEN {rank}" for name, rank in ranks.items()) + " ELSE -1 END"


# the queue's sortable columns -> what they sort by; ties go to the most recently seen
SORTS = {
    "severity": _rank("severity", enums.SEVERITY_RANK),
    "last_seen": "last_seen", "first_seen": "first_seen", "count": "count", "finding": "finding",
    "tool": "coalesce(tool_id, domain)", "user": "user", "assignee": "coalesce(assignee, '')",
    "status": _rank("status", {status: -rank for rank, status in enumerate(enums.ALERT_STATUSES)}), "id": "id",
}


def page_of_alerts(db: sqlite_utils.Database, filters: AlertFilter, sort: str = "severity", descending: bool = True,
                   offset: int = 0, limit: int = 50) -> tuple[list[dict[str, Any]], int]:
    """One page of the queue, sorted by a SORTS column then last seen, and the true total."""
    where, params = filters.where()
    direction = "DESC" if descending else "ASC"
    total = db.execute(f"SELECT count(*) FROM alerts{where}", params).fetchone()[0]
    rows = db.query(
        f"SELECT {LIST_SELECT} FROM alerts{where} ORDER BY {SORTS[sort]} {direction}, last_seen {direction}, "
        f"id {direction} LIMIT ? OFFSET ?", (*params, limit, offset))
    return [_decode(row) for row in rows], int(total)


def severity_counts(db: sqlite_utils.Database, filters: AlertFilter) -> dict[str, int]:
    """severity -> alerts matching the filters (all of them, not one page)."""
    where, params = filters.where()
    return {str(row[0]): int(row[1]) for row in
            db.execute(f"SELECT severity, count(*) FROM alerts{where} GROUP BY severity", params)}


def sharing_values(db: sqlite_utils.Database, hashes: list[str], alert_id: int,
                   per_value: int = 10) -> dict[str, dict[str, list[Any]]]:
    """For each keyed hash: the users who were seen with the same value (hash_sightings) and
    the other alerts of those users with the same entity type, a few of each."""
    found: dict[str, dict[str, list[Any]]] = {}
    for value_hash in hashes:
        rows = list(db.execute(
            "SELECT DISTINCT user, entity_type FROM hash_sightings WHERE hash_key = ? AND hash = ? ORDER BY user LIMIT ?",
            (sighting_key(value_hash), value_hash, per_value)))
        users = sorted({str(row[0]) for row in rows})
        types = sorted({str(row[1]) for row in rows})
        others = list(db.query(
            "SELECT id, finding, user, severity, status FROM alerts WHERE id != ? "
            "AND (user IN (SELECT value FROM json_each(?)) OR EXISTS (SELECT 1 FROM json_each(alerts.users) u "
            "WHERE u.value IN (SELECT value FROM json_each(?)))) "
            "AND EXISTS (SELECT 1 FROM json_each(alerts.entity_types) t WHERE t.value IN (SELECT value FROM json_each(?))) "
            "ORDER BY last_seen DESC LIMIT ?",
            (alert_id, json.dumps(users), json.dumps(users), json.dumps(types), per_value)))
        found[value_hash] = {"users": users, "alerts": others}
    return found


def decisions_on(db: sqlite_utils.Database, scan_ids: list[str]) -> list[dict[str, Any]]:
    """The users' decisions (paste.override events) on these warned pastes, found through the
    leak alerts they are linked to (index alert_events_event), as stored (JSON decoded)."""
    if not scan_ids:
        return []
    rows = db.query(
        "SELECT DISTINCT e.id, e.type, e.device_id, e.user, e.ts, e.body FROM alert_events ae "
        "JOIN events e ON e.id = ae.event_id WHERE e.type = 'paste.override' AND ae.alert_id IN "
        "(SELECT alert_id FROM alert_events WHERE event_id IN (SELECT value FROM json_each(?)))",
        (json.dumps(scan_ids),))
    wanted = set(scan_ids)
    found = [{**row, "data": json.loads(row.pop("body")).get("data", {})} for row in rows]
    return [event for event in found if event["data"].get("scan_id") in wanted]


def hostnames(db: sqlite_utils.Database, device_ids: set[str]) -> dict[str, str]:
    """device id -> host name, for the devices among these that are enrolled."""
    return {str(row[0]): str(row[1]) for row in db.execute(
        "SELECT device_id, hostname FROM devices WHERE device_id IN (SELECT value FROM json_each(?))",
        (json.dumps(sorted(device_ids)),))}


def _decode(row: dict[str, Any]) -> dict[str, Any]:
    for column in LIST_COLUMNS:
        row[column] = json.loads(row[column])
    row["facts"] = json.loads(row["facts"])
    row["outcomes"] = json.loads(row["outcomes"])
    return row


def list_alerts(db: sqlite_utils.Database, limit: int = ALERT_LIST_LIMIT, filters: AlertFilter | None = None) -> list[dict[str, Any]]:
    """Alerts, most recently seen first, with list columns decoded."""
    where, params = (filters or AlertFilter()).where()
    rows = db.query(f"SELECT {LIST_SELECT} FROM alerts{where} ORDER BY last_seen DESC, id DESC LIMIT ?",
                    (*params, limit))
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


def config_paths(db: sqlite_utils.Database, alert_ids: list[int]) -> dict[int, list[str]]:
    """alert id -> the files its config-secret events (ai_config.finding: a path, never a
    value) name, each once, the most recently seen first; alerts without any are left out."""
    if not alert_ids:
        return {}
    rows = db.execute(
        "SELECT ae.alert_id, json_extract(e.body, '$.data.path') AS path, max(e.ts) AS seen FROM alert_events ae "
        "JOIN events e ON e.id = ae.event_id WHERE e.type = 'ai_config.finding' "
        "AND ae.alert_id IN (SELECT CAST(value AS BIGINT) FROM json_each(?)) "
        "GROUP BY ae.alert_id, json_extract(e.body, '$.data.path') ORDER BY seen DESC, path",
        (json.dumps(sorted(set(alert_ids))),))
    found: dict[int, list[str]] = {}
    for alert_id, path, _ in rows:
        if isinstance(path, str) and path:
            found.setdefault(int(alert_id), []).append(path)
    return found


def _day_after(day: str) -> str:
    """YYYY-MM-DD of the day after ``day`` (worked out here: SQLite and PostgreSQL spell date
    arithmetic differently); a value that is no date matches nothing, as date() made it."""
    try:
        return (date.fromisoformat(day) + timedelta(days=1)).isoformat()
    except ValueError:
        return ""
