"""Writing alerts: open or bump them (many at once, ingest raises dozens per batch), link
their evidence, triage (status, assignee, the log of decisions), false-positive rates."""
from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import sqlite_utils

from shadowmap.collector.store.sqlite.sql_rows import execute_rows, from_rows, insert_sql, query_rows

ACTIVE_ALERTS = (
    "SELECT dedupe_key, id, device_ids, users, entity_types, data_classes, first_seen, last_seen, count, outcomes "
    "FROM alerts "
    "WHERE dedupe_key IN (SELECT value FROM json_each(?)) AND status IN ('open', 'acknowledged')")
BUMP_ALERT = (
    "UPDATE alerts SET count = count + r.c0, first_seen = r.c1, last_seen = r.c2, "
    "device_ids = COALESCE(r.c3, device_ids), users = COALESCE(r.c4, users), "  # NULL: the list is unchanged
    "entity_types = COALESCE(r.c5, entity_types), data_classes = COALESCE(r.c6, data_classes), "
    "facts = CASE WHEN r.c7 = '{}' THEN facts ELSE r.c8 END, "
    f"updated_at = r.c9, outcomes = r.c10, severity = r.c11 FROM {from_rows(13)} AS r WHERE alerts.id = r.c12")
OPEN_ALERTS = insert_sql(  # new open alerts, many rows at once
    "INSERT INTO alerts (dedupe_key, finding_id, finding, severity, tool_id, domain, vendor, user, "
    "device_ids, users, entity_types, data_classes, count, first_seen, last_seen, facts, updated_at, outcomes, "
    "status)", 19) + " RETURNING dedupe_key, id"
LINK_EVENT = insert_sql("INSERT OR IGNORE INTO alert_events (alert_id, event_id)", 2)
SET_OUTCOMES = (
    f"UPDATE alerts SET outcomes = r.c0, severity = r.c1, updated_at = r.c2 FROM {from_rows(4)} AS r "
    "WHERE alerts.id = r.c3")
SCAN_ALERTS = (  # the alerts each paste is evidence of (index alert_events_event, migration 0093)
    "SELECT ae.event_id, a.id, a.finding_id, a.outcomes, a.count, e.device_id, e.user, e.body FROM alert_events ae "
    "JOIN alerts a ON a.id = ae.alert_id JOIN events e ON e.id = ae.event_id "
    "WHERE ae.event_id IN (SELECT value FROM json_each(?)) AND e.type = 'paste.scanned'")


def active_alerts(db: sqlite_utils.Database, dedupe_keys: Iterable[str]) -> dict[str, tuple[Any, ...]]:
    """dedupe key -> (id, device_ids, users, entity_types, data_classes, first_seen,
    last_seen, count, outcomes) of the active (open or acknowledged) alert with that key."""
    return {row[0]: tuple(row[1:]) for row in db.conn.execute(ACTIVE_ALERTS, (json.dumps(list(dedupe_keys)),))}


def open_alerts(db: sqlite_utils.Database, rows: Sequence[Sequence[Any]]) -> dict[str, int]:
    """Writer fn: new open alerts, in one statement; dedupe key -> id. Each row: dedupe key,
    finding id and name, severity, tool, domain, vendor, user, device ids, users, entity
    types, data classes (JSON lists), count, first and last seen, facts, updated at, outcomes."""
    return {str(key): int(alert_id) for key, alert_id in query_rows(db.conn, OPEN_ALERTS,
                                                                    [(*row, "open") for row in rows])}


def bump_alerts(db: sqlite_utils.Database, rows: Sequence[Sequence[Any]]) -> None:
    """Writer fn: add evidence to alerts, one BUMP_ALERT row each, in one statement."""
    execute_rows(db.conn, BUMP_ALERT, rows)


def link_events(db: sqlite_utils.Database, links: Sequence[tuple[int, str]]) -> None:
    """Writer fn: (alert id, event id) evidence links, in one statement."""
    execute_rows(db.conn, LINK_EVENT, links)


def alerts_of_scans(db: sqlite_utils.Database, scan_ids: Sequence[str]) -> dict[str, list[tuple[Any, ...]]]:
    """paste.scanned event id -> (alert id, finding id, outcomes, count, the scan's device, user
    and stored body) of each alert it is evidence of."""
    found: dict[str, list[tuple[Any, ...]]] = {}
    for row in db.conn.execute(SCAN_ALERTS, (json.dumps(list(scan_ids)),)):
        found.setdefault(row[0], []).append(tuple(row[1:]))
    return found


def set_outcomes(db: sqlite_utils.Database, rows: Sequence[Sequence[Any]]) -> None:
    """Writer fn: (outcomes JSON, severity, now, alert id) rows, in one statement."""
    execute_rows(db.conn, SET_OUTCOMES, rows)


