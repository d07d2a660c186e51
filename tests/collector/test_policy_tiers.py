"""A policy per tool x data class x account tier, with coaching, through the console's policy
page on both backends: an admin saves rules that name an account tier and an approved
alternative and the AI policy page; the page shows them as the agents apply them, and agents
get them as saved. A tier or a link the contract does not know is refused naming it."""
from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.both_backends

TIERED = {
    "version": 1, "name": "tiers", "unknown_tool": "monitor",
    "ai_policy_url": "https://intranet.acme-corp.example/ai-policy?x=1&y=2",
    "org_email_domains": ["acme-corp.example"],
    "rules": [
        {"tool": "chatgpt", "data_class": "pii", "account_tier": "corporate", "action": "allow"},
        {"tool": "chatgpt", "data_class": "*", "account_tier": "personal", "action": "block",
         "alternative": "use the company ChatGPT workspace <chatgpt.com/g/acme>"},
        {"tool": "*", "data_class": "pii", "action": "warn"},
    ],
}


async def test_tiered_rules_and_coaching_are_saved_shown_and_served(client, device, console):
    await console.sign_in(client, "admin", console.admin_password)
    token = await console.page_csrf(client, "/admin/policy")
    saved = await client.post("/admin/policy", data={"csrf_token": token, "policy": json.dumps(TIERED)},
                              allow_redirects=False)
    assert saved.status == 303, await saved.text()
    served = await (await client.get("/api/v1/policy", headers=device["headers"])).json()
    assert served["rules"] == TIERED["rules"] and served["ai_policy_url"] == TIERED["ai_policy_url"]

    page = await (await client.get("/admin/policy")).text()
    table = page.split('id="policy-rules"', 1)[1].split("</table>", 1)[0]
    assert table.count("<tr>") == 4                                   # the header and three rules
    assert '<td data-label="Account tier" data-tier="corporate">corporate</td>' in table and '<td data-label="Account tier" data-tier="personal">personal</td>' in table
    assert '<td data-label="Account tier" data-tier="any">any</td>' in table
    assert "use the company ChatGPT workspace &lt;chatgpt.com/g/acme&gt;" in table      # escaped
    assert 'href="https://intranet.acme-corp.example/ai-policy?x=1&amp;y=2"' in page
    assert "Some rules apply to one account tier only" in page

    for bad, words in (({"account_tier": "work"}, "work"), ({"alternative": ""}, "alternative")):
        policy = json.loads(json.dumps(TIERED))
        policy["rules"][0].update(bad)
        response = await client.post("/admin/policy", data={"csrf_token": token, "policy": json.dumps(policy)},
                                     allow_redirects=False)
        assert response.status == 400 and words in await response.text()
    link = {**TIERED, "ai_policy_url": "javascript:alert(1)"}
    response = await client.post("/admin/policy", data={"csrf_token": token, "policy": json.dumps(link)},
                                 allow_redirects=False)
    assert response.status == 400 and "ai_policy_url" in await response.text()
