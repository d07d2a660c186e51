"""Device watch (table device_watch, migration 130): devices that stopped reporting, retired on
purpose, or lost the extension. Portable SQL (SQLite and PostgreSQL)."""
from __future__ import annotations

import json
from typing import Any

import sqlite_utils

UPSERT_RETIRED = ("INSERT INTO device_watch (device_id, retired_at, retired_reason) VALUES (?, ?, ?) "
                  "ON CONFLICT (device_id) DO UPDATE SET retired_at = excluded.retired_at, "
                  "retired_reason = excluded.retired_reason")
UPSERT_EXTENSIONS = ("INSERT INTO device_watch (device_id, extensions, extensions_at) VALUES (?, ?, ?) "
                     "ON CONFLICT (device_id) DO UPDATE SET extensions = excluded.extensions, "
                     "extensions_at = excluded.extensions_at")


def set_retired(db: sqlite_utils.Database, device_id: str, at: str, reason: str) -> None:
    """Writer fn: the device stops reporting on purpose."""
    db.execute(UPSERT_RETIRED, (device_id, at, reason))


def clear_retired(db: sqlite_utils.Database, device_ids: list[str], before: str) -> None:
    """Writer fn: these devices report again; a retirement older than ``before`` ends."""
    for device_id in device_ids:
        db.execute("UPDATE device_watch SET retired_at = NULL, retired_reason = NULL "
                   "WHERE device_id = ? AND retired_at < ?", (device_id, before))


def set_extensions(db: sqlite_utils.Database, device_id: str, states: list[dict[str, Any]], at: str) -> None:
    """Writer fn: the extension's state per force-installed profile, from a heartbeat."""
    db.execute(UPSERT_EXTENSIONS, (device_id, json.dumps(states, sort_keys=True), at))


def set_ai_browser(db: sqlite_utils.Database, device_id: str, key: str, state: dict[str, Any]) -> None:
    """Writer fn: the latest state of one AI browser of one user on the device (migration 131)."""
    rows = list(db.query("SELECT ai_browsers FROM device_watch WHERE device_id = ?", (device_id,)))
    browsers = json.loads(rows[0]["ai_browsers"]) if rows else {}
    browsers[key] = state
    db.execute("INSERT INTO device_watch (device_id, ai_browsers) VALUES (?, ?) ON CONFLICT (device_id) "
               "DO UPDATE SET ai_browsers = excluded.ai_browsers", (device_id, json.dumps(browsers, sort_keys=True)))


def watched_devices(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    """Every enrolled, unrevoked device with what the watch knows: hostname, last_seen,
    retired_at, extensions (JSON text)."""
    return list(db.query(
        "SELECT d.device_id, d.hostname, d.last_seen, d.enrolled_at, w.retired_at, w.retired_reason, "
        "COALESCE(w.extensions, '[]') AS extensions, COALESCE(w.ai_browsers, '{}') AS ai_browsers FROM devices d "
        "LEFT JOIN device_watch w ON w.device_id = d.device_id WHERE d.revoked = 0"))


def active_protection_alerts(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    """id and dedupe key of the active "Protection disabled" alerts."""
    return list(db.query("SELECT id, dedupe_key FROM alerts WHERE finding_id = 'protection_disabled' "
                         "AND status IN ('open', 'acknowledged')"))
