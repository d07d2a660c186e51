"""Policy decisions: first matching rule per class, strictest class wins."""
from __future__ import annotations

import copy
import json
from dataclasses import dataclass

import pytest

from shadowmap.agent.policy import DEFAULT_POLICY, OFFLINE_KEYS, PolicyStore, decide, offline_modes, redact
from shadowmap.contract import ContractError, validate_policy

CUSTOM = {
    "version": 1, "unknown_tool": "enforce",
    "rules": [
        {"tool": "copilot", "data_class": "production", "action": "allow"},
        {"tool": "chatgpt", "data_class": "*", "action": "redact"},
        {"tool": "*", "data_class": "secret", "action": "block"},
        {"tool": "*", "data_class": "production", "action": "warn"},
    ],
}

TABLE = [
    # policy, tool, classes, expected action
    (DEFAULT_POLICY, "chatgpt", [], "allow"),
    (DEFAULT_POLICY, "chatgpt", ["secret"], "block"),
    (DEFAULT_POLICY, "claude", ["payment"], "block"),
    (DEFAULT_POLICY, "claude", ["pii"], "warn"),
    (DEFAULT_POLICY, "claude", ["production"], "warn"),
    (DEFAULT_POLICY, "claude", ["pii", "secret"], "block"),
    (DEFAULT_POLICY, None, ["secret"], "allow"),          # unknown tool + monitor: record only
    (CUSTOM, "copilot", ["production"], "allow"),          # first matching rule decides
    (CUSTOM, "copilot", ["production", "secret"], "block"),
    (CUSTOM, "chatgpt", ["secret"], "redact"),            # the chatgpt rule comes first
    (CUSTOM, "chatgpt", ["pii"], "redact"),
    (CUSTOM, "claude", ["pii"], "allow"),                 # no rule for the class
    (CUSTOM, None, ["secret"], "block"),                  # enforce: * rules apply
    (CUSTOM, None, ["pii", "production"], "warn"),
]


@pytest.mark.parametrize("policy, tool, classes, expected", TABLE)
def test_decision_table(policy, tool, classes, expected):
    action, reason = decide(policy, tool, classes)
    assert action == expected
    assert reason


SEVERE = {
    "version": 1, "unknown_tool": "enforce",
    "rules": [
        {"tool": "*", "data_class": "pii", "min_severity": "high", "action": "block"},
        {"tool": "*", "data_class": "pii", "min_severity": "medium", "action": "warn"},
        {"tool": "*", "data_class": "production", "min_severity": "critical", "action": "block"},
    ],
}

SEVERITY_TABLE = [
    # policy, classes, worst severity per class, expected action
    (SEVERE, ["pii"], {"pii": "high"}, "block"),           # an SSN: the first rule covers it
    (SEVERE, ["pii"], {"pii": "medium"}, "warn"),          # an email: falls to the second rule
    (SEVERE, ["pii"], {"pii": "low"}, "allow"),            # a lone name: no rule is that lenient
    (SEVERE, ["pii"], {}, "warn"),                         # no severity given: pii counts as medium
    (SEVERE, ["pii"], {"pii": "bogus"}, "warn"),           # unknown severity: the class's usual one
    (SEVERE, ["production"], {"production": "high"}, "allow"),
    (SEVERE, ["production"], {"production": "critical"}, "block"),  # a DB URL with a password
    (DEFAULT_POLICY, ["pii"], {"pii": "low"}, "allow"),   # the default does not nag about a name
    (DEFAULT_POLICY, ["pii"], {"pii": "medium"}, "warn"),
    (DEFAULT_POLICY, ["pii", "secret"], {"pii": "low", "secret": "critical"}, "block"),
]


@pytest.mark.parametrize("policy, classes, severities, expected", SEVERITY_TABLE)
def test_rules_with_min_severity_cover_only_findings_that_severe(policy, classes, severities, expected):
    assert decide(policy, "claude", classes, None, severities)[0] == expected


def test_min_severity_is_part_of_the_contract():
    validate_policy(SEVERE)
    bad = copy.deepcopy(SEVERE)
    bad["rules"][0]["min_severity"] = "extreme"
    with pytest.raises(ContractError):
        validate_policy(bad)


def test_reason_names_what_was_found():
    action, reason = decide(DEFAULT_POLICY, "chatgpt", ["pii", "secret"],
                            {"secret": "AWS access key", "pii": "Email address"})
    assert (action, reason) == ("block", "AWS access key found: blocked by company AI policy")
    assert decide(DEFAULT_POLICY, "chatgpt", ["pii"])[1] == "Personal data found: flagged by company AI policy"


