"""The store: migrations recorded once, WAL, one writer, reads off the loop."""
from __future__ import annotations

import asyncio
import threading

import pytest
import sqlite_utils
from support.waiting import wait_until

from shadowmap.collector.store import Store
from shadowmap.collector.store.migrations import MIGRATIONS


async def test_migrations_recorded_once_and_wal_enabled(tmp_path):
    path = tmp_path / "c.db"
    for _ in range(2):  # reopening applies nothing new
        store = Store(path)
        await store.open()
        await store.close()
    db = sqlite_utils.Database(path)
    assert [row["number"] for row in db.query("SELECT number FROM _migrations")] == [m.number for m in MIGRATIONS]
    assert db.journal_mode == "wal"
    assert {"devices", "events", "alerts", "accounts", "sessions", "api_tokens", "org_settings"} <= set(db.table_names())
    db.conn.close()


async def test_writes_run_on_one_thread_and_reads_elsewhere(tmp_path):
    store = Store(tmp_path / "c.db")
    await store.open()
    try:
        writer_threads = await asyncio.gather(*(store.write(lambda db: threading.get_ident()) for _ in range(20)))
        assert len(set(writer_threads)) == 1
        assert threading.get_ident() not in writer_threads
        read_thread = await store.read(lambda db: threading.get_ident())
        assert read_thread not in (threading.get_ident(), writer_threads[0])
    finally:
        await store.close()


async def test_a_failed_write_rolls_back_and_the_writer_keeps_going(tmp_path):
    store = Store(tmp_path / "c.db")
    await store.open()
    try:
        def half_then_fail(db):
            db.execute("INSERT INTO org_settings (name, value) VALUES ('a', '1')")
            raise ValueError("boom")

        with pytest.raises(ValueError):
            await store.write(half_then_fail)
        count = await store.read(lambda db: next(db.query("SELECT count(*) AS n FROM org_settings"))["n"])
        assert count == 0
        await store.write(lambda db: db.execute("INSERT INTO org_settings (name, value) VALUES ('b', '2')"))
        assert await store.read(lambda db: [r["name"] for r in db.query("SELECT name FROM org_settings")]) == ["b"]
    finally:
        await store.close()


async def test_writes_queued_together_commit_together_and_fail_alone(tmp_path):
    """Group commit: writes that queue while the writer is busy share one transaction, each
    in its own savepoint; a failing one is undone alone and every caller hears back."""
    store = Store(tmp_path / "c.db")
    await store.open()
    try:
        started, release = threading.Event(), threading.Event()

        def hold(db):  # keeps the writer busy so the next writes queue up behind it
            started.set()
            release.wait(10)
            return "held"

        def insert(name):
            def fn(db):
                db.execute("INSERT INTO org_settings (name, value) VALUES (?, '1')", (name,))
                if name == "bad":
                    raise ValueError("boom")
                return name
            return fn

        held = asyncio.ensure_future(store.write(hold))
        await asyncio.get_running_loop().run_in_executor(None, started.wait, 10)
        queued = [asyncio.ensure_future(store.write(insert(name))) for name in ("a", "bad", "b", "c")]
        await asyncio.sleep(0.05)
        release.set()
        results = await asyncio.gather(held, *queued, return_exceptions=True)
        assert results[0] == "held"
        assert results[1] == "a" and isinstance(results[2], ValueError) and results[3:] == ["b", "c"]
        names = await store.read(lambda db: sorted(r["name"] for r in db.query("SELECT name FROM org_settings")))
        assert names == ["a", "b", "c"]
    finally:
        await store.close()


async def test_a_write_is_acknowledged_only_after_the_wal_is_fsynced(tmp_path, monkeypatch):
    """The writer commits without waiting for the disk; the caller hears back only once the
    WAL file itself was fsynced after that commit (shadowmap.collector.store.sqlite.wal_sync). Several commits
    waiting together ride on one fsync; a failed fsync is the caller's error."""
    import os

    from shadowmap.collector.store.sqlite import wal_sync

    store = Store(tmp_path / "c.db")
    await store.open()
    synced: list[str] = []
    gate = threading.Event()
    gate.set()
    failing: list[OSError] = []
    real_fsync = os.fsync

    def fsync(fd):
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        gate.wait(10)
        if failing:
            raise failing.pop()
        real_fsync(fd)

    monkeypatch.setattr(wal_sync.os, "fsync", fsync)
    try:
        gate.clear()  # the disk "hangs": the commit happens, the acknowledgement waits
        first = asyncio.ensure_future(store.write(lambda db: db.execute(
            "INSERT INTO org_settings (name, value) VALUES ('a', '1')")))
        await asyncio.get_running_loop().run_in_executor(
            None, lambda: wait_until(lambda: synced, 10, "the WAL fsync", interval=0.01))
        assert synced == [str(tmp_path / "c.db-wal")]
        later = [asyncio.ensure_future(store.write(lambda db, n=n: db.execute(
            "INSERT INTO org_settings (name, value) VALUES (?, '1')", (f"b{n}",)))) for n in range(5)]
        await asyncio.sleep(0.2)
        assert not first.done() and not any(f.done() for f in later)
        # committed already (another connection sees it), just not acknowledged yet
        assert await store.read(lambda db: db.execute("SELECT count(*) FROM org_settings").fetchone()[0]) == 6
        gate.set()
        await asyncio.gather(first, *later)
        assert 2 <= len(synced) <= 3  # the five later commits shared at most two fsyncs

        failing.append(OSError(5, "Input/output error"))
        with pytest.raises(OSError):
            await store.write(lambda db: db.execute("INSERT INTO org_settings (name, value) VALUES ('c', '1')"))
        assert await store.write(lambda db: db.execute("PRAGMA synchronous").fetchone()[0]) == 1  # NORMAL
    finally:
        await store.close()

