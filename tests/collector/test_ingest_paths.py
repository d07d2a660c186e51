"""Ingest's two ways to the same store: the sums a parse worker works out for a whole batch
(the usual case: every event new, no org overlay naming a tool), and the writer's own,
from the stored bodies of the events that turned out new. Plus the parse pool itself."""
from __future__ import annotations

import dataclasses
import gzip
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import psutil
import pytest
import sqlite_utils

from shadowmap.collector.alerts import catalog_overlay, register
from shadowmap.collector.api.ingest_lane import store_batch
from shadowmap.collector.api.ingest_parse import SMALL_BODY_BYTES, BatchError, parse_batch, small_body
from shadowmap.collector.api.parse_pool import WORKER_NICENESS, ParsePool
from shadowmap.collector.config import CollectorConfig
from shadowmap.collector.record.chain import verify_store
from shadowmap.collector.store.migrations import apply_migrations

DEVICES = ("dev-a", "dev-b")
RECEIVED_AT = "2026-11-26T08:00:00.000000Z"
# What must come out the same, whichever way: (table, columns compared). Timestamps the
# writer stamps (received_at, updated_at, the record's ts and so its entry_hash) differ.
COMPARED = {
    "events": "id, type, device_id, user, ts, body",
    "alerts": "dedupe_key, finding_id, severity, tool_id, domain, vendor, user, device_ids, users, "
              "entity_types, data_classes, count, first_seen, last_seen, status, facts",
    "alert_events": "alert_id, event_id",
    # appended per batch: what counts is the sum per value, device, user and entity type
    "hash_sightings": "hash, device_id, user, entity_type, min(first_seen), max(last_seen), sum(count)",
    "usage_daily": "day, tool_id, device_id, user, data_class, blocked, events",
    "usage_first_seen": "tool_id, first_day",
    "unknown_tools": "kind, name, first_seen, last_seen, count, devices, users, signals, score",
    "record_entries": "seq, kind, subject, actor, detail_hash",
}


def mixed_events(make, device_id: str, n: int = 12) -> list[dict]:
    """Leaks of several findings, users and tools, sightings, heartbeats, an unknown tool."""
    events = []
    for i in range(n):
        user = f"user-{i % 3}"
        events.append(make.paste(device_id, user=user, tool_id=("chatgpt", "claude")[i % 2],
                                 action=("block", "warn", "allow")[i % 3],
                                 findings=[make.finding(("AWS_ACCESS_KEY", "EMAIL_ADDRESS")[i % 2],
                                                        ("secret", "pii")[i % 2])]))
        events.append(make.observed(device_id, user=user))
        events.append(make.heartbeat(device_id))
    events.append(make.observed(device_id, data={"tool_id": None, "source": "extension",
                                                 "domain": "chat.fresh-llm.ai", "browser": "chrome"}))
    return events


def new_db(path: Path) -> sqlite_utils.Database:
    db = sqlite_utils.Database(path)
    apply_migrations(db)
    for device in DEVICES:
        db.execute("INSERT INTO devices (device_id, host_identifier, hostname, os, node_key_hash, enrolled_at) "
                   "VALUES (?, ?, ?, 'linux', ?, '2026-11-01T00:00:00Z')", (device, device, device, device))
    return db


def store(db: sqlite_utils.Database, device: str, events: list[dict], *, own_sums: bool = False) -> int:
    batch = parse_batch(json.dumps({"events": events}).encode(), "", device, CollectorConfig())
    assert not batch.rejected
    if own_sums:  # as if the worker had not summed up: the writer works from the stored bodies
        batch = dataclasses.replace(batch, alert_inputs=None, usage_counts={}, sighting_rows=[])
    with db.atomic():
        return store_batch(db, batch, device)


def contents(db: sqlite_utils.Database) -> dict[str, list[tuple]]:
    grouped = {"hash_sightings": " GROUP BY hash, device_id, user, entity_type"}
    return {table: sorted(db.execute(f"SELECT {columns} FROM {table}{grouped.get(table, '')}").fetchall())
            for table, columns in COMPARED.items()}


def test_worker_sums_and_stored_bodies_give_the_same_store(tmp_path, make):
    by_device = {device: mixed_events(make, device) for device in DEVICES}
    summed, own = new_db(tmp_path / "summed.db"), new_db(tmp_path / "own.db")
    for device, events in by_device.items():
        assert store(summed, device, events) == len(events)
        assert store(own, device, events, own_sums=True) == len(events)
    got = contents(summed)
    assert got == contents(own)
    assert len(got["events"]) == sum(len(events) for events in by_device.values())
    assert {row[1] for row in got["alerts"]} >= {"copied_secrets", "adhoc_production_data", "unknown_subprocessor"}
    assert got["unknown_tools"] and got["hash_sightings"] and got["alert_events"]
    for db in (summed, own):
        assert verify_store(db)[1:] == (None, "ok")


