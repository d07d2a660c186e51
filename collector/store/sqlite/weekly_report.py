"""The weekly report's reads: the week's usage summed from the rollup (on temp tables: one
scan of the week), teams, the register, the retention policy, open findings. Tables that
do not exist yet read as empty (the report runs on a database a collector may never have
migrated past the rollup)."""
from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

import sqlite_utils

from shadowmap.collector.store.backend import is_postgres


def table_exists(db: sqlite_utils.Database, name: str) -> bool:
    if is_postgres(db):
        return bool(db.execute("SELECT to_regclass(?) IS NOT NULL", (name,)).fetchone()[0])
    return db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).fetchone() is not None


def table_columns(db: sqlite_utils.Database, name: str) -> list[str]:
    """The table's column names, in order."""
    if is_postgres(db):
        return [str(row[0]) for row in db.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema()"
            " AND table_name = ? ORDER BY ordinal_position", (name,))]
    return [str(row[1]) for row in db.execute(f"PRAGMA table_info({name})")]


def teams(db: sqlite_utils.Database) -> tuple[dict[str, str], dict[str, str]]:
    """user -> team and device (id, or hostname when mapped by it) -> team."""
    by_user: dict[str, str] = {}
    by_device: dict[str, str] = {}
    if not table_exists(db, "team_members"):
        return by_user, by_device
    hostnames = {row[0]: row[1] for row in db.execute("SELECT hostname, device_id FROM devices")}
    for kind, key, team in db.execute("SELECT kind, key, team FROM team_members"):
        if kind == "user":
            by_user[key] = team
        else:
            by_device[hostnames.get(key, key)] = team
    return by_user, by_device


def register(db: sqlite_utils.Database) -> dict[str, dict[str, Any]]:
    """casefolded vendor -> its register row (every column)."""
    if not table_exists(db, "register"):
        return {}
    columns = table_columns(db, "register")
    return {row[0].casefold(): dict(zip(columns, row, strict=True)) for row in db.execute(f"SELECT {', '.join(columns)} FROM register")}


def policy_days(db: sqlite_utils.Database, setting: str) -> int | None:
    """The company's retention policy (days), None when unset."""
    row = db.execute("SELECT value FROM org_settings WHERE name = ?", (setting,)).fetchone()
    return int(row[0]) if row and str(row[0]).isdigit() else None


def setting(db: sqlite_utils.Database, name: str) -> str | None:
    """An org setting's text, None when unset."""
    row = db.execute("SELECT value FROM org_settings WHERE name = ?", (name,)).fetchone()
    return str(row[0]) if row else None


def open_findings(db: sqlite_utils.Database, active_statuses: Sequence[str]) -> list[tuple[str, str, str, int]]:
    """(tool_id, vendor, severity, active alerts): alerts name a tool, a vendor, or both."""
    columns = set(table_columns(db, "alerts"))
    vendor = "coalesce(vendor, '')" if "vendor" in columns else "''"
    return db.execute(
        f"SELECT coalesce(tool_id, ''), {vendor}, severity, count(*) FROM alerts WHERE status IN (?, ?)"
        " GROUP BY 1, 2, 3", tuple(active_statuses)).fetchall()


OPEN_FINDING_COLUMNS = ("id", "finding_id", "finding", "severity", "tool_id", "vendor", "user", "device_ids",
                        "assignee", "status", "first_seen", "last_seen", "count")


def open_findings_list(db: sqlite_utils.Database, active_statuses: Sequence[str], severities: Sequence[str],
                       limit: int) -> tuple[int, list[dict[str, Any]]]:
    """(how many active alerts there are, the first ``limit`` of them by severity (in the
    order of ``severities``) then age, with every column the report lists)."""
    statuses = tuple(active_statuses)
    marks = ", ".join("?" for _ in statuses)
    rank = "CASE severity " + " ".join("WHEN ? THEN ?" for _ in severities) + f" ELSE {len(severities)} END"
    ranks = tuple(value for i, name in enumerate(severities) for value in (name, i))
    total = db.execute(f"SELECT count(*) FROM alerts WHERE status IN ({marks})", statuses).fetchone()[0]
    rows = db.execute(f"SELECT {', '.join(OPEN_FINDING_COLUMNS)} FROM alerts WHERE status IN ({marks})"
                      f" ORDER BY {rank}, first_seen, id LIMIT ?", (*statuses, *ranks, limit)).fetchall()
    return int(total), [dict(zip(OPEN_FINDING_COLUMNS, row, strict=True)) for row in rows]


def active_by_severity(db: sqlite_utils.Database, active_statuses: Sequence[str]) -> dict[str, tuple[int, int]]:
    """severity -> (active alerts, how many of them have no assignee)."""
    statuses = tuple(active_statuses)
    marks = ", ".join("?" for _ in statuses)
    return {row[0]: (int(row[1]), int(row[2])) for row in db.execute(
        "SELECT severity, count(*), sum(CASE WHEN assignee IS NULL OR assignee = '' THEN 1 ELSE 0 END)"
        f" FROM alerts WHERE status IN ({marks}) GROUP BY severity", statuses)}


def alerts_raised(db: sqlite_utils.Database, start: str, end: str) -> int:
    """Alerts first seen in [start, end)."""
    return int(db.execute("SELECT count(*) FROM alerts WHERE first_seen >= ? AND first_seen < ?",
                          (start, end)).fetchone()[0])


