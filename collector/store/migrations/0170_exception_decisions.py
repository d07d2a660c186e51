"""Analysts' decisions on exception requests

exception_decisions: one row per decided exception.requested event (the request itself stays
in `events`): approved or denied, by whom, when, and until when an approved one holds. The
request's device, user, tool and data classes are copied here so the served policy reads
one small table, not the events."""

NAME = "Analysts' decisions on exception requests"

SQL = """
CREATE TABLE exception_decisions (
    request_id TEXT PRIMARY KEY,
    device_id TEXT NOT NULL,
    user TEXT NOT NULL,
    tool_id TEXT NOT NULL,
    data_classes TEXT NOT NULL DEFAULT '[]',
    decision TEXT NOT NULL,
    decided_by TEXT NOT NULL,
    decided_at TEXT NOT NULL,
    expires_at TEXT,
    note TEXT NOT NULL DEFAULT ''
);
CREATE INDEX exception_decisions_device ON exception_decisions(device_id, decision, expires_at);
"""
