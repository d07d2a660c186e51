"""job leases (twin of SQLite's 0095)"""

NAME = "job leases: each background job runs on one node at a time"

SQL = """
CREATE TABLE job_leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    expires_at TEXT COLLATE "C" NOT NULL
);
"""
