"""Policy decisions: first matching rule per class, strictest class wins."""
from __future__ import annotations

import copy
import json

import pytest

from agent.policy import DEFAULT_POLICY, PolicyStore, decide

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
    from agent.enroll import enroll, read_secret
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
