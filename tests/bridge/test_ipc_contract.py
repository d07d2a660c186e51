"""The native host <-> agent contract (schema/ipc.v1.json): the host's generated stdlib
validator is what the generator writes today, and it agrees with the agent's jsonschema
check on every request in the table, valid or not."""
from __future__ import annotations

import pytest

from shadowmap import contract
from shadowmap.bridge import host, ipc_codegen, ipc_validate

PAGE = "https://chatgpt.com/c/1"
UUID = "0b8e2a52-3c1d-4e0f-9a6b-5d4c3b2a1f0e"
FILE = {"name": "notes.txt", "mime": "text/plain", "size": 12, "read": True}

VALID = [
    {"type": "ping"},
    {"type": "ping", "id": {"n": 7}},
    {"type": "policy", "id": 3},
    {"type": "scan", "id": 1, "channel": "paste", "url": PAGE, "text": "hello", "files": [FILE], "browser": "chrome"},
    {"type": "scan", "channel": "submit", "url": PAGE, "text": "", "user": "ignored: unknown fields are ignored"},
    {"type": "visit", "url": PAGE},
    {"type": "override", "event_id": UUID, "decision": "send_anyway", "justification": "ticket 12"},
    {"type": "override", "event_id": UUID, "decision": "cancel", "url": PAGE},
    {"type": "offline_decision", "decision_id": UUID, "decided_at": "2026-11-26T09:00:00.123Z", "channel": "paste",
     "url": PAGE, "action": "block", "data_classes": ["secret"], "text_length": 120, "reason": "offline", "files": []},
    {"type": "usage", "url": PAGE, "active_seconds": 60, "visits": 2},
    {"type": "unknown_signal", "url": "https://x.example/", "paste_length": 2000, "input_kind": "textarea"},
]
INVALID = [
    ({"type": "scan", "channel": "paste", "url": PAGE}, "text"),
    ({"type": "scan", "channel": "fax", "url": PAGE, "text": "x"}, "channel"),
    ({"type": "scan", "channel": "paste", "url": 5, "text": "x"}, "url"),
    ({"type": "scan", "channel": "paste", "url": PAGE, "text": ["x"]}, "text"),
    ({"type": "scan", "channel": "paste", "url": PAGE, "text": "x", "browser": "b" * 65}, "browser"),
    ({"type": "scan", "channel": "paste", "url": PAGE, "text": "x", "files": [{"name": "a", "size": True, "read": 1}]},
     "files"),
    ({"type": "scan", "channel": "paste", "url": PAGE, "text": "x", "files": [FILE] * 51}, "files"),
    ({"type": "visit"}, "url"),
    ({"type": "visit", "url": ""}, "url"),
    ({"type": "override", "event_id": UUID, "decision": "maybe"}, "decision"),
    ({"type": "override", "decision": "cancel"}, "event_id"),
    ({"type": "offline_decision", "decision_id": UUID.upper(), "decided_at": "2026-11-26T09:00:00Z",
      "channel": "paste", "url": PAGE, "action": "block"}, "decision_id"),
    ({"type": "offline_decision", "decision_id": UUID, "decided_at": "yesterday", "channel": "paste", "url": PAGE,
      "action": "block"}, "decided_at"),
    ({"type": "offline_decision", "decision_id": UUID, "decided_at": "2026-11-26T09:00:00Z", "channel": "paste",
      "url": PAGE, "action": "warn"}, "action"),
    ({"type": "usage", "url": PAGE, "active_seconds": -1}, "active_seconds"),
    ({"type": "usage", "url": PAGE, "active_seconds": 1.5}, "active_seconds"),
    ({"type": "unknown_signal", "url": PAGE, "paste_length": 5, "input_kind": "select"}, "input_kind"),
    ({"type": "launch"}, "type"),
    ({"id": 3}, "type"),
]


def test_the_committed_validator_is_generated_from_the_schema():
    assert ipc_codegen.TARGET.read_text("utf-8") == ipc_codegen.generate(), \
        "schema/ipc.v1.json changed: run `shadowmap bridge build-extension`"


def test_the_generated_validator_needs_only_the_standard_library():
    source = ipc_codegen.TARGET.read_text("utf-8")
    imports = {line.split()[1] for line in source.splitlines() if line.startswith(("import ", "from "))}
    assert imports <= {"decimal", "re"}, imports


@pytest.mark.parametrize("message", VALID)
def test_valid_requests_pass_both_checks(message):
    contract.validate_ipc_request(message)
    ipc_validate.validate(message, name_prefix="request")
    assert host.check_request(message) is None


@pytest.mark.parametrize("message, field", INVALID)
def test_invalid_requests_fail_both_checks_naming_the_field(message, field):
    with pytest.raises(contract.ContractError):
        contract.validate_ipc_request(message)
    with pytest.raises(ipc_validate.JsonSchemaValueException) as err:
        ipc_validate.validate(message, name_prefix="request")
    assert field in err.value.message
    reply = host.check_request(dict(message, id="r"))
    assert reply is not None and reply["id"] == "r" and reply["type"] == "error"
    assert reply["error"] == ("unknown_type" if field == "type" else "bad_request")


def test_the_host_refuses_deeply_nested_requests_without_crashing():
    nested: object = "x"
    for _ in range(5000):
        nested = [nested]
    reply = host.check_request({"type": "scan", "channel": "paste", "url": PAGE, "text": "x",
                                "files": [{"name": nested, "size": 1, "read": True}]})
    assert reply is not None and reply["error"] == "bad_request"


@pytest.mark.parametrize("reply", [
    {"type": "pong", "agent_version": "0.1.0"},
    {"type": "ack", "id": 4},
    {"type": "verdict", "action": "block", "reason": "r", "event_id": UUID,
     "findings": [{"entity_type": "AWS_ACCESS_KEY", "data_class": "secret", "count": 1, "reason": "AWS access key"}]},
    {"type": "policy", "on_agent_unavailable": {"default": "fail_open", "secret": "fail_closed"}},
    {"type": "error", "error": "agent_unavailable", "detail": "down", "id": 9},
])
def test_replies_follow_the_contract(reply):
    contract.validate_ipc_reply(reply)


def test_a_reply_with_an_unknown_error_code_is_refused():
    with pytest.raises(contract.ContractError):
        contract.validate_ipc_reply({"type": "error", "error": "oops", "detail": "x"})
