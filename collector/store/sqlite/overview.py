"""The overview page's reads: alerts by day and severity, active alerts by who and what,
time to resolve, tools first seen recently, vendors in use, and the first-run checklist's
facts. Plain SQL both backends read (no SQLite date functions)."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlite_utils


def _marks(values: Sequence[object]) -> str:
    return ", ".join("?" for _ in values)


def alerts_per_day(db: sqlite_utils.Database, since: str) -> list[tuple[str, str, int]]:
    """(day, severity, alerts first seen that day) since ``since``."""
    return [(row[0], row[1], int(row[2])) for row in db.execute(
        "SELECT substr(first_seen, 1, 10), severity, count(*) FROM alerts WHERE first_seen >= ? GROUP BY 1, 2",
        (since,))]


def active_alerts_by_subject(db: sqlite_utils.Database, active: Sequence[str]) -> list[dict[str, Any]]:
    """Active alerts grouped by user, tool and severity: user, tool_id, vendor, severity, n."""
    return list(db.query(
        "SELECT user, coalesce(tool_id, '') AS tool_id, coalesce(vendor, '') AS vendor, severity, count(*) AS n"
        f" FROM alerts WHERE status IN ({_marks(active)}) GROUP BY 1, 2, 3, 4", tuple(active)))


def resolutions(db: sqlite_utils.Database, closing_actions: Sequence[str], since: str) -> list[tuple[str, str, str]]:
    """(severity, alert first seen, closed at) of alerts closed since ``since``."""
    return [(row[0], row[1], row[2]) for row in db.execute(
        "SELECT a.severity, a.first_seen, l.at FROM alert_log l JOIN alerts a ON a.id = l.alert_id"
        f" WHERE l.action IN ({_marks(closing_actions)}) AND l.at >= ?", (*closing_actions, since))]


def tools_first_seen_since(db: sqlite_utils.Database, day: str) -> list[tuple[str, str]]:
    """(tool_id, first day) of tools first used on or after ``day``."""
    return [(row[0], row[1]) for row in db.execute(
        "SELECT tool_id, first_day FROM usage_first_seen WHERE first_day >= ? ORDER BY first_day DESC, tool_id",
        (day,))]


def tools_used_since(db: sqlite_utils.Database, day: str) -> list[tuple[str, int, int]]:
    """(tool_id, distinct users, events) of tools used on or after ``day``."""
    return [(row[0], int(row[1]), int(row[2] or 0)) for row in db.execute(
        "SELECT tool_id, count(DISTINCT user), sum(events) FROM usage_daily WHERE day >= ? AND data_class = ''"
        " GROUP BY tool_id", (day,))]


def _any(db: sqlite_utils.Database, sql: str, params: Sequence[object] = ()) -> bool:
    return db.execute(sql, tuple(params)).fetchone() is not None


def first_run_facts(db: sqlite_utils.Database, settings: Sequence[str], extension_types: Sequence[str]
                    ) -> dict[str, bool]:
    """What the first-run checklist ticks: a device enrolled, an event from the browser
    extension, teams imported, a register row, the retention settings set, a GitHub delivery."""
    return {
        "device": _any(db, "SELECT 1 FROM devices WHERE revoked = 0 LIMIT 1"),
        "extension": _any(db, f"SELECT 1 FROM events WHERE type IN ({_marks(extension_types)}) LIMIT 1",
                          extension_types),
        "teams": _any(db, "SELECT 1 FROM team_members LIMIT 1"),
        "register": _any(db, "SELECT 1 FROM register LIMIT 1"),
        "retention": _any(db, f"SELECT 1 FROM org_settings WHERE name IN ({_marks(settings)}) LIMIT 1", settings),
        "github": (_any(db, "SELECT 1 FROM scm_changes WHERE provider = 'github' LIMIT 1")
                   or _any(db, "SELECT 1 FROM scm_commits WHERE provider = 'github' LIMIT 1")
                   or _any(db, "SELECT 1 FROM scm_reviews WHERE provider = 'github' LIMIT 1")),
    }
