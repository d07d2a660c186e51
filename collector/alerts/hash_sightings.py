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

from collections.abc import Iterable

import sqlite_utils

from shadowmap.collector.store.sqlite import hash_sightings as stored_sightings
from shadowmap.collector.store.sqlite.hash_sightings import SightingRow, append, sighting_key

__all__ = ["SightingRow", "Sightings", "append", "correlation", "rows", "sighting_key", "sightings_of"]

# (hash, device, user, entity type) -> [first seen, last seen, count]
Sightings = dict[tuple[str, str, str, str], list]


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


def correlation(db: sqlite_utils.Database, events: list[dict]) -> list[dict]:
    """For each keyed hash in these events (as stored, JSON decoded): on how many devices and
    for how many users the same value was seen (anywhere, not only in these events)."""
    hashes = sorted({h for event in events for f in event["data"].get("findings") or [] for h in f.get("hashes") or []})
    return stored_sightings.correlation(db, hashes)
