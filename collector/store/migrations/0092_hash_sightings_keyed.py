"""hash sightings: appended, indexed by a 64-bit key of the hash

Keyed-hash sightings appended per batch and summed when read: an upsert keyed by the
random hash dirtied about 1.5 pages per new value; an append plus an 8-byte key index
about 0.5 (docs/collector.md, Performance).

sighting_key() is frozen here as it was when this migration shipped; ingest's own copy
(shadowmap.collector.alerts.hash_sightings.sighting_key) must keep computing the same
keys, and a test checks that it does. This file imports nothing of the collector."""
from __future__ import annotations

import hashlib
import sqlite3

NAME = "hash sightings: appended, indexed by a 64-bit key of the hash"

SQL = (
    """CREATE TABLE hash_sightings_log (
        hash_key INTEGER NOT NULL,   -- sighting_key(hash): the index stays small; reads recheck hash
        hash TEXT NOT NULL,
        device_id TEXT NOT NULL,
        user TEXT NOT NULL,
        entity_type TEXT NOT NULL,
        first_seen TEXT NOT NULL,
        last_seen TEXT NOT NULL,
        count INTEGER NOT NULL
    )""",
    """INSERT INTO hash_sightings_log
        SELECT sighting_key(hash), hash, device_id, user, entity_type, first_seen, last_seen, count
        FROM hash_sightings""",
    "DROP TABLE hash_sightings",
    "ALTER TABLE hash_sightings_log RENAME TO hash_sightings",
    "CREATE INDEX hash_sightings_key ON hash_sightings(hash_key)",
)


def sighting_key(value_hash: str) -> int:
    """The first 64 bits of the BLAKE2b digest of the hash, as SQLite's signed integer."""
    return int.from_bytes(hashlib.blake2b(value_hash.encode(), digest_size=8).digest(), "big", signed=True)


def up(conn: sqlite3.Connection) -> None:
    conn.create_function("sighting_key", 1, sighting_key, deterministic=True)
    for statement in SQL:
        conn.execute(statement)
