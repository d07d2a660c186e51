"""What the console's sessions page reads of ai_sessions and ai_session_lines (portable SQL).
Filters by user, repository, tool and model, and free text; a session's files and the alerts
that name it."""
from __future__ import annotations

import json
from typing import Any

import sqlite_utils

from shadowmap.collector.store.sqlite.ai_sessions import COLUMNS

MAX_ROWS = 200


def _decoded(row: dict[str, Any]) -> dict[str, Any]:
    for key, empty in (("models", "[]"), ("tools", "{}"), ("findings", "[]")):
        row[key] = json.loads(row.get(key) or empty)
    return row


def _escaped_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# what free text is looked for in, any case: the session's own columns and its device's host name
TEXT_COLUMNS = ("user", "os_user", "repo", "branch", "tool_id", "tool_version", "session_id", "models",
                "permission_mode", "device_id")
TEXT_MATCH = "(" + " OR ".join(
    [f"lower(coalesce({column}, '')) LIKE ? ESCAPE '\\'" for column in TEXT_COLUMNS]
    + ["EXISTS (SELECT 1 FROM devices d WHERE d.device_id = ai_sessions.device_id AND lower(d.hostname) LIKE ? "
       "ESCAPE '\\')", "tool_id IN (SELECT value FROM json_each(?))"]) + ")"


def list_sessions(db: sqlite_utils.Database, user: str = "", repo: str = "", tool: str = "",
                  model: str = "", text: str = "", text_tool_ids: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """The newest sessions (at most MAX_ROWS) matching every filter given; ``text`` anywhere
    in TEXT_COLUMNS or the host name (any case, its wildcards taken literally), or a tool of
    ``text_tool_ids`` (the catalog's tools whose name holds it)."""
    where, params = [], []
    for column, value in (("user", user), ("repo", repo), ("tool_id", tool)):
        if value:
            where.append(f"{column} = ?")
            params.append(value)
    if model:                                   # models is a JSON list of names: match one whole name
        where.append("models LIKE ? ESCAPE '\\'")
        params.append("%" + _escaped_like(json.dumps(model)) + "%")
    if text:
        where.append(TEXT_MATCH)
        params.extend(["%" + _escaped_like(text.lower()) + "%"] * TEXT_MATCH.count("LIKE"))
        params.append(json.dumps(list(text_tool_ids)))
    clause = f"WHERE {' AND '.join(where)} " if where else ""
    return [_decoded(dict(row)) for row in db.query(
        f"SELECT {COLUMNS} FROM ai_sessions {clause}ORDER BY ended DESC, session_id LIMIT ?", [*params, MAX_ROWS])]


def filter_values(db: sqlite_utils.Database) -> dict[str, list[str]]:
    """The users, repositories, tools and models there are to filter by."""
    values: dict[str, list[str]] = {}
    for name, column in (("users", "user"), ("repos", "repo"), ("tools", "tool_id")):
        values[name] = [str(r["v"]) for r in db.query(
            f"SELECT DISTINCT {column} AS v FROM ai_sessions WHERE {column} <> '' ORDER BY v LIMIT 500")]
    models: set[str] = set()
    for row in db.query("SELECT DISTINCT models FROM ai_sessions LIMIT 2000"):
        models.update(m for m in json.loads(row["models"] or "[]") if isinstance(m, str))
    values["models"] = sorted(models)
    return values


def session_detail(db: sqlite_utils.Database, device_id: str, tool_id: str, session_id: str) -> dict[str, Any] | None:
    rows = list(db.query(f"SELECT {COLUMNS} FROM ai_sessions WHERE device_id = ? AND tool_id = ? AND session_id = ?",
                         (device_id, tool_id, session_id)))
    if not rows:
        return None
    session = _decoded(dict(rows[0]))
    session["files"] = [dict(r) for r in db.query(
        "SELECT path, count(*) AS lines FROM ai_session_lines WHERE device_id = ? AND tool_id = ? AND session_id = ? "
        "GROUP BY path ORDER BY path LIMIT 500", (device_id, tool_id, session_id))]
    needle = "%" + _escaped_like(json.dumps(session_id)) + "%"
    session["alerts"] = [dict(r) for r in db.query(
        "SELECT id, finding, severity, status, last_seen FROM alerts WHERE facts LIKE ? ESCAPE '\\' "
        "ORDER BY last_seen DESC LIMIT 50", (needle,))]
    return session
