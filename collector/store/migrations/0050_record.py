"""record: hash-chained entries and signed retention checkpoints"""

NAME = "record: hash-chained entries and signed retention checkpoints"

SQL = """
CREATE TABLE record_entries (
    seq INTEGER PRIMARY KEY,      -- 1, 2, 3 ... without gaps
    ts TEXT NOT NULL,             -- when it was appended (UTC)
    kind TEXT NOT NULL,           -- event | triage | read | retention | note
    subject TEXT NOT NULL,        -- event id, alert:<id>, record, export ...
    actor TEXT NOT NULL,          -- device:<id>, a username, token:<name>, system
    detail TEXT,                  -- canonical JSON; NULL for events (their detail is events.body)
    detail_hash TEXT NOT NULL,    -- sha256 hex of the detail; outlives it
    entry_hash TEXT NOT NULL      -- sha256(previous entry_hash + canonical header)
);
CREATE INDEX record_entries_ts ON record_entries(ts);
CREATE TABLE record_checkpoints (
    seq INTEGER PRIMARY KEY,      -- the chain head it vouches for
    entry_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    reason TEXT NOT NULL,
    purged_before TEXT,
    purged_events INTEGER NOT NULL DEFAULT 0,
    signature TEXT NOT NULL       -- Ed25519 (base64) by the record key
);
CREATE INDEX events_received_at ON events(received_at);
"""
