"""The IPC server over a real Unix socket, with the real ScanEngine, catalog and spool."""
from __future__ import annotations

import os
import pwd
import stat
import struct
import threading

import pytest

from agent import events
from agent.enroll import EnrollmentHolder
from agent.handlers import RequestHandlers
from agent.ipc import IPCServer, SocketInUse
from agent.policy import PolicyStore
from agent.spool import Spool
from extension_bridge import framing

# looks like an AWS access key id (AKIA + 16 of [A-Z2-7]), not a documentation example
AWS_KEY = "AKIAZ3MHQ4WXRT6PLN2B"

PAGE = "https://chatgpt.com/c/6f1e?draft=confidential"


@pytest.fixture
def agent(tmp_path, engine, catalog, summarize):
    """A running IPC server and its spool, in tmp_path."""
    state = tmp_path / "state"
    state.mkdir()
    spool = Spool(state / "spool.db")
    handlers = RequestHandlers(engine, catalog, summarize, PolicyStore(state / "policy.json"), spool,
                               EnrollmentHolder(state))
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
    assert events.UNENROLLED_DEVICE == spool.next_batch(1)[0]["device_id"]
