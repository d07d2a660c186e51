"""The weekly report's reads: the week's usage summed from the rollup (two aggregates, each
one pass over the week's rows; people, teams and vendors counted in Python), teams, the register, the retention policy, open findings. Tables that
do not exist yet read as empty (the report runs on a database a collector may never have
migrated past the rollup)."""
from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

import sqlite_utils

from shadowmap.collector.store.backend import is_postgres
from shadowmap.contract import enums


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


def _first_days(db: sqlite_utils.Database, tools: list[str]) -> dict[str, str]:
    """tool -> first day it was ever used (kept at ingest in usage_first_seen)."""
    return dict(db.execute("SELECT tool_id, first_day FROM usage_first_seen WHERE tool_id IN"
                           " (SELECT value FROM json_each(?))", (json.dumps(tools),)).fetchall())


# Two aggregates straight off the rollup, each one pass over the week's rows: no temp table
# (no write, nothing to drop) and no five-column regrouping of the whole week first.
WEEK_USERS = ("SELECT tool_id, device_id, user, sum(events) FROM usage_daily"
              " WHERE day >= ? AND day < ? AND data_class = '' GROUP BY tool_id, device_id, user")
WEEK_CLASSES = ("SELECT tool_id, data_class, blocked, sum(events) FROM usage_daily"
                " WHERE day >= ? AND day < ? AND data_class != '' GROUP BY tool_id, data_class, blocked")
# SQLite groups by sorting every row (most of the week's rows are class rows); grouped by
# (day, tool), the primary key's own order, it streams them instead, one sum per class of the
# contract and outcome (NULL where no row had it, as the sorting query would have no group).
# The last column counts rows of a class outside the contract: then the sorting query runs.
_CLASS_SUMS = ", ".join("sum(CASE WHEN data_class = ? AND blocked = 0 THEN events END),"
                        " sum(CASE WHEN data_class = ? AND blocked != 0 THEN events END)" for _ in enums.DATA_CLASSES)
WEEK_CLASSES_STREAMED = (f"SELECT tool_id, {_CLASS_SUMS}, sum(data_class NOT IN"
                         f" ({', '.join('?' for _ in enums.DATA_CLASSES)})) FROM usage_daily"
                         " WHERE day >= ? AND day < ? AND data_class != '' GROUP BY day, tool_id")
STREAMED_PARAMS = (*(c for data_class in enums.DATA_CLASSES for c in (data_class, data_class)), *enums.DATA_CLASSES)


def _week_classes(db: sqlite_utils.Database, span: tuple[str, str]) -> list[tuple[str, str, int, int]]:
    """(tool, data class, blocked, events) summed over the week's class rows."""
    if is_postgres(db):  # hash aggregation there: the plain query is the cheaper one
        return [tuple(row) for row in db.execute(WEEK_CLASSES, span)]
    sums: dict[tuple[str, str, int], int] = {}
    for tool, *figures, unknown in db.execute(WEEK_CLASSES_STREAMED, (*STREAMED_PARAMS, *span)):
        if unknown:
            return [tuple(row) for row in db.execute(WEEK_CLASSES, span)]
        for index, data_class in enumerate(enums.DATA_CLASSES):
            for blocked in (0, 1):
                n = figures[2 * index + blocked]
                if n is not None:
                    sums[(tool, data_class, blocked)] = sums.get((tool, data_class, blocked), 0) + n
    return [(*key, n) for key, n in sums.items()]


def week_usage(db: sqlite_utils.Database, start: str, end: str, vendor_of: Callable[[str], str],
               by_user: dict[str, str], by_device: dict[str, str], unassigned: str) -> tuple[Any, ...]:
    """The week [start, end) summed from the usage rollup: (tool -> first day ever used,
    per vendor: tools, users, devices, teams, events, classes sent/kept back; (team, tool)
    -> users; (tool, class) -> events sent; (users, devices) overall). A person's team is
    their own mapping, else their laptop's, else ``unassigned``."""
    span = (start, end)
    vendor_cache: dict[str, str] = {}
    people: dict[str, tuple[set[str], set[str], set[str], set[str]]] = {}  # vendor -> tools, users, devices, teams
    events: dict[str, int] = defaultdict(int)
    team_tool_users: dict[tuple[str, str], set[str]] = defaultdict(set)
    all_users: set[str] = set()
    all_devices: set[str] = set()
    for tool, device, user, n in db.execute(WEEK_USERS, span):
        vendor = vendor_cache.get(tool) or vendor_cache.setdefault(tool, vendor_of(tool))
        team = by_user.get(user) or by_device.get(device) or unassigned
        tools, users, devices, teams = people.get(vendor) or people.setdefault(vendor, (set(), set(), set(), set()))
        tools.add(tool)
        users.add(user)
        devices.add(device)
        teams.add(team)
        events[vendor] += n
        team_tool_users[(team, tool)].add(user)
        all_users.add(user)
        all_devices.add(device)
    vendors: dict[str, dict[str, Any]] = {
        vendor: {"tools": tools, "users": len(users), "devices": len(devices), "teams": teams,
                 "events": events[vendor], "sent": defaultdict(int), "blocked": defaultdict(int)}
        for vendor, (tools, users, devices, teams) in people.items()}
    flow_tool_class: dict[tuple[str, str], int] = defaultdict(int)
    for tool, data_class, blocked, n in _week_classes(db, span):
        vendor = vendor_cache.get(tool) or vendor_cache.setdefault(tool, vendor_of(tool))
        if vendor not in vendors:  # every event counts in the tool's '' row: a class row has one beside it
            continue
        vendors[vendor]["blocked" if blocked else "sent"][data_class] += n
        if not blocked:
            flow_tool_class[(tool, data_class)] += n
    flow_team_tool = {key: len(users) for key, users in team_tool_users.items()}
    first_day = _first_days(db, sorted(vendor_cache))
    return first_day, vendors, flow_team_tool, flow_tool_class, (len(all_users), len(all_devices))
