"""record: event entries stored as one run per ingest batch

One row per ingest batch instead of one per event: the chain and every entry's hash stay
exactly as they were (export and verify see no difference), but ingest writes one row
and one ts index entry per batch. `record_entries` becomes a view of all entries, for
SQL by hand; the collector reads the two tables directly (the view cannot use an index
on seq for run entries)."""

NAME = "record: event entries stored as one run per ingest batch"

SQL = """
ALTER TABLE record_entries RENAME TO record_entries_single;
CREATE TABLE record_event_runs (
    first_seq INTEGER PRIMARY KEY,  -- seq of its first entry; the run holds first_seq..last_seq
    last_seq INTEGER NOT NULL,
    ts TEXT NOT NULL,               -- when they were appended (one value for the run)
    actor TEXT NOT NULL,            -- device:<id> (a run holds one device's events)
    last_hash TEXT NOT NULL,        -- entry_hash of its last entry (the chain head when appended)
    entries TEXT NOT NULL           -- JSON [[subject (event id), detail_hash, entry_hash], ...]
);
CREATE INDEX record_event_runs_ts ON record_event_runs(ts);
CREATE VIEW record_entries AS
    SELECT seq, ts, kind, subject, actor, detail, detail_hash, entry_hash FROM record_entries_single
    UNION ALL
    SELECT r.first_seq + j.key, r.ts, 'event', j.value->>0, r.actor, NULL, j.value->>1, j.value->>2
    FROM record_event_runs r, json_each(r.entries) j;
"""
