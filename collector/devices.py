"""Enrolled devices: node keys (only their sha256 is stored) and request authentication."""
from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass

import sqlite_utils
from aiohttp import web

from shadowmap.collector.http import bearer_token, utc_now
from shadowmap.collector.state import STORE

MAX_NODE_KEY_LENGTH = 256


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
        device_id = existing[0]["device_id"]
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


def _find_by_key_hash(key_hash: str):
    def query(db: sqlite_utils.Database) -> Device | None:
        rows = list(db.query(
            "SELECT device_id, hostname FROM devices WHERE node_key_hash = ? AND revoked = 0", (key_hash,)
        ))
        return Device(rows[0]["device_id"], rows[0]["hostname"]) if rows else None
    return query


async def authenticate_device(request: web.Request) -> Device | None:
    """The device whose node key is in the Authorization header, or None."""
    token = bearer_token(request)
    if token is None or len(token) > MAX_NODE_KEY_LENGTH:
        return None
    return await request.app[STORE].read(_find_by_key_hash(hash_node_key(token)))