def suppressed_keys(db: sqlite_utils.Database, dedupe_keys: Iterable[str]) -> set[str]:
    """The dedupe keys among these that a suppression rule silences."""
    return {str(row[0]) for row in db.conn.execute(
        "SELECT dedupe_key FROM alert_suppressions WHERE dedupe_key IN (SELECT value FROM json_each(?))",
        (json.dumps(list(dedupe_keys)),))}


def add_suppression(db: sqlite_utils.Database, values: Sequence[Any]) -> None:
    """Writer fn: (dedupe key, finding id, tool, user, alert id, reason, by, at); a rule for the
    same key is replaced."""
    db.execute(
        "INSERT INTO alert_suppressions (dedupe_key, finding_id, tool, user, alert_id, reason, created_by, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (dedupe_key) DO UPDATE SET alert_id = excluded.alert_id, "
        "reason = excluded.reason, created_by = excluded.created_by, created_at = excluded.created_at",
        tuple(values))


def suppressions(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    return list(db.query("SELECT * FROM alert_suppressions ORDER BY created_at DESC, id DESC"))


def suppression_of(db: sqlite_utils.Database, dedupe_key: str) -> dict[str, Any] | None:
    rows = list(db.query("SELECT * FROM alert_suppressions WHERE dedupe_key = ?", (dedupe_key,)))
    return rows[0] if rows else None


def remove_suppression(db: sqlite_utils.Database, suppression_id: int) -> bool:
    """Writer fn; False when there was no such rule."""
    return db.conn.execute("DELETE FROM alert_suppressions WHERE id = ?", (suppression_id,)).rowcount > 0


def alert_status(db: sqlite_utils.Database, alert_id: int) -> str | None:
    rows = list(db.query("SELECT status FROM alerts WHERE id = ?", (alert_id,)))
    return str(rows[0]["status"]) if rows else None


def set_status(db: sqlite_utils.Database, alert_id: int, status: str, now: str) -> bool:
    """Writer fn; False (nothing changed) when another active alert has the same dedupe key.
    The clash is looked for, not caught: on PostgreSQL a failed statement would abort the
    whole transaction (alerts_active_dedupe still guards against a race)."""
    cursor = db.execute(
        "UPDATE alerts SET status = ?, updated_at = ? WHERE id = ? AND (? NOT IN ('open', 'acknowledged') "
        "OR NOT EXISTS (SELECT 1 FROM alerts AS other WHERE other.dedupe_key = alerts.dedupe_key "
        "AND other.id != alerts.id AND other.status IN ('open', 'acknowledged')))",
        (status, now, alert_id, status))
    return bool(cursor.rowcount) or alert_status(db, alert_id) is None


def set_assignee(db: sqlite_utils.Database, alert_id: int, assignee: str | None, now: str) -> None:
    db.execute("UPDATE alerts SET assignee = ?, updated_at = ? WHERE id = ?", (assignee, now, alert_id))


def log_decision(db: sqlite_utils.Database, alert_id: int, at: str, actor: str, action: str, note: str) -> None:
    """Writer fn: one line of the alert's triage log."""
    db.execute("INSERT INTO alert_log (alert_id, at, actor, action, note) VALUES (?, ?, ?, ?, ?)",
               (alert_id, at, actor, action, note))


def decisions(db: sqlite_utils.Database, alert_id: int) -> list[dict[str, Any]]:
    """The alert's triage log, oldest first."""
    return list(db.query("SELECT at, actor, action, note FROM alert_log WHERE alert_id = ? ORDER BY id", (alert_id,)))


def false_positive_counts(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    """Per entity type: alerts it took part in, how many were triaged (resolved or false
    positive), how many were false positives."""
    return list(db.query(
        "SELECT e.value AS entity_type, count(*) AS alerts, "
        "sum(CASE WHEN a.status IN ('resolved', 'false_positive') THEN 1 ELSE 0 END) AS triaged, "
        "sum(CASE WHEN a.status = 'false_positive' THEN 1 ELSE 0 END) AS false_positives "
        "FROM alerts a, json_each(a.entity_types) e GROUP BY e.value ORDER BY false_positives DESC, e.value"))


def active_vendor_alerts(db: sqlite_utils.Database, vendors: Iterable[str]) -> list[dict[str, Any]]:
    """id, vendor and finding of the active alerts of these vendors (any case)."""
    return list(db.query(
        "SELECT id, vendor, finding_id FROM alerts WHERE status IN ('open', 'acknowledged') AND vendor IS NOT NULL "
        "AND lower(vendor) IN (SELECT lower(value) FROM json_each(?))", (json.dumps(sorted(vendors)),)))


def vendors_with_alerts(db: sqlite_utils.Database) -> set[str]:
    return {str(row["vendor"]) for row in db.query("SELECT DISTINCT vendor FROM alerts WHERE vendor IS NOT NULL")}
