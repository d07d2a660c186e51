"""Keyed-hash sightings, appended one row per hash x device x user x entity type per ingest
batch and summed when read, indexed by a 64-bit key of the hash (reads recheck the hash)."""
from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

import sqlite_utils

from shadowmap.collector.store.sqlite.sql_rows import execute_rows, insert_sql

# Rows as appended: (key, hash, device, user, entity type, first seen, last seen, count)
SightingRow = tuple[int, str, str, str, str, str, str, int]
MAX_CORRELATED = 2000  # hashes looked up at most per read

APPEND = insert_sql(
    "INSERT INTO hash_sightings (hash_key, hash, device_id, user, entity_type, first_seen, last_seen, count)", 8)


def sighting_key(value_hash: str) -> int:
    """The index key of a hash: the first 64 bits of its BLAKE2b digest, as SQLite's signed integer.
    Migration 0092 keyed the rows stored before it with its own frozen copy: the two must agree."""
    return int.from_bytes(hashlib.blake2b(value_hash.encode(), digest_size=8).digest(), "big", signed=True)


def append(db: sqlite_utils.Database, sighting_rows: Sequence[SightingRow]) -> None:
    """Writer fn (part of the ingest transaction)."""
    execute_rows(db.conn, APPEND, sighting_rows)


def correlation(db: sqlite_utils.Database, hashes: Sequence[str]) -> list[dict[str, Any]]:
    """For each of these keyed hashes (sorted; at most MAX_CORRELATED are looked up): on how
    many devices and for how many users the value was seen, how often, first and last."""
    if not hashes:
        return []
    hashes = list(hashes)[:MAX_CORRELATED]
    return list(db.query(
        "SELECT hash, entity_type, count(DISTINCT device_id) AS devices, count(DISTINCT user) AS users, "
        "sum(count) AS sightings, min(first_seen) AS first_seen, max(last_seen) AS last_seen FROM hash_sightings "
        "WHERE hash_key IN (SELECT CAST(value AS BIGINT) FROM json_each(?)) AND hash IN (SELECT value FROM json_each(?)) "
        "GROUP BY hash, entity_type ORDER BY devices DESC, sightings DESC",
        (json.dumps([sighting_key(h) for h in hashes]), json.dumps(hashes))))
