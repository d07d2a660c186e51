"""The node-key check made inside a request's own transaction, so a node key cached by a
collector node (api/node_keys.py) is never trusted past a revocation or a re-enrolment."""
from __future__ import annotations

import sqlite_utils


class NodeKeyRefused(Exception):
    """The device's node key was revoked or replaced: the transaction is rolled back."""


def touch_if_current(db: sqlite_utils.Database, device_id: str, key_hash: str, now: str) -> None:
    """Writer fn, part of ingest's transaction: the device was heard from, with this key,
    still its key and not revoked; else NodeKeyRefused (nothing of the batch is kept). On
    PostgreSQL the UPDATE waits for a revocation in flight and then sees it."""
    changed = db.execute("UPDATE devices SET last_seen = ? WHERE device_id = ? AND node_key_hash = ? AND revoked = 0",
                         (now, device_id, key_hash)).rowcount
    if changed < 1:
        raise NodeKeyRefused(device_id)


def is_current(db: sqlite_utils.Database, device_id: str, key_hash: str) -> bool:
    """Reader fn: the key is still the device's, unrevoked."""
    return db.execute("SELECT 1 FROM devices WHERE device_id = ? AND node_key_hash = ? AND revoked = 0",
                      (device_id, key_hash)).fetchone() is not None
