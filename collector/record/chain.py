"""The hash chain: every stored event, triage decision, read of the record and retention run
is one entry; entry_hash = sha256(previous entry_hash + canonical header).

The header carries the sha256 of the entry's detail, not the detail itself, so retention can
delete old details (event bodies) while every hash in the chain stays checkable. An event
entry's detail is the event exactly as stored in `events.body`; other entries keep their
detail (canonical JSON) in `record_entries_single.detail`. All functions taking ``db`` are
writer or reader fns for `shadowmap.collector.store.Store` (appends must run on the writer thread, inside
the transaction that stores what they record)."""
from __future__ import annotations

import bisect
import hashlib
import heapq
import json
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from shadowmap.collector.store.sqlite import record as record_store

if TYPE_CHECKING:  # kept import-light: `shadowmap collector record verify` runs on an auditor's laptop
    import sqlite_utils

GENESIS = "0" * 64
KINDS = ("event", "triage", "read", "retention", "note", "admin")


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def canonical(value: object) -> str:
    """One JSON text per value: sorted keys, no spaces, UTF-8 kept as is."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# json's own (C) string encoder: the same escaping json.dumps(ensure_ascii=False) applies
_string = json.encoder.encode_basestring


def header(seq: int, ts: str, kind: str, subject: str, actor: str, detail_hash: str) -> str:
    """canonical() of the header fields, spelled out: about 5x faster at ingest rates
    (tests hold the two equal)."""
    if type(seq) is not int:
        raise TypeError("seq must be an integer")
    return (f'{{"actor":{_string(actor)},"detail_hash":{_string(detail_hash)},"kind":{_string(kind)},'
            f'"seq":{seq},"subject":{_string(subject)},"ts":{_string(ts)}}}')


def entry_hash(prev_hash: str, header_text: str) -> str:
    return sha256_hex(prev_hash + header_text)


# Entries live in two tables (migration 91): event entries as one run per ingest batch
# (record_event_runs: one row and one index entry per batch instead of per event), every
# other entry one row each (record_entries_single); shadowmap.collector.store.sqlite.record
# reads and writes them.


def head(db: sqlite_utils.Database) -> tuple[int, str]:
    """(last seq, its entry_hash), or (0, GENESIS) for an empty record."""
    return record_store.last_entry(db) or (0, GENESIS)


def _append_rows(db: sqlite_utils.Database, items: Iterable[tuple[str, str, str, str | None, str]], ts: str) -> int:
    """items: (kind, subject, actor, detail stored here or None, detail_hash). Returns the last seq."""
    record_store.lock_chain(db)  # several nodes: one appends at a time, each after the head it read
    seq, prev = head(db)
    rows = []
    for kind, subject, actor, detail, detail_hash in items:
        seq += 1
        prev = entry_hash(prev, header(seq, ts, kind, subject, actor, detail_hash))
        rows.append((seq, ts, kind, subject, actor, detail, detail_hash, prev))
    record_store.insert_entries(db, rows)
    return seq


def append(db: sqlite_utils.Database, kind: str, subject: str, actor: str, detail: dict | None = None) -> int:
    """Writer fn: append one entry (a triage decision, a read, ...). Returns its seq.

    ``subject`` says what it is about (``alert:42``, ``record``, ``export``), ``actor`` who
    did it (a username, ``token:<name>``, ``device:<id>``, ``system``); ``detail`` is any
    JSON object (kept until retention says otherwise)."""
    if kind not in KINDS:
        raise ValueError(f"unknown record kind {kind!r}")
    text = canonical(detail or {})
    return _append_rows(db, [(kind, str(subject)[:500], str(actor)[:200], text, sha256_hex(text))], utc_now())


def append_events(db: sqlite_utils.Database, stored: Iterable[tuple[dict, str, str]],
                  digests: Mapping[str, str] | None = None) -> int:
    """Writer fn, part of the ingest transaction: one entry per newly stored event, given as
    ingest's (event, normalised ts, body as stored). The body itself stays in `events`.
    ``digests``: event id -> sha256_hex(body), when already computed."""
    return append_event_rows(db, [(event["id"], event["device_id"],
                                   digests[event["id"]] if digests else sha256_hex(body))
                                  for event, _, body in stored])


def append_event_rows(db: sqlite_utils.Database, stored: Iterable[tuple[str, str, str]]) -> int:
    """append_events for events given as (event id, device id, sha256_hex of the stored body),
    stored as one run per device (an ingest batch is one device's).

    The same entries _append_rows would chain, with each header assembled from the parts
    that do not change within a run (kind, ts, actor): at ingest rates the per-entry work is
    the cost."""
    import orjson  # here: verifying the record (an auditor's laptop) needs none of this
    ts = utc_now()
    after_subject = f',"ts":{_string(ts)}}}'
    record_store.lock_chain(db)  # several nodes: one appends at a time, each after the head it read
    seq, prev = head(db)
    run: list[list[str]] = []
    run_device, before_hash = "", ""
    runs: list[tuple[int, int, str, str, str, str]] = []

    def close_run() -> None:
        if run:
            runs.append((seq - len(run) + 1, seq, ts, "device:" + run_device, prev, orjson.dumps(run).decode()))

    for event_id, device_id, detail_hash in stored:
        if device_id != run_device:
            close_run()
            run, run_device = [], device_id
            before_hash = f'{{"actor":{_string("device:" + device_id)},"detail_hash":'
        seq += 1  # detail_hash is hex: needs no escaping
        prev = hashlib.sha256(f'{prev}{before_hash}"{detail_hash}","kind":"event","seq":{seq},'
                              f'"subject":{_string(event_id)}{after_subject}'.encode()).hexdigest()
        run.append([event_id, detail_hash, prev])
    close_run()
    record_store.insert_runs(db, runs)  # one statement for a lane pass's many devices
    return seq


def entries(db: sqlite_utils.Database, first_seq: int, last_seq: int) -> Iterator[dict]:
    """Entries first_seq..last_seq in seq order, with their detail: event bodies joined from
    `events` (``detail`` None and ``purged`` True once retention deleted them)."""
    singles = record_store.single_entries(db, first_seq, last_seq)
    for entry in heapq.merge(singles, _run_entries(db, first_seq, last_seq), key=lambda entry: entry["seq"]):
        entry["purged"] = entry["detail"] is None
        yield entry


def _run_entries(db: sqlite_utils.Database, first_seq: int, last_seq: int) -> Iterator[dict]:
    for run_first, ts, actor, run_json in record_store.runs(db, first_seq, last_seq):  # streamed
        wanted = [(run_first + index, item) for index, item in enumerate(json.loads(run_json))
                  if first_seq <= run_first + index <= last_seq]
        bodies = record_store.event_bodies(db, [item[0] for _, item in wanted])
        for seq, (subject, detail_hash, hash_) in wanted:
            yield {"seq": seq, "ts": ts, "kind": "event", "subject": subject, "actor": actor,
                   "detail_hash": detail_hash, "entry_hash": hash_, "detail": bodies.get(subject)}


def hash_before(db: sqlite_utils.Database, seq: int) -> str:
    """The entry_hash an entry ``seq`` chains from (GENESIS for the first)."""
    previous = next(entries(db, seq - 1, seq - 1), None) if seq > 1 else None
    return previous["entry_hash"] if previous else GENESIS


def span(db: sqlite_utils.Database, start: str, end: str) -> tuple[int, int]:
    """The contiguous seq range of entries with start <= ts < end ((1, 0) when empty)."""
    return record_store.span(db, start, end)


def check_entry(entry: dict, prev_hash: str) -> str | None:
    """Why this entry breaks the chain after ``prev_hash``, or None when it holds."""
    detail = entry.get("detail")
    if detail is not None and sha256_hex(detail) != entry["detail_hash"]:
        return "its detail does not match its detail_hash"
    expected = entry_hash(prev_hash, header(entry["seq"], entry["ts"], entry["kind"], entry["subject"],
                                            entry["actor"], entry["detail_hash"]))
    if expected != entry["entry_hash"]:
        return "its entry_hash does not follow from the previous entry and its header"
    return None


# An event entry is appended in the transaction that stores the event, moments after the
# event's received_at, which is what retention cuts by: a body purged "before T" may belong
# to an entry stamped a little after T.
RETENTION_SLACK = timedelta(minutes=10)


class PurgeRules:
    """Which missing details are allowed: only event bodies, and only those a retention
    checkpoint later in the chain purged (received before its purged_before). Anything
    else missing (a deleted event, a nulled triage detail) breaks the record."""

    def __init__(self, checkpoints: Iterable[Mapping]):
        ordered = sorted((int(c["seq"]), str(c["purged_before"])) for c in checkpoints
                         if c.get("reason") == "retention" and c.get("purged_before"))
        self._seqs = [seq for seq, _ in ordered]
        # the latest horizon of any checkpoint at or after each position
        self._latest_after: list[str] = []
        latest = ""
        for _, before in reversed(ordered):
            latest = max(latest, before)
            self._latest_after.append(latest)
        self._latest_after.reverse()

    def why_missing(self, entry: Mapping) -> str | None:
        """None when this entry's missing detail was purged by retention, else why not."""
        if entry["kind"] != "event":
            return f"its {entry['kind']} detail is missing: only retention may purge, and only event bodies"
        position = bisect.bisect_right(self._seqs, int(entry["seq"]))
        if position == len(self._seqs):
            return "its event body is missing and no retention checkpoint after it purged it"
        horizon = moment(self._latest_after[position]) + RETENTION_SLACK
        if moment(str(entry["ts"])) >= horizon:
            return "its event body is missing but it is newer than every retention horizon after it"
        return None


def moment(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def verify_store(db: sqlite_utils.Database) -> tuple[int, int | None, str]:
    """Walk the whole stored chain: (entries checked, first broken seq or None, why)."""
    prev, checked = GENESIS, 0
    last = head(db)[0]
    rules = PurgeRules(record_store.checkpoints(db, 1, last))
    for entry in entries(db, 1, last):
        checked += 1
        if entry["seq"] != checked:
            return checked, checked, f"entry {checked} is missing"
        problem = check_entry(entry, prev) or (rules.why_missing(entry) if entry["detail"] is None else None)
        if problem:
            return checked, entry["seq"], problem
        prev = entry["entry_hash"]
    return checked, None, "ok"