def hostnames(db: sqlite_utils.Database) -> dict[str, str]:
    """device_id -> hostname."""
    return {row[0]: row[1] for row in db.execute("SELECT device_id, hostname FROM devices")}


TEAM_OF = ("coalesce((SELECT value FROM temp.report_user_team WHERE key = u.user),"
           " (SELECT value FROM temp.report_device_team WHERE key = u.device_id), ?)")


def _load_temp(db: sqlite_utils.Database, table: str, mapping: dict[str, str]) -> None:
    db.execute(f"DROP TABLE IF EXISTS temp.{table}")
    db.execute(f"CREATE TEMP TABLE {table} (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    db.conn.executemany(f"INSERT INTO temp.{table} (key, value) VALUES (?, ?)", mapping.items())


def _aggregate(db: sqlite_utils.Database, unassigned: str) -> tuple[Any, ...]:
    """Per vendor: tools, distinct users/devices/teams, events, classes sent/kept back; the
    flow edges; distinct users/devices overall. Reads temp.report_week (one scan of the week)."""
    base = "FROM temp.report_week u JOIN temp.report_tool_vendor tv ON tv.key = u.tool_id"
    vendors: dict[str, dict[str, Any]] = {}
    for vendor, tools, users, devices, teams, events in db.execute(
            f"SELECT tv.value, json_group_array(DISTINCT u.tool_id), count(DISTINCT u.user),"
            f" count(DISTINCT u.device_id), json_group_array(DISTINCT {TEAM_OF}), sum(u.events)"
            f" {base} WHERE u.data_class = '' GROUP BY tv.value", (unassigned,)):
        vendors[vendor] = {"tools": set(json.loads(tools)), "users": users, "devices": devices,
                           "teams": set(json.loads(teams)), "events": events,
                           "sent": defaultdict(int), "blocked": defaultdict(int)}
    flow_tool_class: dict[tuple[str, str], int] = defaultdict(int)
    for vendor, tool, data_class, blocked, events in db.execute(
            f"SELECT tv.value, u.tool_id, u.data_class, u.blocked, sum(u.events) {base} WHERE u.data_class != ''"
            " GROUP BY 1, 2, 3, 4"):
        vendors[vendor]["blocked" if blocked else "sent"][data_class] += events
        if not blocked:
            flow_tool_class[(tool, data_class)] += events
    flow_team_tool = {(team, tool): users for team, tool, users in db.execute(
        f"SELECT {TEAM_OF} AS team, u.tool_id, count(DISTINCT u.user) {base} WHERE u.data_class = '' GROUP BY 1, 2",
        (unassigned,))}
    totals = db.execute("SELECT count(DISTINCT user), count(DISTINCT device_id) FROM temp.report_week"
                        " WHERE data_class = ''").fetchone()
    return vendors, flow_team_tool, flow_tool_class, totals


def _first_days(db: sqlite_utils.Database, tools: list[str]) -> dict[str, str]:
    """tool -> first day it was ever used (kept at ingest in usage_first_seen)."""
    return dict(db.execute("SELECT tool_id, first_day FROM usage_first_seen WHERE tool_id IN"
                           " (SELECT value FROM json_each(?))", (json.dumps(tools),)).fetchall())

def week_usage(db: sqlite_utils.Database, start: str, end: str, vendor_of: Callable[[str], str],
               by_user: dict[str, str], by_device: dict[str, str], unassigned: str) -> tuple[Any, ...]:
    """The week [start, end) summed from the usage rollup: (tool -> first day ever used,
    per vendor: tools, users, devices, teams, events, classes sent/kept back; (team, tool)
    -> users; (tool, class) -> events sent; (users, devices) overall)."""
    span = (start, end)
    # Temp-table writes open an implicit transaction on this connection; close it again,
    # or a pooled reader connection would keep reading this snapshot forever.
    had_transaction = db.conn.in_transaction
    # The heavy lifting in SQL, on temp tables: the week summed over its days (one scan of
    # the rollup), tool -> vendor, person/laptop -> team.
    db.execute("DROP TABLE IF EXISTS temp.report_week")
    db.execute("CREATE TEMP TABLE report_week AS SELECT tool_id, device_id, user, data_class, blocked,"
               " sum(events) AS events FROM usage_daily WHERE day >= ? AND day < ?"
               " GROUP BY tool_id, device_id, user, data_class, blocked", span)
    try:
        tools_in_week = [row[0] for row in db.execute("SELECT DISTINCT tool_id FROM temp.report_week")]
        first_day = _first_days(db, tools_in_week)
        _load_temp(db, "report_tool_vendor", {tool: vendor_of(tool) for tool in tools_in_week})
        _load_temp(db, "report_user_team", by_user)
        _load_temp(db, "report_device_team", by_device)
        vendors, flow_team_tool, flow_tool_class, totals = _aggregate(db, unassigned)
    finally:
        for table in ("report_week", "report_tool_vendor", "report_user_team", "report_device_team"):
            db.execute(f"DROP TABLE IF EXISTS temp.{table}")
        if db.conn.in_transaction and not had_transaction:
            db.conn.commit()
    return first_day, vendors, flow_team_tool, flow_tool_class, totals
