"""Agent coverage: which enrolled devices sent a heartbeat in a span of time, when they
were last heard from and which agent version they run. Read by the weekly report (the
coverage warning) and the overview page."""
from __future__ import annotations

import json
from typing import Any

import sqlite_utils

HEARTBEAT = "agent.heartbeat"


def enrolled_devices(db: sqlite_utils.Database, before: str) -> list[dict[str, Any]]:
    """Unrevoked devices enrolled before ``before``: device_id, hostname, os, enrolled_at, last_seen."""
    return list(db.query("SELECT device_id, hostname, os, enrolled_at, last_seen FROM devices"
                         " WHERE revoked = 0 AND enrolled_at < ? ORDER BY hostname", (before,)))


def heartbeats(db: sqlite_utils.Database, start: str, end: str) -> dict[str, dict[str, Any]]:
    """device_id -> {count, last, agent_version (of its last heartbeat)} for [start, end)."""
    out: dict[str, dict[str, Any]] = {}
    # ordered by time: the last row of a device wins, so its version is the newest one
    for device_id, ts, body in db.execute(
            "SELECT device_id, ts, body FROM events WHERE type = ? AND ts >= ? AND ts < ? ORDER BY ts",
            (HEARTBEAT, start, end)):
        seen = out.setdefault(device_id, {"count": 0, "last": ts, "agent_version": None})
        seen["count"] += 1
        seen["last"] = ts
        try:
            version = json.loads(body).get("data", {}).get("agent_version")
        except (ValueError, AttributeError):
            version = None
        seen["agent_version"] = version if isinstance(version, str) else seen["agent_version"]
    return out
