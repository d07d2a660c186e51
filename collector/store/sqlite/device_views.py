"""Devices as the console's devices pages show them: each enrolled device with what the device
watch knows (retirement, the extension per profile, AI browsers), the body of its last
heartbeat, and the alerts naming it. Portable SQL (SQLite and PostgreSQL).

The last heartbeat is found without an index on events by device: the device watch keeps
the time of each device's last heartbeat (device_watch.extensions_at, written by ingest),
and (type, ts) is indexed, so it is one lookup per device."""
from __future__ import annotations

import json
from typing import Any

import sqlite_utils

from shadowmap.contract import enums

MAX_DEVICES = 10_000  # read for one devices page at most (filtered and paged in Python)
ACTIVE = enums.ACTIVE_ALERT_STATUSES

DEVICE_COLUMNS = (
    "d.device_id, d.hostname, d.mode, d.os_user, d.os, d.enrolled_at, d.last_seen, d.revoked, "
    "w.retired_at, w.retired_reason, COALESCE(w.extensions, '[]') AS extensions, w.extensions_at, "
    "COALESCE(w.ai_browsers, '{}') AS ai_browsers")


def _in_list(values: list[str] | tuple[str, ...]) -> str:
    return json.dumps(list(values))


def devices(db: sqlite_utils.Database, limit: int = MAX_DEVICES) -> list[dict[str, Any]]:
    """Every enrolled device (revoked ones too), most recently seen first, with its watch state."""
    return list(db.query(
        f"SELECT {DEVICE_COLUMNS} FROM devices d LEFT JOIN device_watch w ON w.device_id = d.device_id "
        "ORDER BY COALESCE(d.last_seen, d.enrolled_at) DESC, d.hostname, d.device_id LIMIT ?", (limit,)))


def enrolled_count(db: sqlite_utils.Database) -> int:
    """How many devices are enrolled and not revoked."""
    return int(db.execute("SELECT count(*) FROM devices WHERE revoked = 0").fetchone()[0])


def device(db: sqlite_utils.Database, device_id: str) -> dict[str, Any] | None:
    rows = list(db.query(
        f"SELECT {DEVICE_COLUMNS} FROM devices d LEFT JOIN device_watch w ON w.device_id = d.device_id "
        "WHERE d.device_id = ?", (device_id,)))
    return rows[0] if rows else None


def last_heartbeats(db: sqlite_utils.Database, device_ids: list[str] | None = None) -> dict[str, dict[str, Any]]:
    """device_id -> the data of its last heartbeat (of these devices; None: of every device)."""
    where, params = ("", ()) if device_ids is None else (
        " AND w.device_id IN (SELECT value FROM json_each(?))", (_in_list(device_ids),))
    found: dict[str, dict[str, Any]] = {}
    for device_id, body in db.execute(
            "SELECT e.device_id, e.body FROM device_watch w JOIN events e ON e.type = 'agent.heartbeat' "
            f"AND e.ts = w.extensions_at AND e.device_id = w.device_id WHERE w.extensions_at IS NOT NULL{where}",
            params):
        try:
            data = json.loads(body).get("data")
        except (ValueError, AttributeError):
            continue
        if isinstance(data, dict):
            found[str(device_id)] = data
    return found


def active_alert_counts(db: sqlite_utils.Database) -> dict[str, int]:
    """device_id -> how many active (open or acknowledged) alerts name it."""
    return {str(row[0]): int(row[1]) for row in db.execute(
        "SELECT j.value, count(*) FROM alerts, json_each(alerts.device_ids) j "
        "WHERE alerts.status IN (SELECT value FROM json_each(?)) GROUP BY j.value", (_in_list(ACTIVE),))}


def protection_alerts(db: sqlite_utils.Database, dedupe_keys: list[str]) -> dict[str, dict[str, Any]]:
    """dedupe_key -> the active "Protection disabled" alert with that key (id, status, facts)."""
    found = {}
    for row in db.query(
            "SELECT id, dedupe_key, status, facts FROM alerts WHERE finding_id = 'protection_disabled' "
            "AND status IN (SELECT value FROM json_each(?)) AND dedupe_key IN (SELECT value FROM json_each(?))",
            (_in_list(ACTIVE), _in_list(dedupe_keys))):
        row["facts"] = json.loads(row["facts"] or "{}")
        found[str(row["dedupe_key"])] = row
    return found


def alerts_naming_device(db: sqlite_utils.Database, device_id: str, limit: int = 50) -> tuple[list[dict[str, Any]], int]:
    """The alerts naming a device, active ones first then the most recently seen, and how many there are."""
    match = "EXISTS (SELECT 1 FROM json_each(alerts.device_ids) j WHERE j.value = ?)"
    total = int(db.execute(f"SELECT count(*) FROM alerts WHERE {match}", (device_id,)).fetchone()[0])
    rows = list(db.query(
        "SELECT id, finding_id, finding, severity, status, tool_id, domain, user, count, first_seen, last_seen "
        f"FROM alerts WHERE {match} ORDER BY CASE WHEN status IN (SELECT value FROM json_each(?)) THEN 0 ELSE 1 END, "
        "last_seen DESC, id DESC LIMIT ?", (device_id, _in_list(ACTIVE), limit)))
    return rows, total
