"""The outbound queue: messages for sinks (webhooks, Slack, OCSF), their delivery attempts
and dead letters, and the alert states already announced."""
from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import sqlite_utils

from shadowmap.collector.store.sqlite.sql_rows import execute_rows, insert_sql

# (sink, topic, payload as JSON, created_at, next_attempt_at)
MessageRow = tuple[str, str, str, str, str]
ANNOUNCE = insert_sql("INSERT INTO outbound_alert_state (alert_id, status, count)", 3,
                      "ON CONFLICT(alert_id) DO UPDATE SET status = excluded.status, count = excluded.count")


def enqueue(db: sqlite_utils.Database, rows: Sequence[MessageRow]) -> None:
    """Writer fn: queue messages."""
    db.conn.executemany("INSERT INTO outbound_queue (sink, topic, payload, created_at, next_attempt_at)"
                        " VALUES (?, ?, ?, ?, ?)", rows)


def changed_alerts(db: sqlite_utils.Database, limit: int = 500) -> list[dict[str, Any]]:
    """Alerts new, bumped or with another status since they were last announced, with
    ``known`` (None for never announced); oldest first."""
    return [dict(row) for row in db.query(
        "SELECT a.*, s.alert_id AS known FROM alerts a LEFT JOIN outbound_alert_state s ON s.alert_id = a.id"
        " WHERE s.alert_id IS NULL OR s.status != a.status OR s.count != a.count ORDER BY a.id LIMIT ?", (limit,))]


def mark_announced(db: sqlite_utils.Database, states: Sequence[tuple[int, str, int]]) -> None:
    """Writer fn: the alert states (id, status, count) the sinks now know, in one statement."""
    execute_rows(db.conn, ANNOUNCE, states)


def due(db: sqlite_utils.Database, now: str, limit: int = 100) -> list[dict[str, Any]]:
    """Pending messages whose next attempt is due, oldest first."""
    return [dict(row) for row in db.query(
        "SELECT id, sink, topic, payload, attempts FROM outbound_queue WHERE status = 'pending'"
        " AND next_attempt_at <= ? ORDER BY id LIMIT ?", (now, limit))]


def mark_delivered(db: sqlite_utils.Database, message_id: int, now: str) -> None:
    db.execute("UPDATE outbound_queue SET status = 'delivered', delivered_at = ?, attempts = attempts + 1"
               " WHERE id = ?", (now, message_id))


def attempts(db: sqlite_utils.Database, message_id: int) -> int:
    """Delivery attempts made so far (0 for an unknown message)."""
    row = db.execute("SELECT attempts FROM outbound_queue WHERE id = ?", (message_id,)).fetchone()
    return int(row[0]) if row else 0


def mark_attempt_failed(db: sqlite_utils.Database, message_id: int, attempts: int, status: str, error: str,
                        next_attempt_at: str) -> None:
    db.execute("UPDATE outbound_queue SET attempts = ?, status = ?, last_error = ?, next_attempt_at = ? WHERE id = ?",
               (attempts, status, error, next_attempt_at, message_id))


def dead_letters(db: sqlite_utils.Database, limit: int = 500) -> list[dict[str, Any]]:
    return [dict(row) for row in db.query(
        "SELECT id, sink, topic, created_at, attempts, last_error, payload FROM outbound_queue"
        " WHERE status = 'dead' ORDER BY id DESC LIMIT ?", (limit,))]


def retry_dead(db: sqlite_utils.Database, now: str, message_ids: Sequence[int] | None = None) -> int:
    """Writer fn: put dead letters (all, or the given ids) back in the queue; returns how many."""
    sql = "UPDATE outbound_queue SET status = 'pending', attempts = 0, next_attempt_at = ? WHERE status = 'dead'"
    params: tuple[Any, ...] = (now,)
    if message_ids is not None:
        sql += " AND id IN (SELECT CAST(value AS BIGINT) FROM json_each(?))"  # (PostgreSQL compares no text with numbers)
        params += (json.dumps(list(message_ids)),)
    return int(db.execute(sql, params).rowcount)
