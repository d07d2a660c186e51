"""Analysts' decisions on exception requests (twin of SQLite's 0170)"""

NAME = "Analysts' decisions on exception requests"

SQL = """
CREATE TABLE exception_decisions (
    request_id TEXT PRIMARY KEY,
    device_id TEXT NOT NULL,
    "user" TEXT NOT NULL,
    tool_id TEXT NOT NULL,
    data_classes TEXT NOT NULL DEFAULT '[]',
    decision TEXT NOT NULL,
    decided_by TEXT NOT NULL,
    decided_at TEXT COLLATE "C" NOT NULL,
    expires_at TEXT COLLATE "C",
    note TEXT NOT NULL DEFAULT ''
);
CREATE INDEX exception_decisions_device ON exception_decisions (device_id, decision, expires_at);
"""
