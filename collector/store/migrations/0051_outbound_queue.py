"""outbound queue with dead letters; alert states already announced"""

NAME = "outbound queue with dead letters; alert states already announced"

SQL = """
CREATE TABLE outbound_queue (
    id INTEGER PRIMARY KEY,
    sink TEXT NOT NULL,
    topic TEXT NOT NULL,           -- alerts | reads
    payload TEXT NOT NULL,         -- the JSON body as the sink receives it
    created_at TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',  -- pending | delivered | dead
    last_error TEXT NOT NULL DEFAULT '',
    delivered_at TEXT
);
CREATE INDEX outbound_queue_due ON outbound_queue(status, next_attempt_at);
CREATE TABLE outbound_alert_state (
    alert_id INTEGER PRIMARY KEY,
    status TEXT NOT NULL,
    count INTEGER NOT NULL
);
"""
