"""An approved tool reaches the agents through the policy they already pull: the collector
serves its catalog overlay (tools the security team catalogued from the unknown-tools queue)
as the policy's approved_tools, with a new ETag, and the agent attributes pastes on those hosts
to the tool without a new release."""
from __future__ import annotations

from shadowmap import contract
from shadowmap.agent.policy import approved_tool
from shadowmap.collector.alerts import catalog_overlay
from shadowmap.collector.state import STORE


async def test_the_served_policy_carries_the_overlay(client, device):
    first = await client.get("/api/v1/policy", headers=device["headers"])
    policy, etag = await first.json(), first.headers["ETag"]
    assert "approved_tools" not in policy
    await client.app[STORE].write(lambda db: catalog_overlay.add(db, "domain", "chat.acme-ai.example", "acme-ai",
                                                                 "Acme AI", "analyst"))
    second = await client.get("/api/v1/policy", headers={**device["headers"], "If-None-Match": etag})
    assert second.status == 200 and second.headers["ETag"] != etag   # the overlay changed what is served
    served = await second.json()
    contract.validate_policy(served)
    assert served["approved_tools"] == [{"id": "acme-ai", "vendor": "Acme AI", "domains": ["chat.acme-ai.example"],
                                         "process_names": []}]
    again = await client.get("/api/v1/policy", headers={**device["headers"], "If-None-Match": second.headers["ETag"]})
    assert again.status == 304
    assert approved_tool(served, "chat.acme-ai.example") == "acme-ai"
    assert approved_tool(served, "eu.chat.acme-ai.example") == "acme-ai"
    assert approved_tool(served, "acme-ai.example") is None and approved_tool(served, "xchat.acme-ai.example") is None
