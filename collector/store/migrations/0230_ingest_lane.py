"""The ingest lane's queue

ingest_lane: a stored batch whose lane work (alerts, usage rollup, the record's chain) is
still to be done: its events' ids and body digests. Used on PostgreSQL, where a node's
lane pass does that work for many batches after their transactions committed (SQLite does
it in the batch's own transaction, so the table stays empty there)."""

NAME = "the ingest lane's queue"

SQL = """
CREATE TABLE ingest_lane (
    id TEXT PRIMARY KEY,
    device_id TEXT NOT NULL,
    event_rows TEXT NOT NULL,
    queued_at TEXT NOT NULL
);
CREATE INDEX ingest_lane_device ON ingest_lane (device_id);
CREATE INDEX ingest_lane_queued ON ingest_lane (queued_at);
"""
