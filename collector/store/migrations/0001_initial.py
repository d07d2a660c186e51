"""initial tables"""

NAME = "initial tables"

SQL = """
CREATE TABLE devices (
    device_id TEXT PRIMARY KEY,
    host_identifier TEXT NOT NULL UNIQUE,
    hostname TEXT NOT NULL,
    os TEXT NOT NULL,
    node_key_hash TEXT NOT NULL UNIQUE,  -- sha256 hex; the key itself is never stored
    enrolled_at TEXT NOT NULL,
    last_seen TEXT,
    revoked INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE events (
    id TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    device_id TEXT NOT NULL,
    user TEXT NOT NULL,
    ts TEXT NOT NULL,           -- normalised to UTC
    received_at TEXT NOT NULL,
    body TEXT NOT NULL          -- the event as received (JSON)
);
CREATE INDEX events_type_ts ON events(type, ts);
CREATE INDEX events_device ON events(device_id);
CREATE TABLE alerts (
    id INTEGER PRIMARY KEY,
    dedupe_key TEXT NOT NULL,
    finding_id TEXT NOT NULL,
    finding TEXT NOT NULL,
    severity TEXT NOT NULL,
    tool_id TEXT,
    domain TEXT,
    user TEXT NOT NULL,
    device_ids TEXT NOT NULL,   -- JSON list
    entity_types TEXT NOT NULL, -- JSON list
    data_classes TEXT NOT NULL, -- JSON list
    count INTEGER NOT NULL,
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'open'
);
-- one OPEN alert per finding x tool x user; closed ones may repeat
CREATE UNIQUE INDEX alerts_open_dedupe ON alerts(dedupe_key) WHERE status = 'open';
CREATE INDEX alerts_last_seen ON alerts(last_seen);
CREATE TABLE accounts (
    username TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,  -- argon2id
    role TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,  -- sha256 hex of the cookie value
    username TEXT NOT NULL REFERENCES accounts(username),
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE TABLE api_tokens (
    token_hash TEXT PRIMARY KEY,  -- sha256 hex
    name TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE org_settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""
