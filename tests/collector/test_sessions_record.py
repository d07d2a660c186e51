"""AI sessions in the hash-chained record and the auditor's export: an agent-read session arrives as an
ai_session.recorded event and is chained as one (its body in the bundle); a session told by
OpenTelemetry arrives as no event, so each request's slices are chained as a note in the same
transaction; a pull request's provenance answer is chained as CI's read; the exported bundle
verifies and holds all three."""
from __future__ import annotations

import json
import uuid
import zipfile

import pytest

from shadowmap.collector.record import bundle, chain, keys
from shadowmap.collector.state import STORE
from shadowmap.collector.store.sqlite.accounts import create_api_token

pytestmark = pytest.mark.both_backends

OTLP_LOGS = {"resourceLogs": [{"resource": {"attributes": [
    {"key": "service.name", "value": {"stringValue": "claude-code"}}]}, "scopeLogs": [{"logRecords": [{
        "timeUnixNano": str(1_796_461_200 * 10**9), "attributes": [
            {"key": "event.name", "value": {"stringValue": "user_prompt"}},
            {"key": "session.id", "value": {"stringValue": "otel-rec-1"}},
            {"key": "user.email", "value": {"stringValue": "lee@acme.test"}},
            {"key": "prompt", "value": {"stringValue": "canary-otlp-prompt-19ab"}}]}]}]}]}


def session_event(device: dict) -> dict:
    return {"schema": "shadowmap.event/1", "id": str(uuid.uuid4()), "type": "ai_session.recorded",
            "device_id": device["device_id"], "user": "dana@acme.test", "ts": "2026-12-05T09:01:00Z",
            "data": {"tool_id": "claude-code", "session_id": "s-rec-1", "os_user": "dana", "models": ["claude-sonnet-4-5"],
                     "prompts": 2, "turns": 3, "tools": {"shell": {}, "edits": {}, "mcp": {}},
                     "lines": [{"path": "a.py", "hashes": ["0" * 32]}], "lines_written": 1, "lines_not_sent": 0,
                     "findings": [], "unknown_lines": 0}}


async def test_sessions_reach_the_record_and_the_export(client, config, device, console, tmp_path, make):
    assert (await console.post_events(client, device, [session_event(device)]))["rejected"] == []
    token = await client.app[STORE].write(lambda db: create_api_token(db, "fleet-otel", "analyst"))
    response = await client.post("/v1/logs", data=json.dumps(OTLP_LOGS), headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    assert response.status == 200, await response.text()
    viewer = await client.app[STORE].write(lambda db: create_api_token(db, "ci", "viewer"))
    asked = await client.post("/api/v1/provenance", headers={"Authorization": f"Bearer {viewer}"}, json={
        "repo": "github.com/acme/shop", "number": 3, "files": [{"path": "a.py", "hashes": ["0" * 32]}]})
    assert (await asked.json())["ai_lines"] == 1

    notes = make.select_rows(config.db_path, "SELECT subject, actor, detail FROM record_entries WHERE kind = 'note'")
    [otlp] = [n for n in notes if n["subject"] == "otlp:token:fleet-otel"]
    [told] = json.loads(otlp["detail"])["sessions"]
    assert (told["tool_id"], told["session_id"], told["prompts"]) == ("claude-code", "otel-rec-1", 1)
    _checked, broken, why = await client.app[STORE].read(chain.verify_store)
    assert (broken, why) == (None, "ok")

    key = keys.load_or_create_key(tmp_path / "record.pem")
    out = tmp_path / "bundle.zip"
    await client.app[STORE].read(lambda db: bundle.export(db, "2000-01-01T00:00:00Z", "2100-01-01T00:00:00Z", out, key))
    assert bundle.verify(out, keys.fingerprint(key)).ok
    with zipfile.ZipFile(out) as archive:
        text = archive.read("entries.jsonl")
    entries = [json.loads(line) for line in text.splitlines()]
    bodies = [json.loads(e["detail"]) if isinstance(e["detail"], str) else e["detail"] for e in entries]
    kinds = {(e["kind"], e["subject"]) for e in entries}
    assert any(isinstance(b, dict) and b.get("type") == "ai_session.recorded"
               and b["data"]["session_id"] == "s-rec-1" for b in bodies)                 # the agent's session
    assert ("note", "otlp:token:fleet-otel") in kinds                                     # the telemetry's
    assert ("read", "provenance:github.com/acme/shop#3") in kinds                         # CI's answer
    assert b"canary-otlp-prompt-19ab" not in text                                       # never read, never kept