def test_a_partly_stored_batch_counts_only_its_new_events(tmp_path, make):
    """A retried batch whose first half was stored already: the rest is stored, counted and
    alerted once, as if the whole batch had come once."""
    events = mixed_events(make, "dev-a")
    retried, once = new_db(tmp_path / "retried.db"), new_db(tmp_path / "once.db")
    assert store(retried, "dev-a", events[:len(events) // 2]) == len(events) // 2
    assert store(retried, "dev-a", events) == len(events) - len(events) // 2
    assert store(retried, "dev-a", events) == 0
    assert store(once, "dev-a", events) == len(events)
    got, expected = contents(retried), contents(once)
    for table in ("events", "alerts", "alert_events", "hash_sightings", "usage_daily", "usage_first_seen"):
        assert got[table] == expected[table], table
    assert sorted(row[1:] for row in got["record_entries"]) == sorted(row[1:] for row in expected["record_entries"])
    assert verify_store(retried)[1:] == (None, "ok")


def test_bodies_are_stored_byte_for_byte_whatever_their_characters(tmp_path, make):
    """Bodies travel to SQLite as one blob cut by byte offsets: multi-byte UTF-8, escapes and
    quotes on either side of a cut must come out exactly as received, with the record's
    digest of each matching what is stored."""
    users = ["zoë@acme.example", "李@acme.example", "a\"b\\c@acme.example", "😀@acme.example", "plain@acme.example"]
    events = [make.observed("dev-a", user=user) for user in users for _ in range(3)]
    db = new_db(tmp_path / "unicode.db")
    assert store(db, "dev-a", events) == len(events)
    stored = dict(db.execute("SELECT id, body FROM events").fetchall())
    assert {event_id: json.loads(body) for event_id, body in stored.items()} == {e["id"]: e for e in events}
    assert {row[0] for row in db.execute("SELECT user FROM events")} == set(users)
    assert verify_store(db)[1:] == (None, "ok")  # each event entry's detail_hash is sha256 of the stored body


def test_an_overlay_tool_is_counted_as_that_tool(tmp_path, make):
    """An untooled event the org overlay names: the worker's sums (made without the overlay)
    are set aside and the writer counts it under the overlay's tool."""
    db = new_db(tmp_path / "overlay.db")
    with db.atomic():
        catalog_overlay.add(db, "domain", "chat.fresh-llm.ai", "fresh-llm", "Fresh LLM Inc", "tests")
    events = mixed_events(make, "dev-a")
    store(db, "dev-a", events)
    counted = db.execute("SELECT sum(events) FROM usage_daily WHERE tool_id = 'fresh-llm' AND data_class = ''")
    assert counted.fetchone()[0] == 1


def test_an_overlay_tool_is_checked_against_the_register(tmp_path, make):
    """A tool the security team added to the org catalog raises the register findings of its
    vendor, as a shipped catalog tool does: unknown sub-processor while the vendor is not in
    the register, then a missing DPA once it is there without one, then nothing."""
    db = new_db(tmp_path / "overlay.db")
    with db.atomic():
        catalog_overlay.add(db, "domain", "chat.fresh-llm.ai", "fresh-llm", "Fresh LLM Inc", "tests")

    def use_it() -> dict[str, str]:
        store(db, "dev-a", [make.observed("dev-a", data={"tool_id": None, "source": "extension",
                                                         "domain": "chat.fresh-llm.ai", "browser": "chrome"})])
        return {row[0]: json.loads(row[1])["reason"] for row in db.execute(
            "SELECT finding_id, facts FROM alerts WHERE tool_id = 'fresh-llm' AND status = 'open'")}

    assert use_it() == {"unknown_subprocessor": "Fresh LLM Inc is not in the sub-processor register"}
    with db.atomic():
        register.upsert(db, [register.Entry("Fresh LLM Inc", listed=True)], "tests")
    assert use_it()["dpa_missing"] == "no signed DPA with Fresh LLM Inc on file"
    with db.atomic():
        register.upsert(db, [register.Entry("Fresh LLM Inc", listed=True, dpa_signed=True)], "tests")
        db.execute("UPDATE alerts SET status = 'resolved'")
    assert use_it() == {}


async def test_parse_pool_parses_as_a_thread_does_and_reraises_batch_errors(make):
    events = mixed_events(make, "dev-a", n=4)
    raw = gzip.compress(json.dumps({"events": events + [{"id": "not-an-event"}]}).encode())
    pool = ParsePool(workers=1)
    pool.start()
    try:
        in_worker = await pool.run(parse_batch, raw, "gzip", "dev-a", CollectorConfig(), RECEIVED_AT)
        with pytest.raises(BatchError) as refused:
            await pool.run(parse_batch, b"\x1f\x8b not gzip", "gzip", "dev-a", CollectorConfig())
    finally:
        pool.close()
    assert in_worker == parse_batch(raw, "gzip", "dev-a", CollectorConfig(), RECEIVED_AT)
    assert in_worker.acked == [event["id"] for event in events]
    assert [item["id"] for item in in_worker.rejected] == ["not-an-event"]
    assert (refused.value.status, refused.value.error) == (400, "bad_gzip")


async def test_parse_pool_off_parses_in_a_thread(make):
    pool = ParsePool(workers=0)
    pool.start()
    event = make.heartbeat("dev-a", id=str(uuid.uuid4()))
    batch = await pool.run(parse_batch, json.dumps({"events": [event]}).encode(), "", "dev-a", CollectorConfig())
    pool.close()
    assert batch.acked == [event["id"]]


async def test_a_broken_parse_pool_is_replaced_and_the_batch_still_parsed(make, caplog):
    """A worker killed mid-life breaks the pool: that batch is parsed in a thread, the
    next ones in a new pool."""
    pool = ParsePool(workers=1)
    pool.start()
    await pool.warm()
    me = psutil.Process()
    workers = [child for child in me.children(recursive=True) if child.ppid() != me.pid]  # the forkserver's children
    assert workers
    for worker in workers:
        worker.kill()
    psutil.wait_procs(workers, timeout=10)
    body = json.dumps({"events": [make.heartbeat("dev-a")]}).encode()
    try:
        first = await pool.run(parse_batch, body, "", "dev-a", CollectorConfig(), RECEIVED_AT)
        second = await pool.run(parse_batch, body, "", "dev-a", CollectorConfig(), RECEIVED_AT)
    finally:
        pool.close()
    assert first == second and len(first.acked) == 1
    assert "parse pool broke" in caplog.text


def test_parse_workers_leave_with_a_killed_collector(tmp_path):
    """Parse workers run at a lower CPU priority than the collector. Killed outright, the collector cannot shut its pool down: the workers (and the
    forkserver) must still go, or they would hold its stdout and stderr open for ever."""
    env = {**os.environ, "SHADOWMAP_ADMIN_PASSWORD": "a long enough password", "SHADOWMAP_LOG_FORMAT": "text"}
    server = subprocess.Popen([sys.executable, "-m", "shadowmap.cli", "collector", "serve", "--port", "0",
                               "--db", str(tmp_path / "c.db")], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, env=env)
    try:
        assert server.stdout.readline().startswith("listening on ")
        workers = [child for child in psutil.Process(server.pid).children(recursive=True)
                   if "forkserver" in " ".join(child.cmdline())]
        assert workers  # the pool was started with the app
        # the parse workers (not the forkserver they come from) step back for the writer
        own = psutil.Process(server.pid).nice()
        assert sorted(process.nice() for process in workers) == [own] + [own + WORKER_NICENESS] * (len(workers) - 1)
        server.kill()
        server.communicate(timeout=30)  # returns once nothing holds the pipes any more
        _, alive = psutil.wait_procs(workers, timeout=10)
        assert not alive
    finally:
        if server.poll() is None:
            server.kill()
            server.communicate()


def test_small_bodies_are_parsed_where_they_arrive_and_the_rest_in_workers(make):
    """A heartbeat or a few events are inflated (bounded) and parsed on the event loop; what
    is larger once inflated, a gzip bomb small on the wire, or bad gzip goes to the worker,
    whose parse_batch says what is wrong."""
    small = json.dumps({"events": [make.heartbeat("dev-a")]}).encode()
    assert small_body(small, "") == small and small_body(gzip.compress(small), "gzip") == small
    assert small_body(small, "gzip") == small            # inflated already by the server
    large = json.dumps({"events": [make.heartbeat("dev-a") for _ in range(20)]}).encode()
    assert len(large) > SMALL_BODY_BYTES and len(gzip.compress(large)) < SMALL_BODY_BYTES
    assert small_body(gzip.compress(large), "gzip") is None and small_body(large, "") is None
    bomb = gzip.compress(b"{" + b" " * 1_000_000 + b"}")
    assert len(bomb) < SMALL_BODY_BYTES and small_body(bomb, "gzip") is None
    assert small_body(b"\x1f\x8b not gzip", "gzip") is None and small_body(small, "br") is None
    parsed = parse_batch(small_body(gzip.compress(small), "gzip") or b"", "", "dev-a", CollectorConfig())
    assert len(parsed.acked) == 1 and not parsed.rejected
