"""AI coding sessions and the lines they wrote

One row per session (device x tool x session id), updated as the agent sends it again while
the session runs; one row per keyed line hash a session wrote (schema/lines.py), looked up by
hash when CI asks which sessions wrote a pull request's lines."""

NAME = "AI coding sessions and the lines they wrote"

SQL = """
CREATE TABLE ai_sessions (
    device_id TEXT NOT NULL,
    tool_id TEXT NOT NULL,
    session_id TEXT NOT NULL,
    user TEXT NOT NULL,
    os_user TEXT NOT NULL DEFAULT '',
    tool_version TEXT NOT NULL DEFAULT '',
    models TEXT NOT NULL DEFAULT '[]',
    repo TEXT NOT NULL DEFAULT '',
    branch TEXT NOT NULL DEFAULT '',
    started TEXT NOT NULL DEFAULT '',
    ended TEXT NOT NULL DEFAULT '',
    prompts INTEGER NOT NULL DEFAULT 0,
    turns INTEGER NOT NULL DEFAULT 0,
    permission_mode TEXT NOT NULL DEFAULT '',
    tools TEXT NOT NULL DEFAULT '{}',
    lines_written INTEGER NOT NULL DEFAULT 0,
    findings TEXT NOT NULL DEFAULT '[]',
    event_id TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (device_id, tool_id, session_id)
);
CREATE INDEX ai_sessions_repo ON ai_sessions(repo, ended);
CREATE INDEX ai_sessions_user ON ai_sessions(user, ended);
CREATE TABLE ai_session_lines (
    hash TEXT NOT NULL,
    device_id TEXT NOT NULL,
    tool_id TEXT NOT NULL,
    session_id TEXT NOT NULL,
    path TEXT NOT NULL,
    PRIMARY KEY (hash, device_id, tool_id, session_id, path)
);
"""
