"""The IPC server over a real Unix socket, with the real ScanEngine, catalog and spool."""
from __future__ import annotations

import os
import pwd
import stat
import struct
import threading

import pytest

from shadowmap.agent import events
from shadowmap.agent.enroll import EnrollmentHolder
from shadowmap.agent.handlers import RequestHandlers
from shadowmap.agent.ipc import IPCServer, SocketInUse
from shadowmap.agent.policy import PolicyStore
from shadowmap.agent.spool import Spool
from shadowmap.ipc import framing

# looks like an AWS access key id (AKIA + 16 of [A-Z2-7]), not a documentation example
AWS_KEY = "AKIAZ3MHQ4WXRT6PLN2B"

PAGE = "https://chatgpt.com/c/6f1e?draft=confidential"


REDACTING_POLICY = {
    "version": 1, "unknown_tool": "monitor",
    "on_agent_unavailable": {"default": "fail_open", "secret": "fail_closed"},
    "rules": [{"tool": "*", "data_class": "*", "action": "redact"}],
}


@pytest.fixture(params=["default"])
def agent(request, tmp_path, engine, catalog, summarize):
    """A running IPC server and its spool, in tmp_path (indirect param: "redacting" policy)."""
    state = tmp_path / "state"
    state.mkdir()
    spool = Spool(state / "spool.db")
    policy = PolicyStore(state / "policy.json")
    if request.param == "redacting":
        assert policy.accept(REDACTING_POLICY, '"r1"')
    handlers = RequestHandlers(engine, catalog, summarize, policy, spool, EnrollmentHolder(state))
    server = IPCServer(tmp_path / "run" / "agent.sock", handlers.handle, mode="user")
    server.start()
    yield server, spool
    server.stop()
    spool.close()


def spool_bytes(spool: Spool) -> bytes:
    return b"".join(p.read_bytes() for p in spool.path.parent.glob("spool.db*"))


def test_catalog_knows_the_test_page(catalog):
    assert catalog.match_domain("chatgpt.com") is not None


def test_ping_echoes_id(agent, connect):
    server, _ = agent
    reply = connect(server.path).request({"type": "ping", "id": {"n": 7}})
    assert reply["type"] == "pong" and reply["id"] == {"n": 7} and reply["agent_version"]


def test_aws_key_is_blocked_and_spooled_without_raw_text(agent, connect):
    server, spool = agent
    text = f"here is our deploy config\naws_access_key_id = {AWS_KEY}\nthanks"
    reply = connect(server.path).request(
        {"type": "scan", "id": 1, "channel": "paste", "url": PAGE, "text": text, "browser": "chrome"})
    assert reply["type"] == "verdict" and reply["id"] == 1
    assert reply["action"] == "block"
    assert "AWS" in reply["reason"] and "blocked" in reply["reason"]
    aws = [f for f in reply["findings"] if f["entity_type"] == "AWS_ACCESS_KEY"]
    assert aws == [{"entity_type": "AWS_ACCESS_KEY", "data_class": "secret", "count": 1,
                    "reason": aws[0]["reason"]}]
    assert all(set(f) == {"entity_type", "data_class", "count", "reason"} for f in reply["findings"])

    [event] = spool.next_batch(10)              # spooled before the reply was sent
    assert event["id"] == reply["event_id"] and event["type"] == "paste.scanned"
    data = event["data"]
    assert (data["action"], data["domain"], data["channel"], data["browser"]) == \
           ("block", "chatgpt.com", "paste", "chrome")
    assert data["tool_id"] and "secret" in data["data_classes"]
    assert data["text_length"] == len(text)
    raw = spool_bytes(spool)
    assert AWS_KEY.encode() not in raw and b"deploy config" not in raw
    assert b"/c/6f1e" not in raw and b"confidential" not in raw    # only the host is kept


def test_harmless_paste_is_allowed(agent, connect):
    server, spool = agent
    reply = connect(server.path).request(
        {"type": "scan", "channel": "paste", "url": PAGE, "text": "Can you rewrite this sentence to sound friendlier?"})
    assert (reply["type"], reply["action"], reply["findings"]) == ("verdict", "allow", [])
    [event] = spool.next_batch(10)
    assert event["data"]["action"] == "allow" and event["data"]["data_classes"] == []


