"""Where the agents saw AI coding agents at work: `ai_agent.repo_activity` events kept as one
row per device x tool x repository x branch (first/last seen), and the lookup the SCM merge
check uses to tell that a merged branch was worked on by an AI agent even when no commit
marker gives it away."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlite_utils

from shadowmap.collector.store.sqlite import repo_activity as activity
from shadowmap.contract.repo_names import normalise_repo

EVENT_TYPE = "ai_agent.repo_activity"
WINDOW_DAYS = 30  # activity this long before a merge still counts for it
MAX_EVIDENCE = 50  # device x tool rows named in one alert

def record(db: sqlite_utils.Database, stored: list[tuple[dict, str, str]]) -> int:
    """Writer fn, part of the ingest transaction: upsert the repo activity among ingest's
    newly stored (event, normalised ts, body) items. One statement; nothing when none."""
    maybe_rows = [_row(event) for event, _, _ in stored if event["type"] == EVENT_TYPE]
    rows = [row for row in maybe_rows if row is not None]
    activity.save_activity(db, rows)
    return len(rows)


def _row(event: dict) -> activity.ActivityRow | None:
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
    return activity.activity_between(db, repo, branch, since, until, MAX_EVIDENCE)
