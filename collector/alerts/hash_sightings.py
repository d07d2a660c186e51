"""Keyed-hash sightings: where each keyed hash of a detected value was seen (device, user,
entity type, first/last seen, count), so one leaked value can be followed across devices
without anyone knowing it ("this secret was pasted on 3 devices").

Appended, one row per hash x device x user x entity type per ingest batch, and summed when
read. The index is on a 64-bit key of the hash, not the hash: keyed hashes are random, so
an upsert keyed by the hash itself dirtied about 1.5 random pages per new value; an append
plus a small-key index about 0.5 (docs/collector.md, Performance). Reads recheck the full
hash, so two values sharing a key are never mixed up. The key is a BLAKE2b digest of the
hash string, so a device cannot aim its values at another value's key."""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable

import sqlite_utils

from shadowmap.collector.store.sqlite.sql_rows import execute_rows, insert_sql

# (hash, device, user, entity type) -> [first seen, last seen, count]
Sightings = dict[tuple[str, str, str, str], list]
# Rows as appended: (key, hash, device, user, entity type, first seen, last seen, count)
SightingRow = tuple[int, str, str, str, str, str, str, int]

APPEND = insert_sql(
    "INSERT INTO hash_sightings (hash_key, hash, device_id, user, entity_type, first_seen, last_seen, count)", 8)


def sighting_key(value_hash: str) -> int:
    """The index key of a hash: the first 64 bits of its BLAKE2b digest, as SQLite's signed integer.
    Migration 0092 keyed the rows stored before it with its own frozen copy: the two must agree."""
    return int.from_bytes(hashlib.blake2b(value_hash.encode(), digest_size=8).digest(),
                          "big", signed=True)


def sightings_of(events: Iterable[tuple[dict, str]]) -> Sightings:
    """Where each keyed hash was seen in these events, given as (event, normalised ts)
    (pure: ingest sums it up in a parse worker)."""
    sightings: Sightings = {}
    for event, ts in events:
        for finding in (event.get("data") or {}).get("findings") or []:
            for value_hash in finding.get("hashes") or []:
                key = (value_hash, event["device_id"], event["user"], finding["entity_type"])
                seen = sightings.get(key)
                if seen is None:
                    sightings[key] = [ts, ts, 1]
                else:
                    seen[0], seen[1], seen[2] = min(seen[0], ts), max(seen[1], ts), seen[2] + 1
    return sightings


def rows(sightings: Sightings) -> list[SightingRow]:
    """The rows to append, in key order (neighbouring index pages are written together)."""
    return sorted((sighting_key(key[0]), *key, first, last, count) for key, (first, last, count) in sightings.items())


def append(db: sqlite_utils.Database, sighting_rows: list[SightingRow]) -> None:
    """Writer fn (part of the ingest transaction)."""
    execute_rows(db.conn, APPEND, sighting_rows)


def correlation(db: sqlite_utils.Database, events: list[dict]) -> list[dict]:
    """For each keyed hash in these events (as stored, JSON decoded): on how many devices and
    for how many users the same value was seen (anywhere, not only in these events)."""
    hashes = sorted({h for event in events for f in event["data"].get("findings") or [] for h in f.get("hashes") or []})
    if not hashes:
        return []
    hashes = hashes[:2000]
    return list(db.query(
        "SELECT hash, entity_type, count(DISTINCT device_id) AS devices, count(DISTINCT user) AS users, "
        "sum(count) AS sightings, min(first_seen) AS first_seen, max(last_seen) AS last_seen FROM hash_sightings "
        "WHERE hash_key IN (SELECT value FROM json_each(?)) AND hash IN (SELECT value FROM json_each(?)) "
        "GROUP BY hash, entity_type ORDER BY devices DESC, sightings DESC",
        (json.dumps([sighting_key(h) for h in hashes]), json.dumps(hashes))))