def test_the_verdict_weighs_severity_a_lone_name_passes_contact_details_warn(agent, connect):
    """Default policy: pii warns from medium severity up (detectors/severity.py), so a name
    alone (low) is recorded but allowed, while an email address (medium) is flagged."""
    server, spool = agent
    client = connect(server.path)
    name_only = client.request({"type": "scan", "channel": "paste", "url": PAGE,
                                "text": "Please thank Margaret Thornton for the review notes."})
    with_email = client.request({"type": "scan", "channel": "paste", "url": PAGE,
                                 "text": "Please thank Margaret Thornton (margaret.thornton@acme-corp.com)."})
    assert [f["entity_type"] for f in name_only["findings"]] == ["PERSON"]
    assert name_only["action"] == "allow"
    assert with_email["action"] == "warn" and "EMAIL_ADDRESS" in {f["entity_type"] for f in with_email["findings"]}
    first, second = spool.next_batch(10)
    assert first["data"]["action"] == "allow" and first["data"]["data_classes"] == ["pii"]
    assert {f.get("severity") for f in first["data"]["findings"]} == {"low"}
    assert second["data"]["action"] == "warn"


def test_a_bounded_scan_says_so_in_the_verdict_and_the_event(agent, connect):
    """Prose past the name model's budget is not read for names (docs/detectors.md, "The 1 MB
    bound"): the verdict and the spooled event name the limit; a short paste has none."""
    server, spool = agent
    client = connect(server.path)
    long_prose = "The planning notes from Tuesday cover the roadmap, hiring and the budget review. " * 200
    bounded = client.request({"type": "scan", "channel": "paste", "url": PAGE, "text": long_prose})
    short = client.request({"type": "scan", "channel": "paste", "url": PAGE, "text": long_prose[:500]})
    assert bounded["scan_limits"] == ["ner_budget"] and "scan_limits" not in short
    first, second = spool.next_batch(10)
    assert first["data"]["scan_limits"] == ["ner_budget"] and "scan_limits" not in second["data"]


def test_unknown_tool_is_monitored_not_enforced(agent, connect):
    server, spool = agent
    reply = connect(server.path).request(
        {"type": "scan", "channel": "drop", "url": "https://intranet-ai.example.net/", "text": f"key {AWS_KEY}"})
    assert reply["action"] == "allow"
    [event] = spool.next_batch(10)
    assert event["data"]["tool_id"] is None and event["data"]["data_classes"] == ["secret"]


def test_peer_user_is_the_os_user_not_the_message(agent, connect):
    server, spool = agent
    reply = connect(server.path).request(
        {"type": "scan", "channel": "paste", "url": PAGE, "text": "hello", "user": "mallory"})
    assert reply["type"] == "verdict"
    [event] = spool.next_batch(10)
    assert event["user"] == pwd.getpwuid(os.getuid()).pw_name


BAD_REQUESTS = [
    ({"type": "launch"}, "unknown_type"),
    ({"id": 3}, "unknown_type"),
    ({"type": "scan", "channel": "paste", "url": PAGE}, "bad_request"),
    ({"type": "scan", "channel": "fax", "url": PAGE, "text": "x"}, "bad_request"),
    ({"type": "scan", "channel": "paste", "url": "javascript:alert(1)", "text": "x"}, "bad_request"),
    ({"type": "scan", "channel": "paste", "url": 5, "text": "x"}, "bad_request"),
    ({"type": "scan", "channel": "paste", "url": PAGE, "text": ["x"]}, "bad_request"),
    ({"type": "scan", "channel": "paste", "url": PAGE, "text": "x", "browser": "b" * 65}, "bad_request"),
    ({"type": "visit"}, "bad_request"),
    ({"type": "scan", "channel": "paste", "url": PAGE, "text": "x" * (framing.MAX_SCAN_TEXT + 1)}, "too_large"),
]


def test_bad_requests_get_error_frames_and_the_connection_lives(agent, connect):
    server, spool = agent
    client = connect(server.path)
    for msg, code in BAD_REQUESTS:
        reply = client.request(dict(msg, id="r"))
        assert (reply["type"], reply["error"], reply["id"]) == ("error", code, "r"), msg
        assert reply["detail"]
    client.send_raw(struct.pack("<I", 8) + b'"string"')
    assert client.receive()["error"] == "bad_request"
    assert client.request({"type": "ping"})["type"] == "pong"
    assert spool.depth() == 0


