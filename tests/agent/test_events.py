"""Event builders produce contract-valid envelopes carrying only the page's host."""
from __future__ import annotations

import re

import pytest

from shadowmap import contract
from shadowmap.agent import events

TS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")


def test_paste_scanned_valid():
    finding = {"entity_type": "AWS_ACCESS_KEY", "data_class": "secret", "count": 2, "score": 0.95,
               "hashes": ["a" * 64], "reason": "AWS access key"}
    event = events.paste_scanned(device_id="dev-1", user="alice", channel="paste", tool_id="chatgpt",
                                 domain="chatgpt.com", findings=[finding], action="block",
                                 reason="AWS access key found", text_length=120, elapsed_ms=12.5,
                                 browser="chrome")
    contract.validate_event(event)
    assert event["type"] == "paste.scanned" and TS.match(event["ts"])
    assert event["data"]["data_classes"] == ["secret"]


def test_observed_and_heartbeat_valid():
    contract.validate_event(events.ai_tool_observed(device_id="d", user="bob", tool_id=None,
                                                  source="extension", domain="new-ai.example"))
    hb = events.agent_heartbeat(device_id="d", user="root", agent_version="0.1.0", hostname="lap",
                                os_name="Linux", os_version="6.1", spool_depth=3, users=["b", "a", "a"])
    assert hb["data"]["users"] == ["a", "b"]
    assert hb["id"] != events.agent_heartbeat(device_id="d", user="root", agent_version="0.1.0",
                                              hostname="lap", os_name="Linux")["id"]


@pytest.mark.parametrize("url, host", [
    ("https://chatgpt.com/c/123?q=secret#frag", "chatgpt.com"),
    ("https://USER:pw@Claude.AI:8443/chat", "claude.ai"),
    ("http://127.0.0.1:8080/x", "127.0.0.1"),
    ("https://example.com./", "example.com"),
])
def test_host_only(url, host):
    assert events.host_of(url) == host


@pytest.mark.parametrize("url", ["", "not a url", "file:///etc/passwd", "https://[::1]/", 42,
                                 "https://ex ample.com/", "https://bücher.de/", "http://-a.com/"])
def test_bad_urls_refused(url):
    with pytest.raises(events.BadURL):
        events.host_of(url)


def test_invalid_data_is_refused():
    with pytest.raises(contract.ContractError):
        events.ai_tool_observed(device_id="bad id with spaces", user="a", tool_id=None,
                                source="extension", domain="x.com")


def test_event_ids_are_uuid7_ordered_by_time():
    """The collector's idempotency index relies on ids that grow with time (RFC 9562 UUIDv7)."""
    import time
    import uuid

    before_ms = time.time_ns() // 1_000_000
    first = events.new_event_id()
    time.sleep(0.003)
    second = events.new_event_id()
    after_ms = time.time_ns() // 1_000_000
    for value in (first, second):
        parsed = uuid.UUID(value)
        assert parsed.version == 7 and parsed.variant == uuid.RFC_4122
        assert before_ms <= parsed.int >> 80 <= after_ms  # the first 48 bits: Unix time in ms
        assert re.fullmatch(contract.event_schema()["properties"]["id"]["pattern"], value)
    assert first < second  # later ids sort after earlier ones, as text too
    assert len({events.new_event_id() for _ in range(10_000)}) == 10_000
    event = events.ai_tool_observed(device_id="d", user="bob", tool_id=None, source="extension", domain="x.example")
    assert uuid.UUID(event["id"]).version == 7
