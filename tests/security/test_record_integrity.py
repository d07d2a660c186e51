"""Issue 16, items 2 and 3: the record protects its details and cannot be quietly rewritten.

- A missing detail is accepted only as retention's: an event body purged by a signed
  retention checkpoint, past the horizon. A deleted event body or a nulled triage detail
  breaks `record check` and the export's verification.
- `record verify` needs a pinned key or a trusted-keys file.
- The chain head is published (anchor file, "anchor" sinks); a database owner who rewrites
  the tail and re-signs it with the collector's own key is caught against the published heads.
"""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner

from shadowmap.collector import record
from shadowmap.collector.outbound import queue as outbound
from shadowmap.collector.record import anchors, bundle, chain, keys, retention
from shadowmap.collector.record.cli import record as record_cli
from shadowmap.collector.record.service import RECORD_KEY, publish_anchor
from shadowmap.collector.state import STORE

EVERYTHING = ("2000-01-01T00:00:00Z", "2100-01-01T00:00:00Z")


async def _ingest(client, device, make, n: int) -> list[dict]:
    events = [make.paste(device["device_id"]) for _ in range(n)]
    response = await client.post("/api/v1/events", json={"events": events}, headers=device["headers"])
    assert response.status == 200 and len((await response.json())["acked"]) == n
    return events


async def _export(client, tmp_path, name: str = "bundle.zip"):
    key = client.app[RECORD_KEY]
    out = tmp_path / name
    await client.app[STORE].read(lambda db: bundle.export(db, *EVERYTHING, out, key))
    return out, keys.fingerprint(key)


async def test_a_deleted_event_body_breaks_check_and_verify(client, device, make, tmp_path):
    events = await _ingest(client, device, make, 3)
    await client.app[STORE].write(lambda db: db.execute("DELETE FROM events WHERE id = ?", (events[1]["id"],)))
    checked, broken, why = await client.app[STORE].read(chain.verify_store)
    assert broken == 2 and "no retention checkpoint" in why
    out, fingerprint = await _export(client, tmp_path)
    verdict = bundle.verify(out, fingerprint)
    assert not verdict.ok and verdict.broken_seq == 2


async def test_a_nulled_triage_detail_breaks_check_and_verify(client, device, make, tmp_path):
    await _ingest(client, device, make, 1)
    seq = await client.app[STORE].write(
        lambda db: record.append(db, "triage", "alert:1", "alice", {"action": "resolve", "note": "rotated"}))
    await client.app[STORE].write(
        lambda db: db.execute("UPDATE record_entries_single SET detail = NULL WHERE seq = ?", (seq,)))
    checked, broken, why = await client.app[STORE].read(chain.verify_store)
    assert broken == seq and "only retention may purge" in why
    out, fingerprint = await _export(client, tmp_path)
    assert bundle.verify(out, fingerprint).broken_seq == seq


async def test_retention_past_the_horizon_still_verifies(client, device, make, tmp_path):
    await _ingest(client, device, make, 3)
    later = datetime.now(UTC) + timedelta(days=2)   # two days on, with a one-day retention
    await client.app[STORE].write(lambda db: retention.set_event_retention_days(db, 1))
    checkpoint = await client.app[STORE].write(lambda db: retention.purge(db, client.app[RECORD_KEY], now=later))
    assert checkpoint["purged_events"] == 3
    assert (await client.app[STORE].read(chain.verify_store))[1] is None
    out, fingerprint = await _export(client, tmp_path)
    verdict = bundle.verify(out, fingerprint, min_retention_days=1)
    assert verdict.ok, verdict.describe()
    # an auditor who was promised 30 days refuses this purge
    assert "under the 30 required" in bundle.verify(out, fingerprint, min_retention_days=30).reason


async def test_retention_refuses_to_cut_inside_the_horizon(client, device, make):
    await _ingest(client, device, make, 2)
    soon = (datetime.now(UTC) + timedelta(minutes=1)).isoformat().replace("+00:00", "Z")
    with pytest.raises(ValueError, match="inside the"):
        await client.app[STORE].write(lambda db: retention.purge(db, client.app[RECORD_KEY], before=soon))


