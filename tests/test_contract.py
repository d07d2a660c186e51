"""The event and policy contracts: what both the agent and the collector enforce."""
import copy
import uuid

import pytest

from shadowmap import contract
from shadowmap.contract import enums

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

    assert contract.load("events/paste.scanned.json")["properties"]["scan_limits"]["items"] == {
        "$ref": "#/$defs/scan_limit"}
    assert enums.SCAN_LIMITS == LIMIT_KINDS


# ---- the shared enumerations (enums.v1.json) ---------------------------------------------------

def _walk(node, path=""):
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            yield from _walk(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _walk(item, f"{path}/{index}")


def _schema_files():
    from importlib import resources
    root = resources.files("shadowmap.contract")
    names = [f.name for f in root.iterdir() if f.name.endswith(".json")]
    names += ["events/" + f.name for f in root.joinpath("events").iterdir() if f.name.endswith(".json")]
    return sorted(names)


def test_the_enumerations_keep_their_declared_orders():
    assert enums.SEVERITIES == ("critical", "high", "medium", "low", "info")
    assert tuple(s for s in enums.SEVERITIES if s != "info") == enums.FINDING_SEVERITIES
    assert max(enums.SEVERITY_RANK, key=enums.SEVERITY_RANK.__getitem__) == "critical"
    assert enums.ACTIONS[0] == "allow" and enums.ACTIONS[-1] == "block"
    assert enums.ALERT_STATUSES[:len(enums.ACTIVE_ALERT_STATUSES)] == enums.ACTIVE_ALERT_STATUSES
    assert enums.CLOSED_ALERT_STATUSES == ("resolved", "false_positive")
    for name in enums.names():
        members = enums.values(name)
        assert members and len(set(members)) == len(members), name


@pytest.mark.parametrize("name", _schema_files())
def test_loaded_schemas_are_self_contained_and_repeat_no_shared_enum(name):
    shared = {frozenset(enums.values(n)): n for n in enums.names()}
    document = contract.load(name)
    for path, node in _walk(document):
        ref = node.get("$ref")
        assert not isinstance(ref, str) or ref.startswith("#/"), f"{name}{path}: {ref}"
        if "enum" in node and not (name == contract.ENUMS_FILE or path.startswith("/$defs/")
                                   and path.count("/") == 2 and path[len("/$defs/"):] in shared.values()):
            assert frozenset(node["enum"]) not in shared, (
                f"{name}{path} repeats enums.v1.json#/$defs/{shared[frozenset(node['enum'])]}: $ref it")


def test_severity_info_is_for_alerts_not_findings():
    e = event("paste.scanned")
    e["data"]["findings"][0]["severity"] = "info"
    with pytest.raises(contract.ContractError, match="severity"):
        contract.validate_event(e)
    e["data"]["findings"][0]["severity"] = "critical"
    contract.validate_event(e)


@pytest.mark.parametrize("mode, valid", [
    ("fail_open", True), ({"default": "fail_closed", "secret": "fail_open"}, True),
    ({"pii": "fail_closed"}, True), ({"secrets": "fail_open"}, False), ({"secret": "open"}, False), ({}, False),
    ("closed", False),
])
def test_on_agent_unavailable_takes_a_mode_or_a_mode_per_data_class(mode, valid):
    policy = {"version": 1, "unknown_tool": "monitor", "on_agent_unavailable": mode,
              "rules": [{"tool": "*", "data_class": "*", "action": "warn"}]}
    if valid:
        contract.validate_policy(policy)
    else:
        with pytest.raises(contract.ContractError):
            contract.validate_policy(policy)


def test_a_rule_names_a_data_class_or_star():
    policy = {"version": 1, "unknown_tool": "monitor", "rules": [{"data_class": "secrets", "action": "warn"}]}
    with pytest.raises(contract.ContractError, match="data_class"):
        contract.validate_policy(policy)


# ---- the native host and browser facts (host.v1.json) -------------------------------------------

def test_host_facts_agree_with_the_enumerations_and_each_other():
    from shadowmap.contract import host

    assert host.BROWSERS == enums.BROWSERS
    assert host.AGENT_UNAVAILABLE_DEFAULT in enums.AGENT_UNAVAILABLE_MODES
    assert host.MANAGED_STORAGE_DEFAULTS["onAgentUnavailable"] == host.AGENT_UNAVAILABLE_DEFAULT
    assert set(host.SYSTEM_SOCKETS) == {"linux", "macos"}
    assert host.SYSTEM_PIPE.startswith(host.PIPE_PREFIX) and host.USER_PIPE_PREFIX.startswith(host.SYSTEM_PIPE)
    # the extension gives up after the host does, so the host's agent_unavailable answer arrives first
    assert host.EXTENSION_REPLY_TIMEOUT_S > host.AGENT_REPLY_TIMEOUT_S + host.AGENT_CONNECT_TIMEOUT_S
    assert host.EXTENSION_TEXT_READ < host.MAX_SCAN_TEXT < host.MAX_FROM_BROWSER
    for browser in host.BROWSERS:
        for os_name in ("linux", "macos"):
            assert set(host.MANIFEST_DIRS[os_name][browser]) == set(host.SCOPES)
        assert browser in host.WINDOWS_HOST_KEYS and browser in host.WINDOWS_POLICY_KEYS
    assert set(host.LINUX_POLICY_DIRS) == set(host.CHROMIUM_FAMILY)


def test_the_events_schema_caps_what_the_host_and_extension_cap():
    from shadowmap.contract import host

    scanned = contract.load("events/paste.scanned.json")["properties"]
    override = contract.load("events/paste.override.json")["properties"]
    assert scanned["files"]["maxItems"] == host.MAX_FILES
    assert scanned["browser"]["maxLength"] == override["browser"]["maxLength"] == host.MAX_BROWSER_FIELD
    assert override["justification"]["maxLength"] == host.MAX_JUSTIFICATION


def test_the_default_policy_takes_the_offline_default():
    from shadowmap.contract import host

    assert contract.default_policy()["on_agent_unavailable"] == host.AGENT_UNAVAILABLE_DEFAULT
