"""How the record and the keyed-hash sightings are stored (migrations 91 and 92): event
entries as one run per ingest batch, sightings appended and summed when read. The chain is
the same whichever way its entries are stored, a read can start or stop inside a run, and a
database written before the change upgrades in place and goes on verifying."""
from __future__ import annotations

import importlib
import json
import uuid

import sqlite_utils

from shadowmap.collector.alerts import hash_sightings
from shadowmap.collector.record import chain
from shadowmap.collector.store.migrations import MIGRATIONS, apply_migrations

DEVICE = "dev-1"


def new_db(path, before: int | None = None) -> sqlite_utils.Database:
    db = sqlite_utils.Database(path)
    apply_migrations(db, tuple(m for m in MIGRATIONS if before is None or m.number < before))
    return db


def store_events(db: sqlite_utils.Database, n: int, device: str = DEVICE) -> list[tuple[str, str, str]]:
    """n events stored in `events`, as (id, device, sha256 of the body) for the record."""
    stored = []
    for index in range(n):
        event_id = str(uuid.uuid4())
        body = json.dumps({"id": event_id, "n": index, "device_id": device})
        db.execute("INSERT INTO events (id, type, device_id, user, ts, received_at, body) VALUES (?, 'x', ?, 'u', "
                   "'2026-11-26T10:00:00.000000Z', '2026-11-26T10:00:00.000000Z', ?)", (event_id, device, body))
        stored.append((event_id, device, chain.sha256_hex(body)))
    return stored


def expected_chain(db: sqlite_utils.Database) -> list[str]:
    """Every entry_hash recomputed from the headers, as the verifier does."""
    hashes, prev = [], chain.GENESIS
    for entry in chain.entries(db, 1, chain.head(db)[0]):
        prev = chain.entry_hash(prev, chain.header(entry["seq"], entry["ts"], entry["kind"], entry["subject"],
                                                   entry["actor"], entry["detail_hash"]))
        hashes.append(prev)
    return hashes


def test_a_batch_is_one_run_and_reads_start_and_stop_inside_it(tmp_path):
    db = new_db(tmp_path / "c.db")
    chain.append(db, "note", "first", "system", {})
    events = store_events(db, 5)
    assert chain.append_event_rows(db, events) == 6
    chain.append(db, "triage", "alert:1", "alice", {"action": "resolve"})
    assert db.execute("SELECT count(*), min(first_seq), max(last_seq) FROM record_event_runs").fetchone() == (1, 2, 6)
    assert db.execute("SELECT count(*) FROM record_entries_single").fetchone()[0] == 2

    every = list(chain.entries(db, 1, 7))
    assert [entry["seq"] for entry in every] == list(range(1, 8))
    assert [entry["kind"] for entry in every] == ["note"] + ["event"] * 5 + ["triage"]
    assert [entry["subject"] for entry in every[1:6]] == [event_id for event_id, _, _ in events]
    assert all(entry["actor"] == f"device:{DEVICE}" and not entry["purged"] for entry in every[1:6])
    assert [entry["entry_hash"] for entry in every] == expected_chain(db)
    assert chain.head(db) == (7, every[-1]["entry_hash"])
    assert chain.verify_store(db) == (7, None, "ok")

    middle = list(chain.entries(db, 3, 4))  # inside the run
    assert [(entry["seq"], entry["entry_hash"]) for entry in middle] == [(3, every[2]["entry_hash"]),
                                                                        (4, every[3]["entry_hash"])]
    assert chain.hash_before(db, 3) == every[1]["entry_hash"]
    assert chain.hash_before(db, 2) == every[0]["entry_hash"] and chain.hash_before(db, 1) == chain.GENESIS
    assert [row["seq"] for row in db.query("SELECT seq FROM record_entries ORDER BY seq")] == list(range(1, 8))


def test_one_call_with_two_devices_makes_two_runs(tmp_path):
    db = new_db(tmp_path / "c.db")
    events = store_events(db, 2, "dev-a") + store_events(db, 3, "dev-b")
    chain.append_event_rows(db, events)
    assert db.execute("SELECT first_seq, last_seq, actor FROM record_event_runs ORDER BY first_seq").fetchall() == [
        (1, 2, "device:dev-a"), (3, 5, "device:dev-b")]
    assert chain.verify_store(db) == (5, None, "ok")


def test_a_changed_run_entry_is_found(tmp_path):
    db = new_db(tmp_path / "c.db")
    chain.append_event_rows(db, store_events(db, 4))
    run = json.loads(db.execute("SELECT entries FROM record_event_runs").fetchone()[0])
    run[2][0] = str(uuid.uuid4())  # someone points entry 3 at another event
    db.execute("UPDATE record_event_runs SET entries = ?", (json.dumps(run),))
    checked, broken, _ = chain.verify_store(db)
    assert broken == 3


