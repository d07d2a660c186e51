"""ingest_lane (migration 230): batches whose events are stored but whose lane work (alerts,
usage rollup, the record's chain) is not done yet. On PostgreSQL a batch's transaction
queues its row and the node's next lane pass claims it; a row still here after a node died
is claimed by the agent's retry of the batch (on any node) or by the sweep. Claiming is
deleting: the row's lock makes a second claimer wait, then find it gone, so each batch's
work is done once across the fleet."""
from __future__ import annotations

import json
import secrets

import sqlite_utils

from shadowmap.collector.timestamps import utc_now

Rows = list[tuple[str, str, str]]  # (event id, device id, body digest): the record's


def enqueue(db: sqlite_utils.Database, device_id: str, rows: Rows) -> str:
    """Writer fn: queue a stored batch's lane work; returns its lane id."""
    lane_id = secrets.token_hex(12)
    db.execute("INSERT INTO ingest_lane (id, device_id, event_rows, queued_at) VALUES (?, ?, ?, ?)",
               (lane_id, device_id, json.dumps([[event_id, digest] for event_id, _, digest in rows]), utc_now()))
    return lane_id


def claim(db: sqlite_utils.Database, lane_ids: list[str]) -> dict[str, Rows]:
    """Writer fn: take these queued batches (those still queued): lane id -> their rows.
    Rows are locked in id order, so two claimers never wait on each other in a circle."""
    if not lane_ids:
        return {}
    claimed = db.execute("DELETE FROM ingest_lane WHERE id IN (SELECT value FROM json_each(?))"
                         " RETURNING id, device_id, event_rows", (json.dumps(sorted(lane_ids)),)).fetchall()
    return {str(lane_id): [(event_id, str(device_id), digest) for event_id, digest in json.loads(rows)]
            for lane_id, device_id, rows in claimed}


def holding(db: sqlite_utils.Database, wanted: dict[str, list[str]]) -> list[str]:
    """The queued batches of these devices that hold any of their events (device id ->
    event ids): retries of batches whose node died before its lane pass."""
    if not wanted:
        return []
    ids = {device_id: set(event_ids) for device_id, event_ids in wanted.items()}
    return [str(lane_id) for lane_id, device_id, rows in db.execute(
        "SELECT id, device_id, event_rows FROM ingest_lane WHERE device_id IN (SELECT value FROM json_each(?))",
        (json.dumps(sorted(ids)),)).fetchall()
        if any(event_id in ids[device_id] for event_id, _ in json.loads(rows))]


def queued_before(db: sqlite_utils.Database, before: str, limit: int) -> list[str]:
    """The oldest queued batches, queued before ``before``, at most ``limit`` of them."""
    return [str(row[0]) for row in db.execute(
        "SELECT id FROM ingest_lane WHERE queued_at < ? ORDER BY queued_at LIMIT ?", (before, limit)).fetchall()]


def depth(db: sqlite_utils.Database) -> int:
    """Batches queued (a gauge: stays near zero unless lane passes fail or a node died)."""
    return int(db.execute("SELECT count(*) FROM ingest_lane").fetchone()[0])
