"""Ingest's write, one transaction per batch on the store's writer: insert the events not
stored before, then for those only: the org overlay's tool names, repo activity, alerts,
keyed-hash sightings, the record and the usage rollup; the device is touched."""
from __future__ import annotations

import json

import sqlite_utils

from shadowmap.collector import record
from shadowmap.collector.alerts import catalog_overlay, hash_sightings, protection, repo_activity
from shadowmap.collector.alerts.raising import ALL_USERS, gather, raise_gathered
from shadowmap.collector.api.ingest_parse import Batch
from shadowmap.collector.api.sessions import record_sessions
from shadowmap.collector.store.sqlite import devices, events, locks, node_keys
from shadowmap.collector.store.sqlite import usage_rollup as usage
from shadowmap.collector.timestamps import utc_now


def store_batch(db: sqlite_utils.Database, batch: Batch, device_id: str, node_key_hash: str | None = None) -> int:
    """Writer fn, one transaction: insert events not stored before, raise their alerts,
    touch the device. Returns how many events were new. Events whose id another device's
    event holds already move from ``batch.acked`` to ``batch.rejected`` (the answer's).
    ``node_key_hash``: the key the request came with (looked up from a node's cache): the
    touch checks it is still the device's, unrevoked, else NodeKeyRefused rolls it all back."""
    acked, digests, special = batch.acked, batch.digests, batch.special
    # Insert first and count what was new: the usual batch is all new, then no lookup is needed.
    top, added = events.insert_batch(db, batch.rows_json, batch.bodies, device_id, batch.received_at)
    all_new = added == len(acked)
    if not all_new:
        new_ids = events.ids_after(db, top)
        kept = [index for index, event_id in enumerate(acked) if event_id in new_ids]
        acked, digests = [acked[index] for index in kept], [digests[index] for index in kept]
        _reject_foreign_ids(db, batch, device_id, new_ids)  # (batch.acked: the answer; acked: a copy)
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
    # First what is this device's alone (its rows, appended sightings) and what only reads;
    # then, under the lock, what batches of other devices share.
    gathered = gather(db, items, alert_inputs)
    hash_sightings.append(db, hash_sightings.rows(hash_sightings.sightings_of(items)) if sightings is None
                          else sightings)
    protection.note_events(db, items)  # heartbeats' extension states, planned stops, devices back
    record_sessions(db, items)         # AI coding sessions and the lines they wrote
    if node_key_hash is None:
        devices.touch(db, device_id, utc_now())
    else:
        node_keys.touch_if_current(db, device_id, node_key_hash, utc_now())
    # Several nodes: batches raise their alerts one after the other (each sees the other's
    # alert and bumps it, never a second). Per-user locks were not enough: any batch may bump
    # an org-wide alert (a vendor's) and the rollup's shared rows, and two batches doing so in
    # different orders deadlocked. Rows no other device's batch touches are written above,
    # before the lock, so that nobody waits for the lock while holding what its holder needs.
    locks.lock_names(db, locks.ALERT_USERS, [ALL_USERS])
    raise_gathered(db, items, gathered)
    usage.rollup(db, fresh, usage_counts)  # what the weekly report counts
    # last: on PostgreSQL the append holds the chain's lock until this transaction commits
    record.append_event_rows(db, [(event_id, device_id, digest) for event_id, digest in zip(acked, digests, strict=True)])
    return len(acked)


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
