"""Enrolled devices and the enrollment requests an admin decides. Node keys and request
tokens are stored as their sha256 only.

A device is one agent: (host identifier, mode, OS user in user mode). The enroll secret
ships in every package, so it only buys a *new* identity. Re-enrolling a known one needs
the device's current node key; without it the enrollment becomes a request an admin
approves (console or CLI), and the device, its key and a revocation stay as they are.
"""
from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from shadowmap.collector.timestamps import utc_now

MODES = ("system", "user")


@dataclass(frozen=True)
class Device:
    device_id: str
    hostname: str
    mode: str = "system"
    os_user: str = ""        # the OS user a user-mode device's node key is bound to


@dataclass(frozen=True)
class Identity:
    host_identifier: str
    mode: str
    os_user: str             # '' in system mode


@dataclass(frozen=True)
class Enrollment:
    """What an enrollment gives: a device and its node key, or a pending request."""
    device_id: str | None
    node_key: str | None
    request_id: str | None = None

    @property
    def pending(self) -> bool:
        return self.node_key is None


def hash_node_key(node_key: str) -> str:
    return hashlib.sha256(node_key.encode("utf-8")).hexdigest()


def _device_row(db: sqlite_utils.Database, identity: Identity) -> dict[str, Any] | None:
    rows = list(db.query(
        "SELECT device_id, node_key_hash, revoked FROM devices WHERE host_identifier = ? AND mode = ? AND os_user = ?",
        (identity.host_identifier, identity.mode, identity.os_user)))
    return rows[0] if rows else None


def _new_key(db: sqlite_utils.Database, device_id: str, hostname: str, os_name: str) -> Enrollment:
    node_key = secrets.token_urlsafe(32)
    db.execute("UPDATE devices SET hostname = ?, os = ?, node_key_hash = ?, enrolled_at = ?, revoked = 0 "
               "WHERE device_id = ?", (hostname, os_name, hash_node_key(node_key), utc_now(), device_id))
    return Enrollment(device_id, node_key)


def enroll(db: sqlite_utils.Database, identity: Identity, hostname: str, os_name: str,
           node_key: str | None = None, request_token: str | None = None, remote: str = "") -> Enrollment:
    """Writer fn. A new identity is enrolled at once. A known one gets a fresh key when it
    shows its current, unrevoked key, or when an admin approved this agent's request;
    otherwise a pending request is left and nothing about the device changes."""
    row = _device_row(db, identity)
    if row is None:
        device_id, key = str(uuid.uuid4()), secrets.token_urlsafe(32)
        db.execute(
            "INSERT INTO devices (device_id, host_identifier, mode, os_user, hostname, os, node_key_hash, "
            "enrolled_at, revoked) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0)",
            (device_id, identity.host_identifier, identity.mode, identity.os_user, hostname, os_name,
             hash_node_key(key), utc_now()))
        return Enrollment(device_id, key)
    device_id = str(row["device_id"])
    if node_key and not row["revoked"] and secrets.compare_digest(hash_node_key(node_key), row["node_key_hash"]):
        return _new_key(db, device_id, hostname, os_name)
    if not request_token:
        return Enrollment(None, None)        # an old agent: nothing an admin could approve
    token_hash = hash_node_key(request_token)
    found = list(db.query(
        "SELECT request_id, status FROM enrollment_requests WHERE host_identifier = ? AND mode = ? "
        "AND os_user = ? AND token_hash = ?",
        (identity.host_identifier, identity.mode, identity.os_user, token_hash)))
    if found and found[0]["status"] == "approved":
        db.execute("UPDATE enrollment_requests SET status = 'done' WHERE request_id = ?", (found[0]["request_id"],))
        return _new_key(db, device_id, hostname, os_name)
    if found:
        return Enrollment(None, None, str(found[0]["request_id"]))
    request_id = str(uuid.uuid4())
    db.execute(
        "INSERT INTO enrollment_requests (request_id, host_identifier, mode, os_user, device_id, hostname, os, "
        "token_hash, remote, requested_at, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending')",
        (request_id, identity.host_identifier, identity.mode, identity.os_user, device_id, hostname[:253],
         os_name[:128], token_hash, remote[:128], utc_now()))
    return Enrollment(None, None, request_id)


def revoke(db: sqlite_utils.Database, device_id: str) -> bool:
    """Writer fn: the device's node key stops working, and stays stopped: only an approved
    enrollment request gives the device a key again."""
    return db.execute("UPDATE devices SET revoked = 1 WHERE device_id = ?", (device_id,)).rowcount > 0


def decide_request(db: sqlite_utils.Database, request_id: str, approve: bool, actor: str) -> bool:
    """Writer fn: approve or reject a pending enrollment request; False if there is none."""
    status = "approved" if approve else "rejected"
    return db.execute(
        "UPDATE enrollment_requests SET status = ?, decided_by = ?, decided_at = ? "
        "WHERE request_id = ? AND status = 'pending'", (status, actor, utc_now(), request_id)).rowcount > 0


def list_devices(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    return list(db.query(
        "SELECT device_id, hostname, mode, os_user, os, enrolled_at, last_seen, revoked FROM devices "
        "ORDER BY hostname, mode, os_user"))


def list_requests(db: sqlite_utils.Database, status: str = "pending") -> list[dict[str, Any]]:
    return list(db.query(
        "SELECT r.request_id, r.device_id, r.hostname, r.mode, r.os_user, r.os, r.remote, r.requested_at, "
        "r.status, d.revoked FROM enrollment_requests r LEFT JOIN devices d ON d.device_id = r.device_id "
        "WHERE r.status = ? ORDER BY r.requested_at", (status,)))


ASSERTING_SHOWN = 50


def asserting(db: sqlite_utils.Database, device_ids: list[str]) -> list[dict[str, Any]]:
    """The devices that reported an alert's events, with the mode each ran in: whether the
    users were vouched for by a system agent (from the OS) or by a user agent's bound key."""
    wanted = list(dict.fromkeys(device_ids))[:ASSERTING_SHOWN]
    if not wanted:
        return []
    marks = ", ".join("?" for _ in wanted)
    return list(db.query(f"SELECT device_id, hostname, mode, os_user, revoked FROM devices WHERE device_id IN ({marks}) "
                         "ORDER BY hostname, mode, os_user", wanted))


def device_by_node_key_hash(db: sqlite_utils.Database, key_hash: str) -> Device | None:
    """The device holding this (unrevoked) node key."""
    rows = list(db.query("SELECT device_id, hostname, mode, os_user FROM devices WHERE node_key_hash = ? AND revoked = 0",
                         (key_hash,)))
    if not rows:
        return None
    row = rows[0]
    return Device(row["device_id"], row["hostname"], row["mode"], row["os_user"])


def touch(db: sqlite_utils.Database, device_id: str, now: str) -> None:
    """Writer fn: the device was heard from."""
    db.execute("UPDATE devices SET last_seen = ? WHERE device_id = ?", (now, device_id))
