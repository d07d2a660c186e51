"""Pull requests' line provenance, kept with the pull request

pr_provenance: what `shadowmap provenance` last answered for a pull request (repository as
host/owner/name, number): added lines, the AI-written ones and their share, lines per tool,
model and user, the approvers, the files, who asked and when, and the record entry that holds
the answer. pr_provenance_sessions: which sessions' lines the pull request adds (how many), so a
session's page lists the pull requests its lines reached."""

NAME = "Pull requests' line provenance"

SQL = """
CREATE TABLE pr_provenance (
    repo TEXT NOT NULL,
    number INTEGER NOT NULL,
    lines INTEGER NOT NULL DEFAULT 0,
    ai_lines INTEGER NOT NULL DEFAULT 0,
    ai_share REAL NOT NULL DEFAULT 0,
    by_writer TEXT NOT NULL DEFAULT '{}',
    approved_by TEXT NOT NULL DEFAULT '[]',
    files TEXT NOT NULL DEFAULT '[]',
    asked_by TEXT NOT NULL DEFAULT '',
    asked_at TEXT NOT NULL,
    record_seq INTEGER,
    PRIMARY KEY (repo, number)
);
CREATE INDEX pr_provenance_asked ON pr_provenance(asked_at);
CREATE TABLE pr_provenance_sessions (
    repo TEXT NOT NULL,
    number INTEGER NOT NULL,
    device_id TEXT NOT NULL,
    tool_id TEXT NOT NULL,
    session_id TEXT NOT NULL,
    ai_lines INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (repo, number, device_id, tool_id, session_id)
);
CREATE INDEX pr_provenance_sessions_session ON pr_provenance_sessions(device_id, tool_id, session_id);
"""
