"""The tenant-restriction headers as contract data (schema/host.v1.json tenant_restrictions)
and the policy keys that turn them on (policy.v1.json tenant_restrictions): each header has
its policy key and a cited source, Microsoft's go to its sign-in hosts exactly, and the
combinations Microsoft's documentation rules out are refused when the policy is validated.
What the browser does with them is tests/e2e/test_tenant_headers.py's."""
from __future__ import annotations

import pytest

from shadowmap import contract
from shadowmap.contract.host import TENANT_HEADERS

V2 = "0d7f3e2a-5c1b-4e8f-9a6d-2b3c4d5e6f70:1aaaaaa1-2bb2-3cc3-4dd4-5eeeeeeeeee5"
MICROSOFT_SIGN_IN = {"login.microsoftonline.com", "login.microsoft.com", "login.windows.net", "login.live.com"}


def policy_with(restrictions: dict) -> dict:
    return {**contract.default_policy(), "tenant_restrictions": restrictions}


def test_every_header_has_a_policy_key_and_a_cited_source():
    keys = set(contract.load("policy.v1.json")["properties"]["tenant_restrictions"]["properties"])
    assert {entry["policy_key"] for entry in TENANT_HEADERS} == keys
    for entry in TENANT_HEADERS:
        assert "https://" in entry["source"], entry["policy_key"]          # the vendor's page
        assert ("value" in entry) != ("join" in entry), entry["policy_key"]  # a switch, or a list


def test_microsofts_headers_go_to_its_sign_in_hosts_exactly():
    for entry in TENANT_HEADERS:
        if set(entry["hosts"]) & MICROSOFT_SIGN_IN:
            assert set(entry["hosts"]) <= MICROSOFT_SIGN_IN and entry.get("subdomains") is False, entry["policy_key"]


def test_the_policy_accepts_the_documented_values():
    contract.validate_policy(policy_with({
        "chatgpt_workspace_ids": ["8f14e45f-ceea-467a-9f4b-1d2a3c4e5f60"],
        "anthropic_org_ids": ["550e8400-e29b-41d4-a716-446655440000", "6ba7b810-9dad-11d1-80b4-00c04fd430c8"],
        "microsoft_tenants": ["contoso.com", "fabrikam.onmicrosoft.com", "72f988bf-86f1-41af-91ab-2d7cd011db47"],
        "microsoft_tenant_context": ["72f988bf-86f1-41af-91ab-2d7cd011db47"],
        "microsoft_block_consumer_accounts": True,
        "google_domains": ["altostrat.com", "tenorstrat.com"]}))
    contract.validate_policy(policy_with({"microsoft_tenant_restrictions_v2": [V2]}))


@pytest.mark.parametrize("v1", [{"microsoft_block_consumer_accounts": True}, {"microsoft_tenants": ["contoso.com"]},
                                {"microsoft_tenant_context": ["72f988bf-86f1-41af-91ab-2d7cd011db47"]}])
def test_tenant_restrictions_v2_refuses_the_v1_headers_beside_it(v1):
    with pytest.raises(contract.ContractError):
        contract.validate_policy(policy_with({"microsoft_tenant_restrictions_v2": [V2], **v1}))


@pytest.mark.parametrize("restrictions", [
    {"microsoft_tenant_restrictions_v2": ["72f988bf-86f1-41af-91ab-2d7cd011db47"]},          # no policy id
    {"microsoft_tenant_restrictions_v2": [V2, V2]},                                          # one policy
    {"microsoft_tenant_context": ["72f988bf-86f1-41af-91ab-2d7cd011db47", "0d7f3e2a-5c1b-4e8f-9a6d-2b3c4d5e6f70"]},
    {"microsoft_block_consumer_accounts": "restrict-msa"},                                   # a switch
    {"google_domains": ["altostrat.com, tenorstrat.com"]},                                   # one per item
])
def test_malformed_values_are_refused(restrictions):
    with pytest.raises(contract.ContractError):
        contract.validate_policy(policy_with(restrictions))
