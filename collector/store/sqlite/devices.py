"""Enrolled devices. Node keys are stored as their sha256 only."""
from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass

import sqlite_utils

from shadowmap.collector.timestamps import utc_now


@dataclass(frozen=True)
class Device:
    device_id: str
    hostname: str


@dataclass(frozen=True)
class Enrollment:
    device_id: str
    node_key: str


def hash_node_key(node_key: str) -> str:
    return hashlib.sha256(node_key.encode("utf-8")).hexdigest()


def enroll(db: sqlite_utils.Database, host_identifier: str, hostname: str, os_name: str) -> Enrollment:
    """Writer fn: a new node key for this host. A host enrolling again keeps its device id
    and gets a fresh key; the old key stops working (that is how re-enrollment is forced)."""
    node_key = secrets.token_urlsafe(32)
    now = utc_now()
    existing = list(db.query("SELECT device_id FROM devices WHERE host_identifier = ?", (host_identifier,)))
    if existing:
        device_id = str(existing[0]["device_id"])
        db.execute(
            "UPDATE devices SET hostname = ?, os = ?, node_key_hash = ?, enrolled_at = ?, revoked = 0 "
            "WHERE device_id = ?",
            (hostname, os_name, hash_node_key(node_key), now, device_id),
        )
    else:
        device_id = str(uuid.uuid4())
        db.execute(
            "INSERT INTO devices (device_id, host_identifier, hostname, os, node_key_hash, enrolled_at, revoked) "
            "VALUES (?, ?, ?, ?, ?, ?, 0)",
            (device_id, host_identifier, hostname, os_name, hash_node_key(node_key), now),
        )
    return Enrollment(device_id=device_id, node_key=node_key)


def revoke(db: sqlite_utils.Database, device_id: str) -> None:
    """Writer fn: invalidate the device's node key; its agent is told to re-enroll."""
    db.execute("UPDATE devices SET revoked = 1 WHERE device_id = ?", (device_id,))


def device_by_node_key_hash(db: sqlite_utils.Database, key_hash: str) -> Device | None:
    """The device holding this (unrevoked) node key."""
    rows = list(db.query("SELECT device_id, hostname FROM devices WHERE node_key_hash = ? AND revoked = 0", (key_hash,)))
    return Device(rows[0]["device_id"], rows[0]["hostname"]) if rows else None


def touch(db: sqlite_utils.Database, device_id: str, now: str) -> None:
    """Writer fn: the device was heard from."""
    db.execute("UPDATE devices SET last_seen = ? WHERE device_id = ?", (now, device_id))