async def test_verify_needs_a_pinned_or_trusted_key(client, device, make, tmp_path):
    await _ingest(client, device, make, 2)
    out, fingerprint = await _export(client, tmp_path)
    assert "no trusted key" in bundle.verify(out).reason
    unpinned = CliRunner().invoke(record_cli, ["verify", str(out)])
    assert unpinned.exit_code == 2 and "--key-sha256" in unpinned.output
    trusted = tmp_path / "trusted-keys"
    trusted.write_text(f"# the collector's record key\n{fingerprint}\n")
    assert CliRunner().invoke(record_cli, ["verify", str(out), "--trusted-keys", str(trusted)]).exit_code == 0
    trusted.write_text("0" * 64 + "\n")
    refused = CliRunner().invoke(record_cli, ["verify", str(out), "--trusted-keys", str(trusted)])
    assert refused.exit_code == 1 and "not in the trusted keys" in refused.output


async def test_a_rewritten_and_resigned_tail_fails_against_the_published_heads(
        client, device, make, tmp_path, monkeypatch):
    anchor_file = tmp_path / "auditor" / "anchors.jsonl"
    anchor_file.parent.mkdir()
    monkeypatch.setenv(anchors.ANCHOR_FILE_ENV, str(anchor_file))
    await client.app[STORE].write(lambda db: outbound.set_sinks(db, [
        {"name": "siem", "kind": "webhook", "url": "https://siem.example.com/anchors", "topics": ["anchor"]}]))
    await _ingest(client, device, make, 3)
    for n in range(3):
        await client.app[STORE].write(lambda db, n=n: record.append(db, "triage", f"alert:{n}", "alice",
                                                                      {"action": "acknowledge"}))
    published = await publish_anchor(client.app)
    assert published is not None and published["seq"] == 6
    queued = await client.app[STORE].read(lambda db: list(db.query(
        "SELECT topic, payload FROM outbound_queue WHERE topic = 'anchor'")))
    assert len(queued) == 1 and json.loads(queued[0]["payload"])["entry_hash"] == published["entry_hash"]

    # The database owner rewrites the last two entries (a triage decision they regret), chains
    # them again and exports with the collector's own key: chain and signature hold.
    def rewrite(db):
        db.execute("DELETE FROM record_entries_single WHERE seq > 4")
        record.append(db, "triage", "alert:1", "alice", {"action": "acknowledge"})
        record.append(db, "triage", "alert:2", "mallory", {"action": "resolve", "note": "nothing here"})

    await client.app[STORE].write(rewrite)
    assert (await client.app[STORE].read(chain.verify_store)) == (6, None, "ok")
    out, fingerprint = await _export(client, tmp_path, "rewritten.zip")
    assert bundle.verify(out, fingerprint).ok

    # ... but not against what was published before the rewrite
    verdict = bundle.verify(out, fingerprint, published=anchors.read_anchors(anchor_file))
    assert not verdict.ok and verdict.broken_seq == 6 and "published" in verdict.reason
    result = CliRunner().invoke(record_cli, ["verify", str(out), "--key-sha256", fingerprint,
                                             "--anchors", str(anchor_file)])
    assert result.exit_code == 1 and "BROKEN at entry 6" in result.output
    # the SIEM's copy of the head catches it the same way
    siem_copy = tmp_path / "siem-anchors.json"
    siem_copy.write_text(json.dumps([json.loads(row["payload"]) for row in queued]))
    assert not bundle.verify(out, fingerprint, published=anchors.read_anchors(siem_copy)).ok


async def test_an_untouched_record_agrees_with_its_published_heads(client, device, make, tmp_path, monkeypatch):
    anchor_file = tmp_path / "anchors.jsonl"
    monkeypatch.setenv(anchors.ANCHOR_FILE_ENV, str(anchor_file))
    await _ingest(client, device, make, 2)
    assert await publish_anchor(client.app) is not None
    assert await publish_anchor(client.app) is None          # unchanged head: not published again
    await _ingest(client, device, make, 2)
    assert await publish_anchor(client.app) is not None
    out, fingerprint = await _export(client, tmp_path)
    result = CliRunner().invoke(record_cli, ["verify", str(out), "--key-sha256", fingerprint,
                                             "--anchors", str(anchor_file)])
    assert result.exit_code == 0, result.output
    assert "agrees with 2 published chain head(s)" in result.output
