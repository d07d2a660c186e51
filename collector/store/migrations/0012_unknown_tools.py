"""unknown tools queue"""

NAME = "unknown tools queue"

SQL = """
CREATE TABLE unknown_tools (
    kind TEXT NOT NULL,               -- domain | process
    name TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    count INTEGER NOT NULL,
    devices TEXT NOT NULL DEFAULT '[]',  -- JSON, capped
    users TEXT NOT NULL DEFAULT '[]',    -- JSON, capped
    signals TEXT NOT NULL DEFAULT '[]',  -- JSON list of signal names
    score REAL NOT NULL DEFAULT 0,
    status TEXT NOT NULL DEFAULT 'new',  -- new | catalogued | approved | ignored
    tool_id TEXT,
    vendor TEXT,
    decided_by TEXT,
    decided_at TEXT,
    PRIMARY KEY (kind, name)
);
CREATE INDEX unknown_tools_queue ON unknown_tools(status, score);
"""