def test_a_database_from_before_upgrades_and_goes_on_verifying(tmp_path):
    db = new_db(tmp_path / "c.db", before=91)
    # the old layout: one record_entries row per event, sightings upserted per value
    old = store_events(db, 3)
    prev = chain.GENESIS
    for seq, (event_id, device, digest) in enumerate(old, 1):
        prev = chain.entry_hash(prev, chain.header(seq, "2026-11-26T10:00:01.000000Z", "event", event_id,
                                                   f"device:{device}", digest))
        db.execute("INSERT INTO record_entries (seq, ts, kind, subject, actor, detail, detail_hash, entry_hash) "
                   "VALUES (?, '2026-11-26T10:00:01.000000Z', 'event', ?, ?, NULL, ?, ?)",
                   (seq, event_id, f"device:{device}", digest, prev))
    value = "ab" * 32
    db.execute("INSERT INTO hash_sightings VALUES (?, 'dev-old', 'u', 'EMAIL_ADDRESS', "
               "'2026-11-20T00:00:00.000000Z', '2026-11-21T00:00:00.000000Z', 4)", (value,))

    apply_migrations(db)
    assert chain.verify_store(db) == (3, None, "ok")
    chain.append_event_rows(db, store_events(db, 2))
    chain.append(db, "note", "after", "system", {})
    assert chain.verify_store(db) == (6, None, "ok")
    assert chain.span(db, "2026-11-26T10:00:01.000000Z", "2026-11-26T10:00:02.000000Z") == (1, 3)
    assert chain.span(db, "2000-01-01T00:00:00Z", "2100-01-01T00:00:00Z") == (1, 6)

    hash_sightings.append(db, hash_sightings.rows({(value, "dev-new", "u", "EMAIL_ADDRESS"): [
        "2026-11-25T00:00:00.000000Z", "2026-11-26T00:00:00.000000Z", 1]}))
    event = {"data": {"findings": [{"entity_type": "EMAIL_ADDRESS", "hashes": [value]}]}}
    assert hash_sightings.correlation(db, [event]) == [{
        "hash": value, "entity_type": "EMAIL_ADDRESS", "devices": 2, "users": 1, "sightings": 5,
        "first_seen": "2026-11-20T00:00:00.000000Z", "last_seen": "2026-11-26T00:00:00.000000Z"}]


def test_sightings_are_summed_per_value_and_a_shared_key_never_mixes_two_values(tmp_path):
    db = new_db(tmp_path / "c.db")
    value, other = "cd" * 32, "ef" * 32
    for device, ts in (("dev-a", "2026-11-26T09:00:00.000000Z"), ("dev-b", "2026-11-26T11:00:00.000000Z"),
                       ("dev-a", "2026-11-26T12:00:00.000000Z")):
        hash_sightings.append(db, hash_sightings.rows({(value, device, "u", "API_KEY"): [ts, ts, 1]}))
    # a row of another value under the same index key (as if two values' keys collided)
    db.execute("INSERT INTO hash_sightings VALUES (?, ?, 'dev-c', 'u', 'API_KEY', ?, ?, 9)",
               (hash_sightings.sighting_key(value), other, "2026-11-26T00:00:00Z", "2026-11-26T00:00:00Z"))
    event = {"data": {"findings": [{"entity_type": "API_KEY", "hashes": [value]}]}}
    assert hash_sightings.correlation(db, [event]) == [{
        "hash": value, "entity_type": "API_KEY", "devices": 2, "users": 1, "sightings": 3,
        "first_seen": "2026-11-26T09:00:00.000000Z", "last_seen": "2026-11-26T12:00:00.000000Z"}]
    plan = " ".join(row[3] for row in db.execute(
        "EXPLAIN QUERY PLAN SELECT * FROM hash_sightings WHERE hash_key IN (SELECT value FROM json_each(?)) "
        "AND hash IN (SELECT value FROM json_each(?))", ("[1]", '["x"]')))
    assert "USING INDEX hash_sightings_key" in plan


def test_sighting_keys_are_stable_signed_64_bit_integers():
    keys = {hash_sightings.sighting_key(format(n, "064x")) for n in range(1000)}
    assert len(keys) == 1000 and all(-2**63 <= key < 2**63 for key in keys)
    # stored rows are indexed by these keys: the function must never change (values fixed once)
    assert hash_sightings.sighting_key("00" * 32) == -2428151068894722925
    assert hash_sightings.sighting_key("ab" * 32) == 2269901645662351552


def test_the_migration_keys_hashes_as_ingest_does():
    frozen = importlib.import_module("shadowmap.collector.store.migrations.0092_hash_sightings_keyed")
    for n in range(100):
        assert frozen.sighting_key(format(n, "064x")) == hash_sightings.sighting_key(format(n, "064x"))
