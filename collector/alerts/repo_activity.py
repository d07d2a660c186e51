"""Where the agents saw AI coding agents at work: `ai_agent.repo_activity` events kept as one
row per device x tool x repository x branch (first/last seen), and the lookup the SCM merge
check uses to tell that a merged branch was worked on by an AI agent even when no commit
marker gives it away."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlite_utils

from shadowmap.collector.store.sqlite.sql_rows import execute_rows, insert_sql
from shadowmap.contract.repo_names import normalise_repo

EVENT_TYPE = "ai_agent.repo_activity"
WINDOW_DAYS = 30  # activity this long before a merge still counts for it
MAX_EVIDENCE = 50  # device x tool rows named in one alert

UPSERT = insert_sql(
    "INSERT INTO agent_repo_activity (device_id, tool_id, repo, branch, user, process_user, first_seen, last_seen)", 8,
    "ON CONFLICT (device_id, tool_id, repo, branch) DO UPDATE SET user = excluded.user, "
    "process_user = excluded.process_user, first_seen = min(first_seen, excluded.first_seen), "
    "last_seen = max(last_seen, excluded.last_seen)")


def record(db: sqlite_utils.Database, stored: list[tuple[dict, str, str]]) -> int:
    """Writer fn, part of the ingest transaction: upsert the repo activity among ingest's
    newly stored (event, normalised ts, body) items. One statement; nothing when none."""
    maybe_rows = [_row(event) for event, _, _ in stored if event["type"] == EVENT_TYPE]
    rows = [row for row in maybe_rows if row is not None]
    execute_rows(db.conn, UPSERT, rows)
    return len(rows)


def _row(event: dict) -> tuple | None:
    data = event["data"]
    repo = normalise_repo(data["repo"])  # the agent normalises too; the collector does not trust it to
    if repo is None or not data.get("tool_id"):
        return None
    first, last = data["first_seen"], data["last_seen"]  # the contract demands YYYY-MM-DDTHH:MM:SSZ
    return (event["device_id"], data["tool_id"], repo, data.get("branch") or "", event["user"],
            data.get("process_user") or "", min(first, last), max(first, last))


def seen_before_merge(db: sqlite_utils.Database, repo: str, branch: str, merged_at: str) -> list[dict]:
    """AI agents seen on this repository and branch in the WINDOW_DAYS before ``merged_at``
    (an ISO UTC timestamp), with the device's hostname; most recent first."""
    if not repo or not branch:
        return []
    merged = datetime.fromisoformat(merged_at.replace("Z", "+00:00")).astimezone(UTC)
    since = (merged - timedelta(days=WINDOW_DAYS)).strftime("%Y-%m-%dT%H:%M:%SZ")
    until = merged.strftime("%Y-%m-%dT%H:%M:%SZ")
    return list(db.query(
        "SELECT a.device_id, d.hostname, a.tool_id, a.user, a.process_user, a.first_seen, a.last_seen "
        "FROM agent_repo_activity a LEFT JOIN devices d ON d.device_id = a.device_id "
        "WHERE a.repo = ? AND a.branch = ? AND a.last_seen >= ? AND a.first_seen <= ? "
        "ORDER BY a.last_seen DESC, a.device_id, a.tool_id LIMIT ?",
        (repo, branch, since, until, MAX_EVIDENCE)))
