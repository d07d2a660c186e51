"""Deployment webhooks' state (tables deploy_deliveries, deploys, deploy_projects: migration 160)
and their shared secrets (org_settings, sealed at rest like the SCM webhook secrets). Portable
SQL (SQLite and PostgreSQL)."""
from __future__ import annotations

import json
import secrets
from typing import Any

import sqlite_utils

from shadowmap.collector import secret_box
from shadowmap.collector.store.sqlite import pr_provenance

PROVIDERS = ("vercel", "netlify")
SECRET_NAMES = {"vercel": "deploy_vercel_secret", "netlify": "deploy_netlify_secret"}


def deploy_secret(db: sqlite_utils.Database, provider: str) -> str | None:
    """The webhook secret of a provider, None until set."""
    name = SECRET_NAMES[provider]
    rows = list(db.query("SELECT value FROM org_settings WHERE name = ?", (name,)))
    return secret_box.unseal(name, rows[0]["value"]) if rows else None


def set_deploy_secret(db: sqlite_utils.Database, provider: str, value: str | None = None) -> str:
    """Writer fn: set (or generate) a provider's webhook secret (Vercel shows its own once: paste
    it; Netlify takes the one given here as its JWS secret token). Returns it."""
    name = SECRET_NAMES[provider]
    value = value or secrets.token_urlsafe(32)
    db.execute("INSERT INTO org_settings (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET "
               "value = excluded.value", (name, secret_box.seal(name, value)))
    return value


def take_delivery(db: sqlite_utils.Database, provider: str, keys: list[str], now: str) -> bool:
    """Writer fn: claim a delivery's keys (deploy webhooks' and SCM webhooks' ids, per
    provider); False (nothing claimed) when any was taken before."""
    marks = ", ".join("?" * len(keys))
    if list(db.query(f"SELECT 1 FROM deploy_deliveries WHERE provider = ? AND delivery_key IN ({marks}) LIMIT 1",
                     (provider, *keys))):
        return False
    for key in keys:
        db.execute("INSERT INTO deploy_deliveries (provider, delivery_key, received_at) VALUES (?, ?, ?) "
                   "ON CONFLICT DO NOTHING", (provider, key, now))
    return True


def canonical_repo(db: sqlite_utils.Database, provider: str, project: str) -> str | None:
    rows = list(db.query("SELECT canonical_repo FROM deploy_projects WHERE provider = ? AND project = ?",
                         (provider, project)))
    return str(rows[0]["canonical_repo"]) if rows else None


def set_canonical_repo(db: sqlite_utils.Database, provider: str, project: str, repo: str) -> None:
    """Writer fn: the repository a deployment project must deploy from (host/owner/name)."""
    db.execute("INSERT INTO deploy_projects (provider, project, canonical_repo) VALUES (?, ?, ?) "
               "ON CONFLICT (provider, project) DO UPDATE SET canonical_repo = excluded.canonical_repo",
               (provider, project, repo))


def known_repos(db: sqlite_utils.Database) -> set[str]:
    """Repositories (owner/name) the SCM webhooks have told of."""
    return {str(row["repo"]).lower() for row in db.query("SELECT DISTINCT repo FROM scm_changes")}


def change_of_commit(db: sqlite_utils.Database, repo: str, sha: str) -> dict[str, Any] | None:
    """The merged change (any SCM provider) a commit shipped in: its merge or head commit."""
    rows = list(db.query("SELECT provider, repo, number, author, merged_by, head_sha, url FROM scm_changes "
                         "WHERE lower(repo) = ? AND (merge_sha = ? OR head_sha = ?) ORDER BY merged_at DESC LIMIT 1",
                         (repo.lower(), sha, sha)))
    return dict(rows[0]) if rows else None


def sessions_on_repo(db: sqlite_utils.Database, remote: str, limit: int = 20) -> list[dict[str, Any]]:
    """The recorded AI sessions that worked in a repository (host/owner/name), newest first."""
    return [dict(row) for row in db.query(
        "SELECT tool_id, session_id, user, branch, started, ended, lines_written FROM ai_sessions WHERE repo = ? "
        "ORDER BY ended DESC LIMIT ?", (remote, limit))]


def provenance_answer(db: sqlite_utils.Database, remote: str, number: int) -> dict[str, Any] | None:
    """What `shadowmap provenance` last answered for a pull request, if CI asked: kept with the
    pull request (pr_provenance, with the sessions), else the summary kept in the record."""
    kept = pr_provenance.evidence(db, remote, number)
    if kept is not None:
        return kept
    rows = list(db.query("SELECT detail FROM record_entries WHERE kind = 'read' AND subject = ? AND detail IS NOT NULL "
                         "ORDER BY seq DESC LIMIT 1", (f"provenance:{remote}#{number}",)))
    return json.loads(rows[0]["detail"]) if rows else None


def save_deploy(db: sqlite_utils.Database, row: dict[str, Any]) -> None:
    """Writer fn: a judged production deployment (the newest judgement wins)."""
    db.execute("INSERT INTO deploys (provider, deploy_id, project, target, repo, sha, branch, url, verdict, alert_id, "
               "received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (provider, deploy_id) DO UPDATE SET "
               "verdict = excluded.verdict, alert_id = excluded.alert_id, received_at = excluded.received_at",
               tuple(row[k] for k in ("provider", "deploy_id", "project", "target", "repo", "sha", "branch", "url",
                                      "verdict", "alert_id", "received_at")))
