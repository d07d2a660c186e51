"""triage: alert evidence, log, assignee; active dedupe; hash sightings"""

NAME = "triage: alert evidence, log, assignee; active dedupe; hash sightings"

SQL = """
ALTER TABLE alerts ADD COLUMN assignee TEXT;
ALTER TABLE alerts ADD COLUMN updated_at TEXT;
ALTER TABLE alerts ADD COLUMN vendor TEXT;
ALTER TABLE alerts ADD COLUMN users TEXT NOT NULL DEFAULT '[]';   -- JSON list
ALTER TABLE alerts ADD COLUMN facts TEXT NOT NULL DEFAULT '{}';   -- finding-specific facts (JSON)
DROP INDEX alerts_open_dedupe;
-- one ACTIVE (open or acknowledged) alert per finding x tool x user
CREATE UNIQUE INDEX alerts_active_dedupe ON alerts(dedupe_key) WHERE status IN ('open', 'acknowledged');
CREATE INDEX alerts_status ON alerts(status, last_seen);
CREATE TABLE alert_events (
    alert_id INTEGER NOT NULL,
    event_id TEXT NOT NULL,
    PRIMARY KEY (alert_id, event_id)
) WITHOUT ROWID;
CREATE TABLE alert_log (          -- every triage decision and comment
    id INTEGER PRIMARY KEY,
    alert_id INTEGER NOT NULL,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,         -- acknowledge/resolve/false_positive/reopen/assign/comment
    note TEXT NOT NULL DEFAULT ''
);
CREATE INDEX alert_log_alert ON alert_log(alert_id, id);
CREATE TABLE hash_sightings (     -- keyed hashes only: correlate one value across devices
    hash TEXT NOT NULL,
    device_id TEXT NOT NULL,
    user TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (hash, device_id, user, entity_type)
) WITHOUT ROWID;
ALTER TABLE api_tokens ADD COLUMN role TEXT NOT NULL DEFAULT 'viewer';
ALTER TABLE api_tokens ADD COLUMN created_by TEXT NOT NULL DEFAULT '';
"""
