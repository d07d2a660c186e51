"""alert outcomes (PostgreSQL twin of SQLite's 0093)

The column and the index only: SQLite's migration also re-judges alerts stored before it,
and a PostgreSQL database has none from before (it starts at 0092; a moved install arrives
with its alerts already judged)."""

NAME = "alert outcomes: what left the laptop, and the severity that follows"

SQL = """
ALTER TABLE alerts ADD COLUMN outcomes TEXT NOT NULL DEFAULT '{}';
CREATE INDEX alert_events_event ON alert_events (event_id);
"""
