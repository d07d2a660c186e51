"""Retention of event details: events received before the company's retention horizon are
deleted from `events`; the record keeps their entry headers (with the sha256 of each
detail), so the chain still verifies, and each run is itself an entry followed by a
checkpoint of the chain head signed with the record key."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlite_utils
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from shadowmap.collector.record import chain, keys
from shadowmap.collector.record.bundle import checkpoint_payload
from shadowmap.collector.store.sqlite import org
from shadowmap.collector.store.sqlite import record as record_store

RETENTION_SETTING = "record_event_retention_days"
DEFAULT_EVENT_RETENTION_DAYS = 400
MAX_RETENTION_DAYS = 36500


def event_retention_days(db: sqlite_utils.Database) -> int:
    value = org.setting(db, RETENTION_SETTING)
    return int(value) if value is not None and value.isdigit() else DEFAULT_EVENT_RETENTION_DAYS


def set_event_retention_days(db: sqlite_utils.Database, days: int) -> None:
    """Writer fn: how long event details are kept (days)."""
    if not 1 <= days <= MAX_RETENTION_DAYS:
        raise ValueError(f"retention must be 1..{MAX_RETENTION_DAYS} days")
    org.set_setting(db, RETENTION_SETTING, str(days))


def horizon(days: int, now: datetime | None = None) -> str:
    moment = (now or datetime.now(UTC)) - timedelta(days=days)
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


def purge(db: sqlite_utils.Database, key: Ed25519PrivateKey, before: str | None = None,
          now: datetime | None = None) -> dict:
    """Writer fn: delete event details received before ``before`` (default: the configured
    horizon), record the run and sign a checkpoint of the chain head. Returns the checkpoint.
    Nothing newer than the horizon is ever purged: a later ``before`` is refused. (Verify
    accepts a missing event body only under such a checkpoint: chain.PurgeRules.)"""
    now = now or datetime.now(UTC)
    days = event_retention_days(db)
    limit = horizon(days, now)
    before = before or limit
    if before > limit:
        raise ValueError(f"purging before {before} would cut inside the {days}-day retention (horizon {limit})")
    purged = record_store.delete_events_received_before(db, before)
    chain.append(db, "retention", "events", "system",
                 {"purged_before": before, "purged_events": purged, "retention_days": days})
    seq, head_hash = chain.head(db)
    created_at = now.isoformat(timespec="microseconds").replace("+00:00", "Z")
    checkpoint = {"seq": seq, "entry_hash": head_hash, "created_at": created_at, "reason": "retention",
                  "purged_before": before, "purged_events": purged}
    checkpoint["signature"] = keys.sign(key, checkpoint_payload(checkpoint))
    record_store.save_checkpoint(db, checkpoint)
    return checkpoint
