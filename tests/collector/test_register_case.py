"""The register keys vendors without case on both backends (SQLite's COLLATE NOCASE;
PostgreSQL's citext since its migration 0241): saving "anthropic" updates "Anthropic", and a
lookup or a delete by any spelling finds it."""
from __future__ import annotations

import pytest

from shadowmap.collector.alerts.register import Entry, delete, upsert
from shadowmap.collector.state import STORE
from shadowmap.collector.store.sqlite import register as stored

pytestmark = pytest.mark.both_backends


async def test_a_vendor_is_one_entry_whatever_its_case(client):
    store = client.app[STORE]
    await store.write(lambda db: upsert(db, [Entry("Anthropic", listed=False)], "alice"))
    await store.write(lambda db: upsert(db, [Entry("anthropic", listed=True, dpa_signed=True)], "bob"))
    entries = await store.read(stored.entries)
    assert [(e["vendor"], e["listed"], e["dpa_signed"]) for e in entries] == [("anthropic", 1, 1)]
    standings = await store.read(lambda db: stored.standings_rows(db, ["ANTHROPIC"]))
    assert set(standings) == {"anthropic"} and standings["anthropic"]["listed"] == 1
    assert await store.write(lambda db: delete(db, "ANTHROPIC", "alice")) is True
    assert await store.read(stored.entries) == []
    assert await store.write(lambda db: delete(db, "Anthropic", "alice")) is False
