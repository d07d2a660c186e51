"""Pull requests' line provenance (tables pr_provenance, pr_provenance_sessions: migration 0200):
what `shadowmap provenance` last answered for each pull request, kept with it, and which
sessions' lines it adds. Portable SQL (SQLite and PostgreSQL)."""
from __future__ import annotations

import json
from typing import Any

import sqlite_utils

MAX_ROWS = 200
SAVE = ("INSERT INTO pr_provenance (repo, number, lines, ai_lines, ai_share, by_writer, approved_by, files, asked_by, "
        "asked_at, record_seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (repo, number) DO UPDATE SET "
        "lines = excluded.lines, ai_lines = excluded.ai_lines, ai_share = excluded.ai_share, "
        "by_writer = excluded.by_writer, approved_by = excluded.approved_by, files = excluded.files, "
        "asked_by = excluded.asked_by, asked_at = excluded.asked_at, record_seq = excluded.record_seq")
COLUMNS = "repo, number, lines, ai_lines, ai_share, by_writer, approved_by, files, asked_by, asked_at, record_seq"


def save(db: sqlite_utils.Database, repo: str, number: int, answer: dict[str, Any], asked_by: str, asked_at: str,
         record_seq: int | None) -> None:
    """Writer fn: the newest answer for a pull request replaces the one before, and its sessions."""
    db.execute(SAVE, (repo, number, answer["lines"], answer["ai_lines"], answer["ai_share"],
                      json.dumps(answer["by"], sort_keys=True), json.dumps(answer.get("approved_by") or []),
                      json.dumps(answer["files"]), asked_by, asked_at, record_seq))
    db.execute("DELETE FROM pr_provenance_sessions WHERE repo = ? AND number = ?", (repo, number))
    per_session = answer["by"].get("session") or {}
    rows = [(repo, number, s.get("device_id") or "", s["tool_id"], s["session_id"], int(per_session.get(s["ref"], 0)))
            for s in answer["sessions"]]
    if rows:
        db.conn.executemany("INSERT INTO pr_provenance_sessions (repo, number, device_id, tool_id, session_id, "
                            "ai_lines) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING", rows)


def _decoded(row: dict[str, Any]) -> dict[str, Any]:
    for key, empty in (("by_writer", "{}"), ("approved_by", "[]"), ("files", "[]")):
        row[key] = json.loads(row.get(key) or empty)
    return row


def get(db: sqlite_utils.Database, repo: str, number: int) -> dict[str, Any] | None:
    """A pull request's kept answer with the sessions whose lines it adds (tool, user, models, times)."""
    rows = list(db.query(f"SELECT {COLUMNS} FROM pr_provenance WHERE repo = ? AND number = ?", (repo, number)))
    if not rows:
        return None
    answer = _decoded(dict(rows[0]))
    answer["sessions"] = [dict(row) for row in db.query(
        "SELECT p.device_id, p.tool_id, p.session_id, p.ai_lines, s.user, s.models, s.started, s.ended, "
        "s.permission_mode FROM pr_provenance_sessions p LEFT JOIN ai_sessions s ON s.device_id = p.device_id "
        "AND s.tool_id = p.tool_id AND s.session_id = p.session_id WHERE p.repo = ? AND p.number = ? "
        "ORDER BY p.ai_lines DESC, p.session_id", (repo, number))]
    for session in answer["sessions"]:
        session["models"] = json.loads(session["models"] or "[]")
    return answer


def recent(db: sqlite_utils.Database, repo: str = "") -> list[dict[str, Any]]:
    """The newest answers (one per pull request), optionally of one repository."""
    clause, params = ("WHERE repo = ? ", [repo]) if repo else ("", [])
    return [_decoded(dict(row)) for row in db.query(
        f"SELECT {COLUMNS} FROM pr_provenance {clause}ORDER BY asked_at DESC, repo, number LIMIT ?",
        [*params, MAX_ROWS])]


def of_session(db: sqlite_utils.Database, device_id: str, tool_id: str, session_id: str) -> list[dict[str, Any]]:
    """The pull requests a session's lines reached (as CI last asked), with how many of its lines each adds."""
    return [_decoded(dict(row)) for row in db.query(
        "SELECT p.repo, p.number, p.ai_lines AS session_lines, r.lines, r.ai_share, r.approved_by, r.asked_at "
        "FROM pr_provenance_sessions p JOIN pr_provenance r ON r.repo = p.repo AND r.number = p.number "
        "WHERE p.device_id = ? AND p.tool_id = ? AND p.session_id = ? ORDER BY r.asked_at DESC LIMIT 100",
        (device_id, tool_id, session_id))]


def evidence(db: sqlite_utils.Database, repo: str, number: int) -> dict[str, Any] | None:
    """A pull request's kept answer as an alert's facts: line counts and share, lines per tool and
    model, the sessions whose lines it adds (tool, session, user, their lines), the approvers."""
    kept = get(db, repo, number)
    if kept is None:
        return None
    return {"lines": kept["lines"], "ai_lines": kept["ai_lines"], "ai_share": kept["ai_share"],
            "by_tool": kept["by_writer"].get("tool") or {}, "by_model": kept["by_writer"].get("model") or {},
            "approved_by": kept["approved_by"], "asked_at": kept["asked_at"],
            "sessions": [{k: s[k] for k in ("device_id", "tool_id", "session_id", "user", "ai_lines")}
                         for s in kept["sessions"]]}
