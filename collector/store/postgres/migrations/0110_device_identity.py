"""device identity (PostgreSQL twin of SQLite's 0110): host, mode and OS user make a
device; enrollment requests an admin approves"""

NAME = "device identity: host, mode and OS user; enrollment requests an admin approves"

SQL = """
ALTER TABLE devices ADD COLUMN mode TEXT NOT NULL DEFAULT 'system';
ALTER TABLE devices ADD COLUMN os_user TEXT NOT NULL DEFAULT '';
ALTER TABLE devices DROP CONSTRAINT devices_host_identifier_key;
ALTER TABLE devices ADD CONSTRAINT devices_identity UNIQUE (host_identifier, mode, os_user);
CREATE TABLE enrollment_requests (
    request_id TEXT PRIMARY KEY,
    host_identifier TEXT NOT NULL,
    mode TEXT NOT NULL,
    os_user TEXT NOT NULL,
    device_id TEXT NOT NULL,
    hostname TEXT NOT NULL,
    os TEXT NOT NULL,
    token_hash TEXT NOT NULL,
    remote TEXT NOT NULL DEFAULT '',
    requested_at TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    decided_by TEXT,
    decided_at TEXT,
    UNIQUE (host_identifier, mode, os_user, token_hash)
);
CREATE INDEX enrollment_requests_status ON enrollment_requests (status);
"""