def test_bad_frames_reply_with_codes(agent, connect):
    server, _ = agent
    client = connect(server.path)
    for raw, code in [(b"{not json", "bad_json"), (b"[1, 2]", "bad_request"), (b"\xff\xfe", "bad_frame")]:
        client.send_raw(struct.pack("<I", len(raw)) + raw)
        reply = client.receive()
        assert (reply["type"], reply["error"]) == ("error", code)
    assert client.request({"type": "ping"})["type"] == "pong"


def test_fatal_framing_errors_close_only_that_connection(agent, connect):
    server, _ = agent
    oversized = connect(server.path)
    oversized.send_raw(struct.pack("<I", framing.MAX_FROM_BROWSER + 1))
    assert oversized.receive()["error"] == "too_large"
    assert oversized.receive() is None                 # closed: the stream is out of sync
    truncated = connect(server.path)
    truncated.send_raw(b"\x05\x00")
    truncated.sock.shutdown(1)
    assert truncated.receive()["error"] == "bad_frame"
    assert connect(server.path).request({"type": "ping"})["type"] == "pong"


def test_visit_is_deduplicated_per_tool_user_day(agent, connect):
    server, spool = agent
    client = connect(server.path)
    for url in (PAGE, "https://chatgpt.com/other", PAGE):
        assert client.request({"type": "visit", "url": url, "browser": "chrome"}) == {"type": "ack"}
    [event] = spool.next_batch(10)
    assert event["type"] == "ai_tool.observed"
    assert event["data"] == {"tool_id": event["data"]["tool_id"], "source": "extension",
                             "domain": "chatgpt.com", "browser": "chrome"}
    assert event["data"]["tool_id"]


