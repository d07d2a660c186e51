"""Ingest's write. A batch is stored in one transaction (store_events): the events not
stored before, then, for those only, what is the device's own (the org overlay's tool
names, repo activity, keyed-hash sightings, the device watch, AI sessions, the device's
touch). What batches of every device share (alerts, the usage rollup, the record's chain)
is the ingest lane's (shadowmap.collector.api.ingest_lane): on SQLite in the same
transaction (store_batch), on PostgreSQL in a pass a node makes for all the batches
waiting for it, after their own transactions committed."""
from __future__ import annotations

import json
from dataclasses import dataclass, field

import sqlite_utils

from shadowmap.collector.alerts import catalog_overlay, hash_sightings, protection, repo_activity
from shadowmap.collector.alerts.raising import AlertInputs
from shadowmap.collector.api.ingest_parse import Batch
from shadowmap.collector.api.sessions import record_sessions
from shadowmap.collector.store.sqlite import devices, events, ingest_lane, node_keys
from shadowmap.collector.store.sqlite import usage_rollup as usage
from shadowmap.collector.timestamps import utc_now


@dataclass
class LaneWork:
    """What the ingest lane does for one stored batch: raise its alerts, count it in the
    usage rollup, chain its events in the record."""
    items: list[tuple[dict, str]]            # (event, normalised ts): what alert raising reads
    fresh: list[tuple[dict, str, str]]       # (event, ts, body): what the rollup reads
    alert_inputs: AlertInputs | None         # worked out by the parse worker, when it still holds
    usage_counts: usage.Counts | None
    record_rows: list[tuple[str, str, str]]  # (event id, device id, body digest)
    lane_id: str | None = None               # its ingest_lane row (PostgreSQL), claimed by the pass
    device_id: str = ""
    adopt: list[str] = field(default_factory=list)  # ids this device stored before (a retry)


def store_events(db: sqlite_utils.Database, batch: Batch, device_id: str, node_key_hash: str | None = None,
                 queue: bool = True) -> tuple[int, LaneWork]:
    """Writer fn: insert the events not stored before and what of them is this device's
    alone. Returns how many were new and the lane's work for them; ``queue``: the work is
    also kept in ingest_lane, in this transaction, so that it is done even when this node
    dies before its lane pass (another node's pass or sweep claims it). Events whose id
    another device's event holds already move from ``batch.acked`` to ``batch.rejected``
    (the answer's). ``node_key_hash``: the key the request came with (looked up from a
    node's cache): the touch checks it is still the device's, unrevoked, else
    NodeKeyRefused rolls it all back."""
    acked, digests, special = batch.acked, batch.digests, batch.special
    # Insert first and count what was new: the usual batch is all new, then no lookup is needed.
    top, added = events.insert_batch(db, batch.rows_json, batch.bodies, device_id, batch.received_at)
    all_new = added == len(acked)
    adopt: list[str] = []
    if not all_new:
        new_ids = events.ids_after(db, top)
        kept = [index for index, event_id in enumerate(acked) if event_id in new_ids]
        old = [event_id for event_id in acked if event_id not in new_ids]
        acked, digests = [acked[index] for index in kept], [digests[index] for index in kept]
        _reject_foreign_ids(db, batch, device_id, new_ids)  # (batch.acked: the answer; acked: a copy)
        adopt = [event_id for event_id in old if event_id in batch.acked]  # this device's own, stored before
        special = [item for item in special if item[0]["id"] in new_ids]
    named = catalog_overlay.attribute(db, special)  # org overlay names unattributed tools, before alerts + rollup
    if not all_new or named or batch.alert_inputs is None:
        # The worker's sums cover other events or other tools: work them out here, from the
        # new events as stored (the same JSON text the worker read), in the order received.
        stored = {event_id: (ts, body) for event_id, ts, body in events.stored_after(db, top)}
        fresh = [(json.loads(stored[event_id][1]), *stored[event_id]) for event_id in acked]
        catalog_overlay.attribute(db, fresh)
        items = [(event, ts) for event, ts, _ in fresh]
        sightings, alert_inputs, usage_counts = None, None, None
    else:
        fresh = special
        items = [(event, ts) for event, ts, _ in special]
        sightings, alert_inputs, usage_counts = batch.sighting_rows, batch.alert_inputs, batch.usage_counts
    repo_activity.record(db, fresh)  # ai_agent.repo_activity rows, joined by the SCM merge check
    hash_sightings.append(db, hash_sightings.rows(hash_sightings.sightings_of(items)) if sightings is None
                          else sightings)
    protection.note_events(db, items)  # heartbeats' extension states, planned stops, devices back
    record_sessions(db, items)         # AI coding sessions and the lines they wrote
    if node_key_hash is None:
        devices.touch(db, device_id, utc_now())
    else:
        node_keys.touch_if_current(db, device_id, node_key_hash, utc_now())
    record_rows = [(event_id, device_id, digest) for event_id, digest in zip(acked, digests, strict=True)]
    work = LaneWork(items, fresh, alert_inputs, usage_counts, record_rows, device_id=device_id, adopt=adopt)
    if queue and record_rows:
        work.lane_id = ingest_lane.enqueue(db, device_id, record_rows)
    return len(acked), work


# An event id names one event of one device. When another device's event holds it already,
# acknowledging it would make the agent drop an event that was never stored (issue 16,
# item 13): it is rejected instead, with the reason, and the agent's copy stays in its spool
# for someone to look at. (Stored under a second key it would be two events with one id,
# which the record's subjects and alert evidence, keyed by event id, cannot tell apart.)
FOREIGN_ID = "event id already used by another device's event; not stored"


def _reject_foreign_ids(db: sqlite_utils.Database, batch: Batch, device_id: str, new_ids: set[str]) -> None:
    old = [event_id for event_id in batch.acked if event_id not in new_ids]
    foreign = events.ids_of_other_devices(db, old, device_id) if old else set()
    if foreign:
        batch.acked[:] = [event_id for event_id in batch.acked if event_id not in foreign]
        batch.rejected.extend({"id": event_id, "error": FOREIGN_ID} for event_id in sorted(foreign))
