"""What the SCM webhooks store: pushed commits with AI-authorship markers, reviews, merged
changes (with the alert they raised) and their deployments."""
from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import sqlite_utils

from shadowmap.collector.timestamps import utc_now

MAX_TEXT = 256
# (provider, repo, sha, ref, ai agents as a JSON list)
CommitRow = tuple[str, str, str, str, str]


def save_ai_commits(db: sqlite_utils.Database, rows: Sequence[CommitRow]) -> int:
    """Writer fn: remember pushed commits that carry AI markers (by branch)."""
    db.conn.executemany("INSERT INTO scm_commits (provider, repo, sha, ref, ai_agents) VALUES (?, ?, ?, ?, ?) "
                        "ON CONFLICT (provider, repo, sha) DO UPDATE SET ref = excluded.ref, ai_agents = excluded.ai_agents",
                        rows)
    return len(rows)


def save_review(db: sqlite_utils.Database, provider: str, repo: str, number: int, reviewer: str, state: str) -> None:
    """Writer fn: a reviewer's latest state on a change."""
    db.execute("INSERT INTO scm_reviews (provider, repo, number, reviewer, state, at) VALUES (?, ?, ?, ?, ?, ?) "
               "ON CONFLICT (provider, repo, number, reviewer) DO UPDATE SET state = excluded.state, at = excluded.at",
               (provider, repo, number, reviewer[:MAX_TEXT], state, utc_now()))


def ai_agents_of_pushed_commits(db: sqlite_utils.Database, provider: str, repo: str, ref: str, sha: str) -> set[str]:
    """The AI agents marked on commits pushed to this branch, or on this commit."""
    return {agent for row in db.query(
        "SELECT ai_agents FROM scm_commits WHERE provider = ? AND repo = ? AND (ref = ? OR sha = ?)",
        (provider, repo, ref, sha)) for agent in json.loads(row["ai_agents"])}


def approving_reviewers(db: sqlite_utils.Database, provider: str, repo: str, number: int) -> list[str]:
    return [str(row["reviewer"]) for row in db.query(
        "SELECT reviewer FROM scm_reviews WHERE provider = ? AND repo = ? AND number = ? AND state = 'approved'",
        (provider, repo, number))]


def gitlab_reviewer_key(db: sqlite_utils.Database, repo: str, number: int, user_id: int | None) -> str:
    """The "id|username" key a GitLab user reviews a change under ("id|" when never seen)."""
    return next((str(row["reviewer"]) for row in db.query(
        "SELECT reviewer FROM scm_reviews WHERE provider = 'gitlab' AND repo = ? AND number = ? AND reviewer LIKE ?",
        (repo, number, f"{user_id}|%"))), f"{user_id}|")


def save_merged_change(db: sqlite_utils.Database, change: dict[str, Any]) -> None:
    """Writer fn: a merged change (ai_agents as JSON text), not yet deployed nor alerted."""
    db.execute(
        "INSERT INTO scm_changes (provider, repo, number, title, author, merged_by, merged_at, merge_sha, "
        "head_sha, ai_agents, url, deployed_to, alert_id) VALUES (:provider, :repo, :number, :title, :author, "
        ":merged_by, :merged_at, :merge_sha, :head_sha, :ai_agents, :url, '[]', NULL) "
        "ON CONFLICT (provider, repo, number) DO UPDATE SET title = excluded.title, author = excluded.author, "
        "merged_by = excluded.merged_by, merged_at = excluded.merged_at, merge_sha = excluded.merge_sha, "
        "head_sha = excluded.head_sha, ai_agents = excluded.ai_agents, url = excluded.url, deployed_to = '[]', "
        "alert_id = NULL", change)


def link_change_to_alert(db: sqlite_utils.Database, provider: str, repo: str, number: int, alert_id: int) -> None:
    db.execute("UPDATE scm_changes SET alert_id = ? WHERE provider = ? AND repo = ? AND number = ?",
               (alert_id, provider, repo, number))


def record_deployment(db: sqlite_utils.Database, provider: str, repo: str, sha: str, environment: str) -> list[int]:
    """Writer fn: a successful deployment of a commit; the alerts of the unreviewed AI changes
    it ships get it as evidence. Returns their ids."""
    alerts = []
    for row in list(db.query(
            "SELECT number, deployed_to, alert_id FROM scm_changes WHERE provider = ? AND repo = ? "
            "AND (merge_sha = ? OR head_sha = ?) AND alert_id IS NOT NULL", (provider, repo, sha, sha))):
        deployed = sorted(set(json.loads(row["deployed_to"])) | {environment})
        db.execute("UPDATE scm_changes SET deployed_to = ? WHERE provider = ? AND repo = ? AND number = ?",
                   (json.dumps(deployed), provider, repo, row["number"]))
        # merged here, not with SQLite's json_patch: PostgreSQL has none
        [alert] = db.query("SELECT facts FROM alerts WHERE id = ?", (row["alert_id"],))
        facts = json.dumps({**json.loads(alert["facts"] or "{}"), "deployed_to": deployed, "deployed_sha": sha})
        db.execute("UPDATE alerts SET facts = ?, last_seen = max(last_seen, ?), updated_at = ? WHERE id = ?",
                   (facts, utc_now(), utc_now(), row["alert_id"]))
        alerts.append(int(row["alert_id"]))
    return alerts


def changes_of_alert(db: sqlite_utils.Database, alert_id: int) -> list[dict[str, Any]]:
    """The merged code changes behind an alert, most recent first."""
    return [{**row, "ai_agents": json.loads(row["ai_agents"]), "deployed_to": json.loads(row["deployed_to"])}
            for row in db.query("SELECT * FROM scm_changes WHERE alert_id = ? ORDER BY merged_at DESC", (alert_id,))]