def test_store_accepts_valid_refuses_invalid_and_caches(tmp_path):
    path = tmp_path / "policy.json"
    store = PolicyStore(path)
    assert store.policy == DEFAULT_POLICY and store.etag is None
    assert store.accept(CUSTOM, '"v2"') is True
    assert store.decide("chatgpt", ["pii"])[0] == "redact"
    bad = copy.deepcopy(CUSTOM)
    bad["rules"][0]["action"] = "explode"
    assert store.accept(bad, '"v3"') is False
    assert store.policy == CUSTOM and store.etag == '"v2"'
    assert store.accept({"version": 1}, '"v4"') is False
    reloaded = PolicyStore(path)
    assert reloaded.policy == CUSTOM and reloaded.etag == '"v2"'


def test_corrupt_cache_falls_back_to_default(tmp_path):
    path = tmp_path / "policy.json"
    path.write_text("{not json")
    assert PolicyStore(path).policy == DEFAULT_POLICY
    path.write_text(json.dumps({"policy": {"version": 2}, "etag": "x"}))
    assert PolicyStore(path).policy == DEFAULT_POLICY


def test_refresh_from_the_real_collector_uses_etag(tmp_path, collector):
    from shadowmap.agent.enroll import enroll, read_secret
    _, url, secret = collector
    enrollment = enroll(url, read_secret(secret), tmp_path / "state")
    store = PolicyStore(tmp_path / "state" / "policy.json")
    store.policy = CUSTOM                          # whatever we had before
    assert store.refresh(url, enrollment.node_key) is True
    assert store.policy["version"] == 1 and store.etag
    assert store.refresh(url, enrollment.node_key) is False        # 304: unchanged
    assert PolicyStore(tmp_path / "state" / "policy.json").etag == store.etag
    assert store.refresh(url, "not-a-node-key") is False           # 401: keep the policy
    assert store.refresh("http://127.0.0.1:9", enrollment.node_key) is False
    assert store.policy["version"] == 1


def test_offline_modes_global_or_per_class():
    assert offline_modes(DEFAULT_POLICY) == {k: "fail_open" for k in OFFLINE_KEYS}
    per_class = dict(CUSTOM, on_agent_unavailable={"default": "fail_open", "secret": "fail_closed"})
    validate_policy(per_class)
    assert offline_modes(per_class) == {"default": "fail_open", "secret": "fail_closed", "pii": "fail_open",
                                        "payment": "fail_open", "production": "fail_open"}
    assert offline_modes(dict(CUSTOM, on_agent_unavailable="fail_closed"))["pii"] == "fail_closed"
    for bad in ({"secret": "maybe"}, {"tokens": "fail_open"}, {}, "fail_sideways"):
        with pytest.raises(ContractError):
            validate_policy(dict(CUSTOM, on_agent_unavailable=bad))


@dataclass
class Span:
    entity_type: str
    start: int
    end: int


def spans_of(text: str, *pairs: tuple[str, str]) -> list[Span]:
    """A Span for every occurrence of each (entity type, value)."""
    found = []
    for entity_type, value in pairs:
        at = text.find(value)
        while at >= 0:
            found.append(Span(entity_type, at, at + len(value)))
            at = text.find(value, at + 1)
    return found


REDACT_TABLE = [
    # text, findings as (type, value), expected
    ("mail a@x.io and b@y.io, again a@x.io",
     [("EMAIL_ADDRESS", "a@x.io"), ("EMAIL_ADDRESS", "b@y.io")],
     "mail <EMAIL_1> and <EMAIL_2>, again <EMAIL_1>"),
    ("key AKIAZ3MHQ4WXRT6PLN2B for ops@acme.com",
     [("AWS_ACCESS_KEY", "AKIAZ3MHQ4WXRT6PLN2B"), ("EMAIL_ADDRESS", "ops@acme.com")],
     "key <AWS_ACCESS_KEY_1> for <EMAIL_1>"),
    ("ship to 221 Baker Street, born 1984-03-07",
     [("STREET_ADDRESS", "221 Baker Street"), ("DATE_OF_BIRTH", "1984-03-07")],
     "ship to <ADDRESS_1>, born <DOB_1>"),
    ("nothing here", [], "nothing here"),
    # overlapping findings: the earlier (longer) span wins, the inner one is dropped
    ("db postgres://u:pw@db.internal/x", [("DATABASE_URL", "postgres://u:pw@db.internal/x"),
                                          ("INTERNAL_HOSTNAME", "db.internal")], "db <DB_URL_1>"),
]


@pytest.mark.parametrize("text, pairs, expected", REDACT_TABLE)
def test_redact_uses_stable_typed_placeholders(text, pairs, expected):
    assert redact(text, spans_of(text, *pairs)) == expected
