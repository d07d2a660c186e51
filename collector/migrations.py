"""Schema changes as numbered, registered migrations, recorded in `_migrations`.

Append new migrations to MIGRATIONS; never edit one that has shipped."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import sqlite_utils

from shadowmap.collector.hash_sightings import register_sql_functions


@dataclass(frozen=True)
class Migration:
    number: int
    name: str
    sql: str


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "initial tables", """
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
    """),
)


def apply_migrations(db: sqlite_utils.Database, migrations: tuple[Migration, ...] | None = None) -> list[int]:
    """Apply every migration not yet recorded, each in its own transaction; return their numbers."""
    # Looked up at call time: later parts of this module append to MIGRATIONS.
    migrations = MIGRATIONS if migrations is None else migrations
    db.execute(
        "CREATE TABLE IF NOT EXISTS _migrations (number INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )
    done = {row["number"] for row in db.query("SELECT number FROM _migrations")}
    register_sql_functions(db.conn)  # functions a migration's SQL may call
    applied = []
    for migration in sorted(migrations, key=lambda m: m.number):
        if migration.number in done:
            continue
        with db.atomic():
            for statement in _statements(migration.sql):
                db.execute(statement)
            db.execute(
                "INSERT INTO _migrations (number, name, applied_at) VALUES (?, ?, ?)",
                (migration.number, migration.name, datetime.now(UTC).isoformat()),
            )
        applied.append(migration.number)
    return applied


def _statements(sql: str) -> list[str]:
    # executescript() would commit the open transaction, so run statements one by one.
    cleaned = "\n".join(line.split("--", 1)[0] for line in sql.splitlines())
    return [part.strip() for part in cleaned.split(";") if part.strip()]


# ---- triage console, findings, register, unknown tools, SCM webhooks (numbers 10-49) ------

MIGRATIONS += (
    Migration(10, "triage: alert evidence, log, assignee; active dedupe; hash sightings", """
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
    """),
    Migration(11, "sub-processor register and teams", """
        CREATE TABLE register (
            vendor TEXT PRIMARY KEY COLLATE NOCASE,
            dpa_signed INTEGER NOT NULL DEFAULT 0,
            dpa_date TEXT NOT NULL DEFAULT '',
            listed INTEGER NOT NULL DEFAULT 0,       -- publicly listed as a sub-processor
            data_classes TEXT NOT NULL DEFAULT '[]', -- JSON list of allowed data classes
            retention_days INTEGER,                  -- contractual retention; NULL: the vendor facts'
            notes TEXT NOT NULL DEFAULT '',
            updated_at TEXT NOT NULL,
            updated_by TEXT NOT NULL
        );
        CREATE TABLE team_members (
            kind TEXT NOT NULL,   -- user | device (device id or hostname)
            key TEXT NOT NULL,
            team TEXT NOT NULL,
            PRIMARY KEY (kind, key)
        );
    """),
    Migration(12, "unknown tools queue", """
        CREATE TABLE unknown_tools (
            kind TEXT NOT NULL,               -- domain | process
            name TEXT NOT NULL,
            first_seen TEXT NOT NULL,
            last_seen TEXT NOT NULL,
            count INTEGER NOT NULL,
            devices TEXT NOT NULL DEFAULT '[]',  -- JSON, capped
            users TEXT NOT NULL DEFAULT '[]',    -- JSON, capped
            signals TEXT NOT NULL DEFAULT '[]',  -- JSON list of signal names
            score REAL NOT NULL DEFAULT 0,
            status TEXT NOT NULL DEFAULT 'new',  -- new | catalogued | approved | ignored
            tool_id TEXT,
            vendor TEXT,
            decided_by TEXT,
            decided_at TEXT,
            PRIMARY KEY (kind, name)
        );
        CREATE INDEX unknown_tools_queue ON unknown_tools(status, score);
    """),
    Migration(13, "SCM webhooks: merged changes, reviews, AI-marked commits", """
        CREATE TABLE scm_changes (
            provider TEXT NOT NULL,        -- github | gitlab
            repo TEXT NOT NULL,
            number INTEGER NOT NULL,
            title TEXT NOT NULL DEFAULT '',
            author TEXT NOT NULL,
            merged_by TEXT NOT NULL DEFAULT '',
            merged_at TEXT,
            merge_sha TEXT NOT NULL DEFAULT '',
            head_sha TEXT NOT NULL DEFAULT '',
            ai_agents TEXT NOT NULL DEFAULT '[]',   -- JSON list of catalog tool ids
            url TEXT NOT NULL DEFAULT '',
            deployed_to TEXT NOT NULL DEFAULT '[]', -- JSON list of environments
            alert_id INTEGER,
            PRIMARY KEY (provider, repo, number)
        );
        CREATE INDEX scm_changes_merge_sha ON scm_changes(merge_sha);
        CREATE TABLE scm_reviews (
            provider TEXT NOT NULL,
            repo TEXT NOT NULL,
            number INTEGER NOT NULL,
            reviewer TEXT NOT NULL,
            state TEXT NOT NULL,             -- approved | changes_requested | commented | unapproved
            at TEXT NOT NULL,
            PRIMARY KEY (provider, repo, number, reviewer)
        );
        CREATE TABLE scm_commits (           -- pushed commits carrying AI-authorship markers
            provider TEXT NOT NULL,
            repo TEXT NOT NULL,
            sha TEXT NOT NULL,
            ref TEXT NOT NULL,               -- the branch it was pushed to
            ai_agents TEXT NOT NULL,
            PRIMARY KEY (provider, repo, sha)
        );
        CREATE INDEX scm_commits_ref ON scm_commits(provider, repo, ref);
    """),
)


# ---- the record, outbound delivery (numbers 50-89) -------------------------------------

MIGRATIONS += (
    Migration(50, "record: hash-chained entries and signed retention checkpoints", """
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
    """),
    Migration(51, "outbound queue with dead letters; alert states already announced", """
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
    """),
)

MIGRATIONS += (
    Migration(52, "usage rollup for reports (backfilled from stored events)", """
        CREATE TABLE usage_daily (
            day TEXT NOT NULL,            -- YYYY-MM-DD (UTC) of the event
            tool_id TEXT NOT NULL,
            device_id TEXT NOT NULL,
            user TEXT NOT NULL,
            data_class TEXT NOT NULL,     -- '' = every event of the tool; else a class it carried
            blocked INTEGER NOT NULL,     -- 1: policy kept the data from the tool (block/redact)
            events INTEGER NOT NULL,
            PRIMARY KEY (day, tool_id, device_id, user, data_class, blocked)
        ) WITHOUT ROWID;
        INSERT INTO usage_daily (day, tool_id, device_id, user, data_class, blocked, events)
            SELECT substr(ts, 1, 10), json_extract(body, '$.data.tool_id'), device_id, user, '', 0, count(*)
            FROM events WHERE json_extract(body, '$.data.tool_id') IS NOT NULL
            GROUP BY 1, 2, 3, 4;
        INSERT INTO usage_daily (day, tool_id, device_id, user, data_class, blocked, events)
            SELECT substr(e.ts, 1, 10), json_extract(e.body, '$.data.tool_id'), e.device_id, e.user, c.value,
                   CASE WHEN json_extract(e.body, '$.data.action') IN ('block', 'redact') THEN 1 ELSE 0 END, count(*)
            FROM events e, json_each(e.body, '$.data.data_classes') c
            WHERE json_extract(e.body, '$.data.tool_id') IS NOT NULL
            GROUP BY 1, 2, 3, 4, 5, 6
    """),
)

MIGRATIONS += (
    Migration(53, "first day each tool was used (new vendors in reports)", """
        CREATE TABLE usage_first_seen (
            tool_id TEXT PRIMARY KEY,
            first_day TEXT NOT NULL
        ) WITHOUT ROWID;
        INSERT INTO usage_first_seen (tool_id, first_day)
            SELECT tool_id, min(day) FROM usage_daily GROUP BY tool_id
    """),
)

# ---- repo activity of AI agents, org catalog overlay (numbers 60-69) ----------------------
MIGRATIONS += (
    Migration(60, "AI coding agents seen working in repositories (ai_agent.repo_activity)", """
        CREATE TABLE agent_repo_activity (
            device_id TEXT NOT NULL,
            tool_id TEXT NOT NULL,
            repo TEXT NOT NULL,            -- shadowmap.contract.repo_names.normalise_repo: host/owner/name
            branch TEXT NOT NULL,          -- '' on a detached HEAD
            user TEXT NOT NULL,            -- the event's user
            process_user TEXT NOT NULL,    -- '' when the agent could not read it
            first_seen TEXT NOT NULL,
            last_seen TEXT NOT NULL,
            PRIMARY KEY (device_id, tool_id, repo, branch)
        ) WITHOUT ROWID;
        CREATE INDEX agent_repo_activity_repo ON agent_repo_activity(repo, branch, last_seen);
    """),
    Migration(61, "org catalog overlay: tools added from the unknown-tools queue", """
        CREATE TABLE catalog_overlay (
            kind TEXT NOT NULL,            -- domain | process
            name TEXT NOT NULL,            -- lowercase domain (no port) or process name
            tool_id TEXT NOT NULL,
            vendor TEXT NOT NULL,
            added_by TEXT NOT NULL,
            added_at TEXT NOT NULL,
            PRIMARY KEY (kind, name)
        ) WITHOUT ROWID;
        CREATE INDEX catalog_overlay_tool ON catalog_overlay(tool_id);
    """),
)

# ---- ingest performance (numbers 90-99) ----------------------------------------------------
MIGRATIONS += (
    # Every index on `events` is written for every stored event. No query filters events by
    # device alone (by type and time: events_type_ts; retention: events_received_at; by id: the key).
    Migration(90, "drop events_device: no query needs it, ingest writes it per event", """
        DROP INDEX IF EXISTS events_device;
    """),
)
MIGRATIONS += (
    # One row per ingest batch instead of one per event: the chain and every entry's hash stay
    # exactly as they were (export and verify see no difference), but ingest writes one row
    # and one ts index entry per batch. `record_entries` becomes a view of all entries, for
    # SQL by hand; the collector reads the two tables directly (the view cannot use an index
    # on seq for run entries).
    Migration(91, "record: event entries stored as one run per ingest batch", """
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
    """),
    # Keyed-hash sightings appended per batch and summed when read: an upsert keyed by the
    # random hash dirtied about 1.5 pages per new value; an append plus an 8-byte key index
    # about 0.5 (docs/collector.md, Performance). sighting_key() is registered by
    # apply_migrations (shadowmap.collector.hash_sightings.sighting_key).
    Migration(92, "hash sightings: appended, indexed by a 64-bit key of the hash", """
        CREATE TABLE hash_sightings_log (
            hash_key INTEGER NOT NULL,   -- sighting_key(hash): the index stays small; reads recheck hash
            hash TEXT NOT NULL,
            device_id TEXT NOT NULL,
            user TEXT NOT NULL,
            entity_type TEXT NOT NULL,
            first_seen TEXT NOT NULL,
            last_seen TEXT NOT NULL,
            count INTEGER NOT NULL
        );
        INSERT INTO hash_sightings_log
            SELECT sighting_key(hash), hash, device_id, user, entity_type, first_seen, last_seen, count
            FROM hash_sightings;
        DROP TABLE hash_sightings;
        ALTER TABLE hash_sightings_log RENAME TO hash_sightings;
        CREATE INDEX hash_sightings_key ON hash_sightings(hash_key);
    """),
)
