"""AI coding sessions (tables ai_sessions, ai_session_lines: migration 150). Portable SQL
(SQLite and PostgreSQL)."""
from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import sqlite_utils

from shadowmap.contract.repo_names import provider_path

UPSERT = (
    "INSERT INTO ai_sessions (device_id, tool_id, session_id, user, os_user, tool_version, models, repo, branch, "
    "started, ended, prompts, turns, permission_mode, tools, lines_written, findings, event_id, updated_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (device_id, tool_id, session_id) DO UPDATE SET user = excluded.user, os_user = excluded.os_user, "
    "tool_version = excluded.tool_version, models = excluded.models, repo = excluded.repo, "
    "branch = excluded.branch, started = excluded.started, ended = excluded.ended, prompts = excluded.prompts, "
    "turns = excluded.turns, permission_mode = excluded.permission_mode, tools = excluded.tools, "
    "lines_written = excluded.lines_written, findings = excluded.findings, event_id = excluded.event_id, "
    "updated_at = excluded.updated_at")
ADD_LINE = ("INSERT INTO ai_session_lines (hash, device_id, tool_id, session_id, path) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT DO NOTHING")
COLUMNS = ("device_id, tool_id, session_id, user, os_user, tool_version, models, repo, branch, started, ended, "
           "prompts, turns, permission_mode, tools, lines_written, findings, updated_at")


def upsert(db: sqlite_utils.Database, rows: Sequence[Sequence[Any]]) -> None:
    """Writer fn: sessions as UPSERT's values, the newest state of each winning."""
    for row in rows:
        db.execute(UPSERT, tuple(row))


def add_lines(db: sqlite_utils.Database, rows: Sequence[tuple[str, str, str, str, str]]) -> None:
    """Writer fn: (hash, device, tool, session, path) rows; ones already there are kept."""
    if rows:
        db.conn.executemany(ADD_LINE, rows)


def _decoded(row: dict[str, Any]) -> dict[str, Any]:
    for key in ("models", "tools", "findings"):
        if key in row and isinstance(row[key], str):
            row[key] = json.loads(row[key])
    return row


def sessions_writing(db: sqlite_utils.Database, hashes: Iterable[str]) -> list[dict[str, Any]]:
    """For each hash that a recorded session wrote: the hash, the path and the session."""
    wanted = sorted(set(hashes))
    found: list[dict[str, Any]] = []
    for start in range(0, len(wanted), 500):       # bounded IN lists
        chunk = wanted[start:start + 500]
        marks = ", ".join("?" * len(chunk))
        found.extend(_decoded(dict(row)) for row in db.query(
            f"SELECT l.hash, l.path, s.device_id, s.tool_id, s.tool_version, s.session_id, s.user, s.models, s.repo, "
            f"s.branch, s.started, s.ended, s.permission_mode FROM ai_session_lines l JOIN ai_sessions s "
            f"ON s.device_id = l.device_id AND s.tool_id = l.tool_id AND s.session_id = l.session_id "
            f"WHERE l.hash IN ({marks})", chunk))
    return found


def recent(db: sqlite_utils.Database, limit: int = 200, user: str | None = None,
           repo: str | None = None) -> list[dict[str, Any]]:
    where, params = [], []
    if user:
        where.append("user = ?")
        params.append(user)
    if repo:
        where.append("repo = ?")
        params.append(repo)
    clause = f"WHERE {' AND '.join(where)} " if where else ""
    return [_decoded(dict(row)) for row in db.query(
        f"SELECT {COLUMNS} FROM ai_sessions {clause}ORDER BY ended DESC LIMIT ?", [*params, limit])]


def scm_names(repo: str) -> tuple[str, str]:
    """A repository as CI names it (host/owner/name) and as the SCM webhooks store it."""
    return repo, provider_path(repo) or repo


def approvals(db: sqlite_utils.Database, repo: str, number: int) -> list[str]:
    """Who approved a pull request, as the SCM webhooks told."""
    return [str(row["reviewer"]) for row in db.query(
        "SELECT DISTINCT reviewer FROM scm_reviews WHERE repo IN (?, ?) AND number = ? AND state = 'approved'"
        " ORDER BY reviewer", (*scm_names(repo), number))]


def change_of_commit(db: sqlite_utils.Database, repo: str, sha: str) -> dict[str, Any] | None:
    """The merged change a commit shipped in (its merge or head commit), with its approvers."""
    rows = list(db.query("SELECT provider, repo, number, title, author, merged_by, merged_at, url FROM scm_changes "
                         "WHERE repo IN (?, ?) AND (merge_sha = ? OR head_sha = ?) ORDER BY merged_at DESC LIMIT 1",
                         (*scm_names(repo), sha, sha)))
    if not rows:
        return None
    change = dict(rows[0])
    change["approved_by"] = approvals(db, str(change["repo"]), int(change["number"]))
    return change
