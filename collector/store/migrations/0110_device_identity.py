"""device identity: host, mode and OS user; enrollment requests an admin approves

A device is one agent: its host identifier, the mode it runs in (system or user) and, in
user mode, its OS user, so a system agent and a user agent on one host are two devices
(host_identifier is no longer unique on its own). Re-enrolling a known device without its
current node key leaves a request in enrollment_requests for an admin to approve."""
from __future__ import annotations

NAME = "device identity: host, mode and OS user; enrollment requests an admin approves"

SQL = """
CREATE TABLE devices_by_identity (
    device_id TEXT PRIMARY KEY,
    host_identifier TEXT NOT NULL,
    mode TEXT NOT NULL DEFAULT 'system',      -- system | user
    os_user TEXT NOT NULL DEFAULT '',         -- the OS user of a user-mode agent; '' in system mode
    hostname TEXT NOT NULL,
    os TEXT NOT NULL,
    node_key_hash TEXT NOT NULL UNIQUE,
    enrolled_at TEXT NOT NULL,
    last_seen TEXT,
    revoked INTEGER NOT NULL DEFAULT 0,
    UNIQUE (host_identifier, mode, os_user)
);
INSERT INTO devices_by_identity
    (device_id, host_identifier, mode, os_user, hostname, os, node_key_hash, enrolled_at, last_seen, revoked)
    SELECT device_id, host_identifier, 'system', '', hostname, os, node_key_hash, enrolled_at, last_seen, revoked
    FROM devices;
DROP TABLE devices;
ALTER TABLE devices_by_identity RENAME TO devices;
CREATE TABLE enrollment_requests (
    request_id TEXT PRIMARY KEY,
    host_identifier TEXT NOT NULL,
    mode TEXT NOT NULL,
    os_user TEXT NOT NULL,
    device_id TEXT NOT NULL,                  -- the known device the request would take over
    hostname TEXT NOT NULL,
    os TEXT NOT NULL,
    token_hash TEXT NOT NULL,                 -- sha256 of the requesting agent's request token
    remote TEXT NOT NULL DEFAULT '',
    requested_at TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',   -- pending | approved | rejected | done
    decided_by TEXT,
    decided_at TEXT,
    UNIQUE (host_identifier, mode, os_user, token_hash)
);
CREATE INDEX enrollment_requests_status ON enrollment_requests(status)
"""
