"""The outbox: durable, ordered, bounded, thread-safe; only acked ids leave it."""
from __future__ import annotations

import sqlite3
import threading

import pytest

from shadowmap import contract
from shadowmap.agent import events
from shadowmap.agent.spool import Spool


def observed(n: int = 0) -> dict:
    return events.ai_tool_observed(device_id="dev-1", user="alice", tool_id="chatgpt",
                                   source="extension", domain=f"host{n}.example.com")


def test_put_next_batch_ack_in_order(tmp_path):
    spool = Spool(tmp_path / "spool.db")
    sent = [observed(i) for i in range(5)]
    for event in sent:
        spool.put(event)
    assert spool.depth() == 5
    assert spool.next_batch(3) == sent[:3]
    assert spool.depth() == 5                       # reading does not remove
    assert spool.ack([sent[0]["id"], sent[2]["id"], "not-in-spool"]) == 2
    assert [e["id"] for e in spool.next_batch(10)] == [sent[1]["id"], sent[3]["id"], sent[4]["id"]]


def test_put_validates_and_is_idempotent(tmp_path):
    spool = Spool(tmp_path / "spool.db")
    event = observed()
    spool.put(event)
    spool.put(event)
    assert spool.depth() == 1
    with pytest.raises(contract.ContractError):
        spool.put(dict(event, id="not-a-uuid"))
    with pytest.raises(contract.ContractError):
        spool.put(dict(event, text="raw paste"))     # unknown fields cannot smuggle content
    assert spool.depth() == 1


def test_reopen_keeps_events_and_settings(tmp_path):
    path = tmp_path / "spool.db"
    spool = Spool(path)
    sent = [observed(i) for i in range(3)]
    for event in sent:
        spool.put(event)
    spool.close()
    again = Spool(path)
    assert again.next_batch(10) == sent
    assert again.size_bytes() > 0
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_bounded_drops_oldest_and_counts(tmp_path):
    one = len(str(observed()))                       # roughly one event's size
    spool = Spool(tmp_path / "spool.db", max_bytes=one * 5)
    sent = [observed(i) for i in range(20)]
    for event in sent:
        spool.put(event)
    kept = spool.next_batch(100)
    assert 0 < len(kept) < 20
    assert kept == sent[-len(kept):]                 # the newest survive
    assert spool.dropped() == 20 - len(kept)
    assert spool.size_bytes() <= one * 5
    spool.close()
    assert Spool(tmp_path / "spool.db", max_bytes=one * 5).dropped() == 20 - len(kept)


def test_dead_letter_is_kept_not_retried(tmp_path):
    spool = Spool(tmp_path / "spool.db")
    a, b = observed(1), observed(2)
    spool.put(a)
    spool.put(b)
    assert spool.dead_letter(a["id"], "data/tool_id: bad") is True
    assert spool.dead_letter("unknown", "x") is False
    assert spool.next_batch(10) == [b]
    assert [(d["id"], d["error"]) for d in spool.dead_letters()] == [(a["id"], "data/tool_id: bad")]


def test_concurrent_puts_and_acks(tmp_path):
    spool = Spool(tmp_path / "spool.db")
    woken = threading.Event()
    spool.add_listener(woken.set)
    errors: list[BaseException] = []

    def producer() -> None:
        try:
            for i in range(50):
                spool.put(observed(i))
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    def consumer() -> None:
        try:
            for _ in range(100):
                spool.ack([e["id"] for e in spool.next_batch(7)])
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=producer) for _ in range(4)] + [threading.Thread(target=consumer)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    assert woken.is_set()
    spool.ack([e["id"] for e in spool.next_batch(1000)])
    assert spool.depth() == 0 and spool.size_bytes() == 0
