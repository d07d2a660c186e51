"""Pull requests' line provenance, kept with the pull request (twin of SQLite's 0200)"""

NAME = "Pull requests' line provenance"

SQL = """
CREATE TABLE pr_provenance (
    repo TEXT NOT NULL,
    number BIGINT NOT NULL,
    lines INTEGER NOT NULL DEFAULT 0,
    ai_lines INTEGER NOT NULL DEFAULT 0,
    ai_share DOUBLE PRECISION NOT NULL DEFAULT 0,
    by_writer TEXT NOT NULL DEFAULT '{}',
    approved_by TEXT NOT NULL DEFAULT '[]',
    files TEXT NOT NULL DEFAULT '[]',
    asked_by TEXT NOT NULL DEFAULT '',
    asked_at TEXT COLLATE "C" NOT NULL,
    record_seq BIGINT,
    PRIMARY KEY (repo, number)
);
CREATE INDEX pr_provenance_asked ON pr_provenance(asked_at);
CREATE TABLE pr_provenance_sessions (
    repo TEXT NOT NULL,
    number BIGINT NOT NULL,
    device_id TEXT NOT NULL,
    tool_id TEXT NOT NULL,
    session_id TEXT NOT NULL,
    ai_lines INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (repo, number, device_id, tool_id, session_id)
);
CREATE INDEX pr_provenance_sessions_session ON pr_provenance_sessions(device_id, tool_id, session_id);
"""
