"""Alerts raised from ingested events, and GET /api/v1/alerts."""
from __future__ import annotations

import json

import pytest

from shadowmap.collector.alerts.findings import EVENT_RULES, FINDINGS
from shadowmap.collector.state import STORE
from shadowmap.collector.store.sqlite.accounts import create_api_token

# each test here that opens a store runs on both backends (tests/collector/conftest.py)
pytestmark = pytest.mark.both_backends

SECRETS_FINDING = "AI tool with production read access via copied secrets"
DATA_FINDING = "Production data pasted into an AI chat, ad hoc"


@pytest.fixture(autouse=True)
async def registered_vendors(client, make):
    """The vendors of the tools used here are approved, so only leak findings are raised."""
    await make.approve_vendors(client, "OpenAI", "Anthropic")


async def ingest(client, device, events):
    response = await client.post("/api/v1/events", json={"events": events}, headers=device["headers"])
    assert response.status == 200
    body = await response.json()
    assert body["rejected"] == []
    return body


async def api_alerts(client):
    token = await client.app[STORE].write(lambda db: create_api_token(db, "tests"))
    response = await client.get("/api/v1/alerts", headers={"Authorization": f"Bearer {token}"})
    assert response.status == 200
    return (await response.json())["alerts"]


async def test_blocked_paste_opens_one_alert_and_a_second_bumps_it(client, device, config, make):
    first = make.paste(device["device_id"], ts="2026-01-05T10:00:00Z")
    await ingest(client, device, [first])
    assert make.count_rows(config.db_path, "alerts") == 1
    second = make.paste(device["device_id"], ts="2026-01-05T12:30:00+02:00",
                        findings=[make.finding("GITHUB_TOKEN", "secret")])
    await ingest(client, device, [second])

    alerts = await api_alerts(client)
    assert len(alerts) == 1
    alert = alerts[0]
    assert alert["finding"] == SECRETS_FINDING
    assert alert["severity"] == "medium"  # both blocked: nothing left the laptop, so not critical
    assert alert["outcomes"] == {"blocked": 2}
    assert alert["count"] == 2
    assert alert["tool_id"] == "chatgpt" and alert["domain"] == "chatgpt.com" and alert["user"] == "alice"
    assert alert["device_ids"] == [device["device_id"]]
    assert alert["entity_types"] == ["AWS_ACCESS_KEY", "GITHUB_TOKEN"]
    assert alert["data_classes"] == ["secret"]
    assert alert["first_seen"] == "2026-01-05T10:00:00.000000Z"
    assert alert["last_seen"] == "2026-01-05T10:30:00.000000Z"  # +02:00 normalised to UTC
    assert alert["status"] == "open"


async def test_personal_data_allowed_raises_the_high_finding(client, device, make):
    event = make.paste(device["device_id"], action="allow", findings=[make.finding("EMAIL_ADDRESS", "pii", 3)])
    await ingest(client, device, [event])
    [alert] = await api_alerts(client)
    assert (alert["finding"], alert["severity"], alert["outcomes"]) == (DATA_FINDING, "high", {"allowed": 1})


async def test_secret_wins_over_other_classes(client, device, make):
    event = make.paste(device["device_id"], findings=[make.finding("EMAIL_ADDRESS", "pii"), make.finding()])
    await ingest(client, device, [event])
    [alert] = await api_alerts(client)
    assert alert["finding"] == SECRETS_FINDING
    assert alert["entity_types"] == ["AWS_ACCESS_KEY", "EMAIL_ADDRESS"]


async def test_pastes_without_findings_and_other_events_raise_nothing(client, device, config, make):
    await ingest(client, device, [
        make.paste(device["device_id"], action="allow", findings=[]),
        make.paste(device["device_id"], action="block", findings=[]),
        make.heartbeat(device["device_id"]),
        make.observed(device["device_id"]),
    ])
    assert make.count_rows(config.db_path, "events") == 4
    assert make.count_rows(config.db_path, "alerts") == 0


async def test_one_alert_per_tool_user_finding(client, device, config, make):
    did = device["device_id"]
    other = await make.enroll(client, config, "host-2")
    other_device = {**other, "headers": {"Authorization": f"Bearer {other['node_key']}"}}
    await ingest(client, device, [
        make.paste(did),                                   # chatgpt / alice / secrets
        make.paste(did, user="bob"),                       # another user
        make.paste(did, tool_id="claude", domain="claude.ai"),  # another tool
        make.paste(did, tool_id=None, domain="new-ai.example"),  # unknown tool: keyed by domain
        make.paste(did, tool_id=None, domain="new-ai.example"),
        make.paste(did, findings=[make.finding("PERSON", "pii")]),  # another finding
    ])
    await ingest(client, other_device, [make.paste(other["device_id"])])  # same alert, 2nd device
    alerts = [a for a in await api_alerts(client) if a["user"] != "*"]  # "*": new-ai.example queued as unknown tool
    assert len(alerts) == 5
    by_key = {(a["tool_id"] or a["domain"], a["user"], a["finding"]): a for a in alerts}
    main = by_key[("chatgpt", "alice", SECRETS_FINDING)]
    assert main["count"] == 2
    assert main["device_ids"] == sorted([did, other["device_id"]])
    assert by_key[("new-ai.example", "alice", SECRETS_FINDING)]["count"] == 2


async def test_findings_are_data():
    assert [(f.id, f.severity) for f in FINDINGS] == [
        ("copied_secrets", "critical"), ("adhoc_production_data", "high"), ("unknown_subprocessor", "medium"),
        ("dpa_missing", "medium"), ("retention_exceeds", "medium"), ("unreviewed_ai_code", "high"),
        ("risky_agent_setup", "high"), ("protection_disabled", "high"), ("personal_account", "medium"), ("console_lockout", "high")]
    assert FINDINGS[0].name == SECRETS_FINDING and FINDINGS[1].name == DATA_FINDING
    paste_rules = [r for r in EVENT_RULES if "paste.scanned" in r.event_types]
    assert all(r.actions is None for r in paste_rules)  # whatever the policy did: the outcome sets the severity
    assert [(f.id, f.stopped_severity) for f in FINDINGS[:2]] == [("copied_secrets", "medium"),
                                                                 ("adhoc_production_data", "low")]


async def test_alerts_api_requires_auth(client, device, make):
    for headers in ({}, {"Authorization": "Bearer not-a-token"}, {"Cookie": "shadowmap_session=forged"}):
        response = await client.get("/api/v1/alerts", headers=headers)
        assert response.status == 401
    response = await client.get("/api/v1/alerts?limit=abc",
                                headers={"Authorization": "Bearer " + await client.app[STORE].write(
                                    lambda db: create_api_token(db, "t"))})
    assert response.status == 400


async def test_alert_rows_store_no_raw_values(client, device, config, make):
    await ingest(client, device, [make.paste(device["device_id"])])
    [row] = make.select_rows(config.db_path, "SELECT * FROM alerts")
    assert json.loads(row["entity_types"]) == ["AWS_ACCESS_KEY"]
    assert row["dedupe_key"] == json.dumps(["copied_secrets", "chatgpt", "alice"])
