"""The organisation's detectors set in the console (table org_detector_versions, migration
190): every saved version is kept; the newest is the one the policy carries to the agents."""
from __future__ import annotations

import hashlib
import json
from typing import Any

import sqlite_utils

from shadowmap.collector.store.sqlite import locks
from shadowmap.collector.timestamps import utc_now


def digest(config: dict[str, Any]) -> str:
    """The sha256 of a config's canonical JSON (what the record names a version by)."""
    return hashlib.sha256(json.dumps(config, sort_keys=True, separators=(",", ":")).encode("utf-8")).hexdigest()


def current(db: sqlite_utils.Database) -> tuple[int, dict[str, Any]] | None:
    """(version, config) of the newest saved version; None while none was ever saved."""
    row = db.execute("SELECT version, config FROM org_detector_versions ORDER BY version DESC LIMIT 1").fetchone()
    return (int(row[0]), json.loads(row[1])) if row else None


def save(db: sqlite_utils.Database, config: dict[str, Any], actor: str) -> int:
    """Writer fn: store ``config`` (validated by the caller) as the next version; returns it.
    Two collector nodes saving at once take turns (PostgreSQL), so each gets its own number."""
    locks.lock_names(db, locks.ORG_DETECTORS, ["versions"])
    row = db.execute("SELECT COALESCE(MAX(version), 0) FROM org_detector_versions").fetchone()
    version = int(row[0]) + 1
    db.execute("INSERT INTO org_detector_versions (version, config, sha256, changed_by, changed_at) "
               "VALUES (?, ?, ?, ?, ?)",
               (version, json.dumps(config, sort_keys=True), digest(config), actor, utc_now()))
    return version


def history(db: sqlite_utils.Database, limit: int = 20) -> list[dict[str, Any]]:
    """The newest versions first: version, sha256, changed_by, changed_at (not the configs)."""
    return list(db.query("SELECT version, sha256, changed_by, changed_at FROM org_detector_versions "
                         "ORDER BY version DESC LIMIT ?", (limit,)))
