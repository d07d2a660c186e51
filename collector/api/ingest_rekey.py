"""Keyed hashes of personal data, keyed again with a pepper that never leaves the collector.

An agent hashes each matched value with the org key: HMAC-SHA256(org key, value). Every
package carries the enroll secret, and enrolling returns the org key, so anyone with a
package or a laptop can hash all 10^9 SSNs (or every phone number, card number, birth date
or directory email) and look the stored hashes up. So at ingest, before an event is stored,
chained or exported, the collector replaces each hash of a low-entropy class (pii,
payment) with HMAC-SHA256(pepper, hash). The pepper is random, made once, sealed in the
database with the secrets key (secret_box) and sent nowhere: not to agents, not to sinks.
The org key alone no longer finds anything, and since the re-keying is deterministic the
same value still correlates across devices and users. Secrets (API keys, tokens) are high
entropy, nothing to guess: their hashes are kept as sent (so a leaked key can be looked up).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import os
import weakref
from typing import Any

import sqlite_utils

from shadowmap.collector import secret_box
from shadowmap.collector.store.sqlite import org

PEPPER_SETTING = "hash_pepper"
# classes whose values are guessable by enumeration (schema/enums.v1.json data_class)
LOW_ENTROPY_CLASSES = frozenset({"pii", "payment"})


def load_or_create_pepper(db: sqlite_utils.Database) -> bytes:
    """Writer fn: the collector's pepper, made (and sealed) on first use."""
    stored = org.setting(db, PEPPER_SETTING)
    if stored is None:
        stored = secret_box.seal(PEPPER_SETTING, base64.b64encode(os.urandom(32)).decode())
        org.set_setting(db, PEPPER_SETTING, stored)
    return base64.b64decode(secret_box.unseal(PEPPER_SETTING, stored))


# the pepper of each open store, read once (a store is one collector's database)
_PEPPERS: weakref.WeakKeyDictionary[Any, bytes] = weakref.WeakKeyDictionary()


async def pepper_of(store: Any) -> bytes:
    """The store's pepper, read (or made) once per store."""
    pepper = _PEPPERS.get(store)
    if pepper is None:
        pepper = await store.write(load_or_create_pepper)
        _PEPPERS[store] = pepper
    return pepper


def rekey(pepper: bytes, value_hash: str) -> str:
    """The stored form of an agent's keyed hash (64 hex digits, like the one it replaces)."""
    return hmac.new(pepper, bytes.fromhex(value_hash), hashlib.sha256).hexdigest()


def rekey_event(event: dict, pepper: bytes) -> None:
    """Re-key, in place, the hashes of the event's low-entropy findings (validated events only:
    each hash is 64 hex digits)."""
    data = event.get("data")
    findings = data.get("findings") if isinstance(data, dict) else None
    for finding in findings or ():
        if finding.get("data_class") in LOW_ENTROPY_CLASSES and finding.get("hashes"):
            finding["hashes"] = [rekey(pepper, value_hash) for value_hash in finding["hashes"]]
