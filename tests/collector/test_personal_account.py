"""The finding "AI tool used with a personal account", raised by a real collector from the
agent's ai_account.observed events (built by the agent's own classifier): personal sign-ins raise
it with the tool, the hashed account and the device as evidence, corporate ones do not, and the
tool's vendor counts as a sub-processor in use either way."""
from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime

from shadowmap import contract
from shadowmap.agent import accounts
from shadowmap.collector.alerts.findings import BY_ID

ORG = ["acme-corp.example"]
PERSONAL = "marketing.canary@gmail.com"


def account_event(device: dict, tool_id: str, domain: str, email: str, user: str = "alice") -> dict:
    """What the agent spools for a sign-in (agent/accounts.py), under the device's org key."""
    org_key = base64.b64decode(device["org_key"])
    data = {"tool_id": tool_id, "domain": domain, "source": "login_form",
            **accounts.classify(email, None, ORG).event_data(org_key, emails_in_clear=False)}
    event = {"schema": "shadowmap.event/1", "id": str(uuid.uuid4()), "type": "ai_account.observed",
             "device_id": device["device_id"], "user": user,
             "ts": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"), "data": data}
    contract.validate_event(event)
    return event


async def ingest(client, device, events):
    response = await client.post("/api/v1/events", json={"events": events}, headers=device["headers"])
    assert response.status == 200
    assert (await response.json())["rejected"] == []


def alerts_by_finding(make, config) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for row in make.select_rows(config.db_path, "SELECT * FROM alerts"):
        found.setdefault(row["finding_id"], []).append(row)
    return found


async def test_a_personal_sign_in_raises_the_finding_and_a_corporate_one_does_not(client, device, config, make):
    await make.approve_vendors(client, "OpenAI", "Anthropic")      # only the account finding is in play
    personal = account_event(device, "chatgpt", "chatgpt.com", PERSONAL)
    corporate = account_event(device, "claude", "claude.ai", "jane@acme-corp.example")
    await ingest(client, device, [personal, corporate])

    alerts = alerts_by_finding(make, config)
    assert list(alerts) == ["personal_account"]
    (alert,) = alerts["personal_account"]
    assert alert["finding"] == BY_ID["personal_account"].name == "AI tool used with a personal account"
    assert alert["severity"] == "medium" and alert["tool_id"] == "chatgpt" and alert["user"] == "alice"
    assert json.loads(alert["device_ids"]) == [device["device_id"]]
    facts = json.loads(alert["facts"])
    assert facts["tool"] == "chatgpt" and facts["devices"] == [device["device_id"]]
    assert facts["account_hashes"] == [personal["data"]["account_hash"]]
    assert "consumer" in facts["reason"]
    # the email reached the collector as a keyed hash only
    stored = b"".join(p.read_bytes() for p in config.db_path.parent.glob("collector.db*"))
    assert b"marketing.canary" not in stored


async def test_the_vendor_of_a_tool_used_with_any_account_is_a_subprocessor_in_use(client, device, config, make):
    # Lovable's vendor is not in the register: a sign-in is use, so its standing is judged
    await ingest(client, device, [account_event(device, "lovable", "lovable.dev", "jane@acme-corp.example")])
    alerts = alerts_by_finding(make, config)
    assert "personal_account" not in alerts
    assert [a["tool_id"] for a in alerts["unknown_subprocessor"]] == ["lovable"]

    await ingest(client, device, [account_event(device, "lovable", "lovable.dev", PERSONAL, user="bob")])
    alerts = alerts_by_finding(make, config)
    assert [(a["tool_id"], a["user"]) for a in alerts["personal_account"]] == [("lovable", "bob")]
