"""The event and policy contracts: what both the agent and the collector enforce."""
import copy
import uuid

import pytest

from shadowmap import contract

BASE = {
    "schema": "shadowmap.event/1",
    "device_id": "dev-1",
    "user": "alice",
    "ts": "2026-11-26T08:00:00Z",
}
FINDING = {"entity_type": "AWS_ACCESS_KEY", "data_class": "secret", "count": 1, "score": 0.95,
           "hashes": ["ab" * 32], "reason": "AWS access key"}
VALID = {
    "paste.scanned": {"channel": "paste", "tool_id": "chatgpt", "domain": "chatgpt.com",
                      "data_classes": ["secret"], "findings": [FINDING], "action": "block"},
    "ai_tool.observed": {"tool_id": "claude", "source": "extension", "domain": "claude.ai"},
    "agent.heartbeat": {"agent_version": "0.1.0", "hostname": "laptop-7", "os": "Linux"},
}


def event(kind: str, **data_changes) -> dict:
    data = copy.deepcopy(VALID[kind])
    data.update(data_changes)
    return {**BASE, "id": str(uuid.uuid4()), "type": kind, "data": data}


@pytest.mark.parametrize("kind", sorted(VALID))
def test_valid_events_pass(kind):
    contract.validate_event(event(kind))


@pytest.mark.parametrize("mutate, where", [
    (lambda e: e["data"].__setitem__("text", "AKIA..."), "data"),              # raw text smuggled in
    (lambda e: e["data"]["findings"][0].__setitem__("value", "x"), "findings"),  # value in a finding
    (lambda e: e.__setitem__("id", "not-a-uuid"), "id"),
    (lambda e: e.__setitem__("type", "paste.exfiltrated"), "type"),
    (lambda e: e.__setitem__("ts", "yesterday"), "ts"),
    (lambda e: e["data"].__setitem__("channel", "email"), "channel"),
    (lambda e: e["data"].__setitem__("action", "ignore"), "action"),
    (lambda e: e["data"]["findings"][0].__setitem__("hashes", ["secret-value"]), "hashes"),
    (lambda e: e["data"].__setitem__("domain", "chatgpt.com/c/123?q=secret"), "domain"),
    (lambda e: e.pop("device_id"), "device_id"),
])
def test_invalid_events_are_refused_with_the_field_named(mutate, where):
    e = event("paste.scanned")
    mutate(e)
    with pytest.raises(contract.ContractError) as err:
        contract.validate_event(e)
    assert where in str(err.value) or "(top level)" in str(err.value)


def test_observed_tool_needs_a_domain_or_process():
    e = event("ai_tool.observed")
    del e["data"]["domain"]
    with pytest.raises(contract.ContractError):
        contract.validate_event(e)
    e["data"]["process"] = "Cursor"
    contract.validate_event(e)


def test_policy_contract():
    policy = {"version": 1, "unknown_tool": "monitor",
              "rules": [{"tool": "*", "data_class": "secret", "action": "block"}]}
    contract.validate_policy(policy)
    policy["rules"][0]["action"] = "shrug"
    with pytest.raises(contract.ContractError, match="rules/0/action"):
        contract.validate_policy(policy)


def test_the_default_policy_is_a_valid_policy_that_blocks_secrets():
    policy = contract.default_policy()
    contract.validate_policy(policy)
    assert {"tool": "*", "data_class": "secret", "action": "block"} in policy["rules"]
    policy["rules"].clear()                      # callers get a copy, never the shared one
    assert contract.default_policy()["rules"]


def test_scan_limit_kinds_are_one_list_in_the_detectors_and_the_contract():
    from shadowmap.detectors.scan_result import LIMIT_KINDS

    assert tuple(contract.load("events/paste.scanned.json")["properties"]["scan_limits"]["items"]["enum"]) == LIMIT_KINDS
