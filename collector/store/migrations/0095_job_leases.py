"""job leases: each background job runs on one node at a time

Retention, checkpoints, scheduled reports and outbound delivery take a lease by name before
they run (shadowmap.collector.store.sqlite.leases); a node that dies stops renewing its
lease and another takes the job once it expires. On SQLite there is one node, and the same
code takes the lease every time."""

NAME = "job leases: each background job runs on one node at a time"

SQL = """
CREATE TABLE job_leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
"""
