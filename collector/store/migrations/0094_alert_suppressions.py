"""alert suppressions: a false positive turned into a rule

One row per suppressed finding x tool x user (an alert's dedupe key): new evidence for it
is stored as events but raises no alert until the rule is removed. Who added it, why and
from which alert are kept. Portable SQL for the PostgreSQL mirror."""

NAME = "alert suppressions: a false positive turned into a rule"

SQL = """
CREATE TABLE alert_suppressions (
    id INTEGER PRIMARY KEY,
    dedupe_key TEXT NOT NULL UNIQUE,  -- the alerts' dedupe key: finding x tool x user
    finding_id TEXT NOT NULL,
    tool TEXT NOT NULL,               -- tool id, or the domain of an unknown tool
    user TEXT NOT NULL,
    alert_id INTEGER NOT NULL,        -- the false positive it was made from
    reason TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);
"""
