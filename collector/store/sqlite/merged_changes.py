"""A merged change looked up by the name CI gives its repository (host/owner/name), for judging
it again when CI's line provenance arrives after the merge (alerts/code_review.py). The SCM
webhooks keep a change under the provider's own name (GitHub's full_name, GitLab's
path_with_namespace: owner/name, any case). Portable SQL (SQLite and PostgreSQL)."""
from __future__ import annotations

from typing import Any

import sqlite_utils

from shadowmap.contract.repo_names import provider_path

# the host each provider's public service names its repositories under
PUBLIC_HOSTS = {"github.com": "github", "gitlab.com": "gitlab"}


def merged_change(db: sqlite_utils.Database, repo: str, number: int) -> dict[str, Any] | None:
    """The stored merged change numbered ``number`` of ``repo`` (host/owner/name), or None when
    it has not merged (or the webhooks never told). When two providers hold the same owner/name,
    the one whose public host matches wins, then the latest merge."""
    path = provider_path(repo)
    if not path:
        return None
    rows = [dict(row) for row in db.query(
        "SELECT provider, repo, number, title, author, merged_by, merged_at, merge_sha, head_sha, ai_agents, url, "
        "alert_id FROM scm_changes WHERE lower(repo) = ? AND number = ? ORDER BY merged_at DESC",
        (path.lower(), number))]
    preferred = PUBLIC_HOSTS.get(repo.partition("/")[0])
    rows.sort(key=lambda row: row["provider"] != preferred)    # stable: the latest first within each
    return rows[0] if rows else None