def test_socket_permissions_per_user(agent):
    server, _ = agent
    assert stat.S_IMODE(server.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(server.path.parent.stat().st_mode) == 0o700


def test_system_mode_socket_is_world_connectable(tmp_path):
    server = IPCServer(tmp_path / "sys" / "agent.sock", lambda m, u: {"type": "ack"}, mode="system")
    server.start()
    try:
        assert stat.S_IMODE(server.path.stat().st_mode) == 0o666
    finally:
        server.stop()


def test_second_server_on_same_socket_refused_stale_socket_replaced(agent, tmp_path):
    server, _ = agent
    with pytest.raises(SocketInUse):
        IPCServer(server.path, lambda m, u: {}, mode="user").start()
    stale = tmp_path / "stale" / "agent.sock"
    stale.parent.mkdir()
    import socket as _socket
    leftover = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    leftover.bind(str(stale))
    leftover.close()                                   # a socket file nobody listens on
    again = IPCServer(stale, lambda m, u: {"type": "ack"}, mode="user")
    again.start()
    again.stop()


def test_concurrent_connections(agent, connect):
    server, spool = agent
    results: list[str] = []

    def one(i: int) -> None:
        client = connect(server.path)
        results.append(client.request({"type": "scan", "channel": "submit", "url": PAGE,
                                       "text": f"note {i}: key {AWS_KEY}"})["action"])

    threads = [threading.Thread(target=one, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert results == ["block"] * 4
    assert spool.depth() == 4
    assert all(e["data"]["channel"] == "submit" for e in spool.next_batch(10))
    assert spool.next_batch(1)[0]["device_id"] == events.UNENROLLED_DEVICE


redacting = pytest.mark.parametrize("agent", ["redacting"], indirect=True)
WARNED_TEXT = "Please write to margaret.holloway@northwind-traders.com about her invoice"


@redacting
def test_redact_returns_typed_placeholders_and_records_it(agent, connect):
    server, spool = agent
    text = (f"key {AWS_KEY} belongs to margaret.holloway@northwind-traders.com; "
            f"again {AWS_KEY}, cc: tom.baker@northwind-traders.com")
    reply = connect(server.path).request({"type": "scan", "channel": "paste", "url": PAGE, "text": text})
    assert reply["action"] == "redact"
    assert reply["redacted_text"] == ("key <AWS_ACCESS_KEY_1> belongs to <EMAIL_1>; "
                                      "again <AWS_ACCESS_KEY_1>, cc: <EMAIL_2>")
    [event] = spool.next_batch(10)
    assert event["data"]["action"] == "redact" and event["data"]["redacted"] is True
    assert AWS_KEY.encode() not in spool_bytes(spool)


@redacting
def test_files_cannot_be_redacted_so_they_are_blocked(agent, connect):
    server, spool = agent
    files = [{"name": "keys.txt", "mime": "text/plain", "size": 40, "read": True},
             {"name": "photo.png", "mime": "image/png", "size": 9000, "read": False}]
    reply = connect(server.path).request({"type": "scan", "channel": "upload", "url": PAGE,
                                          "text": f"aws {AWS_KEY}", "files": files})
    assert reply["action"] == "block" and "files cannot be redacted" in reply["reason"]
    assert "redacted_text" not in reply
    [event] = spool.next_batch(10)
    assert event["data"]["files"] == files and event["data"]["channel"] == "upload"


def test_warning_override_is_recorded_with_a_scanned_justification(agent, connect):
    server, spool = agent
    client = connect(server.path)
    warned = client.request({"type": "scan", "channel": "submit", "url": PAGE, "text": WARNED_TEXT,
                             "browser": "chrome"})
    assert warned["action"] == "warn"
    why = "customer asked for it, ticket from dana.reyes@acme-corp.com"  # (a person: role mailboxes are not personal data)
    assert client.request({"type": "override", "event_id": warned["event_id"], "decision": "send_anyway",
                           "justification": why}) == {"type": "ack"}
    # one answer per warning: a replay is refused
    again = client.request({"type": "override", "event_id": warned["event_id"], "decision": "cancel"})
    assert again["error"] == "bad_request"
    scanned, override = spool.next_batch(10)
    assert override["type"] == "paste.override"
    assert override["data"] == {"scan_id": scanned["id"], "decision": "send_anyway", "tool_id": "chatgpt",
                                "domain": "chatgpt.com", "channel": "submit", "browser": "chrome",
                                "justification": "customer asked for it, ticket from <EMAIL_1>"}
    assert b"dana.reyes@acme-corp.com" not in spool_bytes(spool)


def test_override_needs_a_real_warning_and_a_justification(agent, connect):
    server, spool = agent
    client = connect(server.path)
    blocked = client.request({"type": "scan", "channel": "paste", "url": PAGE, "text": f"key {AWS_KEY}"})
    warned = client.request({"type": "scan", "channel": "paste", "url": PAGE, "text": WARNED_TEXT})
    for msg in ({"event_id": blocked["event_id"], "decision": "send_anyway", "justification": "x"},
                {"event_id": "not-an-id", "decision": "cancel"},
                {"event_id": warned["event_id"], "decision": "send_anyway", "justification": "   "},
                {"event_id": warned["event_id"], "decision": "maybe"}):
        assert client.request({"type": "override", **msg})["error"] == "bad_request", msg
    assert client.request({"type": "override", "event_id": warned["event_id"], "decision": "cancel"}) == \
        {"type": "ack"}
    assert [e["data"]["decision"] for e in spool.next_batch(10) if e["type"] == "paste.override"] == ["cancel"]


@redacting
def test_offline_policy_and_decisions_uploaded_later(agent, connect):
    server, spool = agent
    client = connect(server.path)
    assert client.request({"type": "policy"}) == {"type": "policy", "on_agent_unavailable": {
        "default": "fail_open", "secret": "fail_closed", "pii": "fail_open", "payment": "fail_open",
        "production": "fail_open"}}
    decision = {"type": "offline_decision", "decision_id": "0b8e2a52-3c1d-4e0f-9a6b-5d4c3b2a1f0e",
                "decided_at": "2026-11-26T09:00:00.123Z", "channel": "paste", "url": PAGE,
                "action": "block", "data_classes": ["secret"], "text_length": 120,
                "reason": "A secret found while shadowmap was unavailable: blocked"}
    assert client.request(decision) == {"type": "ack"}
    assert client.request(decision) == {"type": "ack"}          # resent after a lost ack
    for bad in ({"decision_id": "x"}, {"action": "redact"}, {"data_classes": ["gossip"]},
                {"decided_at": "yesterday"}):
        assert client.request({**decision, **bad})["error"] == "bad_request", bad
    [event] = spool.next_batch(10)                               # stored once
    assert event["data"]["decided_offline"] is True and event["data"]["decided_at"] == decision["decided_at"]
    assert (event["data"]["action"], event["data"]["data_classes"], event["data"]["tool_id"]) == \
        ("block", ["secret"], "chatgpt")


def test_usage_and_unknown_ai_signal(agent, connect):
    server, spool = agent
    client = connect(server.path)
    assert client.request({"type": "usage", "url": PAGE, "active_seconds": 95, "visits": 2}) == {"type": "ack"}
    assert client.request({"type": "usage", "url": "https://example.org/", "active_seconds": 5})["error"] == \
        "bad_request"
    assert client.request({"type": "usage", "url": PAGE, "active_seconds": -1})["error"] == "bad_request"
    signal = {"type": "unknown_signal", "url": "https://llm.example.net/chat/secret-project",
              "paste_length": 4000, "input_kind": "textarea"}
    assert client.request(signal) == {"type": "ack"}
    assert client.request(signal) == {"type": "ack"}              # once per domain, user, day
    assert client.request({**signal, "url": PAGE}) == {"type": "ack"}   # catalogued: not unknown
    usage, unknown = spool.next_batch(10)
    assert usage["type"] == "ai_tool.usage" and usage["data"] == {
        "tool_id": "chatgpt", "domain": "chatgpt.com", "active_seconds": 95, "visits": 2}
    assert unknown["type"] == "ai_tool.unknown_signal" and unknown["data"] == {
        "domain": "llm.example.net", "signal": "large_paste_chat_input", "input_kind": "textarea",
        "paste_length": 4000}
    assert b"secret-project" not in spool_bytes(spool)


def test_the_policy_reply_hands_the_extension_its_tenant_restrictions(tmp_path, engine, catalog, summarize, connect):
    from shadowmap import contract

    state = tmp_path / "state"
    state.mkdir()
    spool, policy = Spool(state / "spool.db"), PolicyStore(state / "policy.json")
    tenants = {"chatgpt_workspace_ids": ["ws-8f14e45f"], "microsoft_tenants": ["acme.com", "acme.onmicrosoft.com"]}
    assert policy.accept({**contract.default_policy(), "tenant_restrictions": tenants}, '"t1"')
    server = IPCServer(tmp_path / "run" / "agent.sock",
                       RequestHandlers(engine, catalog, summarize, policy, spool, EnrollmentHolder(state)).handle,
                       mode="user")
    server.start()
    try:
        reply = connect(server.path).request({"type": "policy"})
    finally:
        server.stop()
        spool.close()
    assert reply["tenant_restrictions"] == tenants
    contract.validate_ipc_reply(reply)


def test_a_paste_on_an_approved_tool_is_attributed_to_it(tmp_path, engine, catalog, summarize, connect):
    from shadowmap import contract

    state = tmp_path / "state"
    state.mkdir()
    spool, policy = Spool(state / "spool.db"), PolicyStore(state / "policy.json")
    approved = [{"id": "acme-ai", "vendor": "Acme AI", "domains": ["chat.acme-ai.example"], "process_names": []}]
    assert policy.accept({**contract.default_policy(), "approved_tools": approved}, '"a1"')
    server = IPCServer(tmp_path / "run" / "agent.sock",
                       RequestHandlers(engine, catalog, summarize, policy, spool, EnrollmentHolder(state)).handle,
                       mode="user")
    server.start()
    try:
        reply = connect(server.path).request({"type": "scan", "channel": "paste",
                                              "url": "https://chat.acme-ai.example/c/1", "text": f"key {AWS_KEY}"})
        [event] = spool.next_batch(10)
    finally:
        server.stop()
        spool.close()
    assert reply["action"] == "block"                              # the policy's rules apply to it as to any tool
    assert (event["data"]["tool_id"], event["data"]["domain"]) == ("acme-ai", "chat.acme-ai.example")
