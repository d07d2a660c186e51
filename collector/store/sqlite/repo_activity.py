"""AI coding agents seen at work in repositories: one row per device x tool x repository x
branch (first/last seen), and what the SCM merge check looks up."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlite_utils

from shadowmap.collector.store.sqlite.sql_rows import execute_rows, insert_sql

# (device_id, tool_id, repo, branch, user, process_user, first_seen, last_seen)
ActivityRow = tuple[str, str, str, str, str, str, str, str]

UPSERT = insert_sql(
    "INSERT INTO agent_repo_activity (device_id, tool_id, repo, branch, user, process_user, first_seen, last_seen)", 8,
    "ON CONFLICT (device_id, tool_id, repo, branch) DO UPDATE SET user = excluded.user, "
    "process_user = excluded.process_user, first_seen = min(agent_repo_activity.first_seen, excluded.first_seen), "
    "last_seen = max(agent_repo_activity.last_seen, excluded.last_seen)")


def save_activity(db: sqlite_utils.Database, rows: Sequence[ActivityRow]) -> int:
    """Writer fn (ingest transaction): upsert activity rows in one statement."""
    return execute_rows(db.conn, UPSERT, rows)


def activity_between(db: sqlite_utils.Database, repo: str, branch: str, since: str, until: str,
                     limit: int) -> list[dict[str, Any]]:
    """Activity on this repository and branch overlapping [since, until], with the device's
    hostname; most recent first."""
    return list(db.query(
        "SELECT a.device_id, d.hostname, a.tool_id, a.user, a.process_user, a.first_seen, a.last_seen "
        "FROM agent_repo_activity a LEFT JOIN devices d ON d.device_id = a.device_id "
        "WHERE a.repo = ? AND a.branch = ? AND a.last_seen >= ? AND a.first_seen <= ? "
        "ORDER BY a.last_seen DESC, a.device_id, a.tool_id LIMIT ?",
        (repo, branch, since, until, limit)))
