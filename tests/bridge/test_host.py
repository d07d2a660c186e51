"""The native host as the browser runs it: a real subprocess fed frames on stdin, talking
to an agent stand-in on a real Unix socket. stdout must hold nothing but frames."""
from __future__ import annotations

import json
import subprocess
import sys

from shadowmap.ipc import framing

ORIGIN = "chrome-extension://nldlllnfaifhanllgflnbpocnceommpe/"


def frame(obj: dict) -> bytes:
    return framing.encode(obj, limit=framing.MAX_FROM_BROWSER)


def raw(body: bytes) -> bytes:
    return framing.HEADER.pack(len(body)) + body


PING = frame({"type": "ping", "id": 99})


def test_ping_is_relayed_with_its_id(agent, run_host):
    run = run_host(frame({"type": "ping", "id": "req-7"}), agent.path)
    assert run.returncode == 0
    assert run.frames == [{"type": "pong", "agent_version": "standin", "seen_browser": ORIGIN, "id": "req-7"}]
    assert agent.requests == [{"type": "ping", "id": "req-7", "browser": ORIGIN}]


def test_many_requests_share_one_agent_connection(agent, run_host):
    requests = [{"type": "ping", "id": 1},
                {"type": "scan", "id": 2, "channel": "paste", "url": "https://chatgpt.com/", "text": "hello"},
                {"type": "visit", "id": 3, "url": "https://claude.ai/new"}]
    run = run_host(b"".join(frame(r) for r in requests), agent.path)
    assert [f["id"] for f in run.frames] == [1, 2, 3]
    assert [f["type"] for f in run.frames] == ["pong", "verdict", "verdict"]
    assert agent.connections == 1
    assert agent.requests[1]["text"] == "hello" and agent.requests[1]["browser"] == ORIGIN


def test_agent_reply_cannot_change_the_id(agent, run_host):
    agent.answer = lambda request: frame({"type": "pong", "id": "someone-else"})
    run = run_host(frame({"type": "ping", "id": 5}), agent.path)
    assert run.frames == [{"type": "pong", "id": 5}]


def test_firefox_caller_is_recorded_by_add_on_id(agent, run_host):
    argv = ["/home/u/.mozilla/native-messaging-hosts/com.shadowmap.bridge.json", "shadowmap@example.com"]
    run = run_host(PING, agent.path, argv=argv)
    assert run.frames[0]["seen_browser"] == "shadowmap@example.com"
    assert "firefox" in run.stderr


def test_length_header_over_64_mib_is_an_error_then_exit(agent, run_host):
    header = framing.HEADER.pack(framing.MAX_FROM_BROWSER + 1)
    run = run_host(header + b"{}" + PING, agent.path)
    assert [f["error"] for f in run.frames] == ["too_large"]
    assert run.returncode == 1
    assert agent.requests == []


def test_truncated_frame_is_an_error_then_exit(agent, run_host):
    run = run_host(framing.HEADER.pack(100) + b'{"type":"ping"', agent.path)
    assert [(f["type"], f["error"]) for f in run.frames] == [("error", "bad_frame")]
    assert "truncated" in run.frames[0]["detail"]
    assert run.returncode == 1


def test_truncated_length_header_is_an_error(agent, run_host):
    run = run_host(b"\x05\x00", agent.path)
    assert [f["error"] for f in run.frames] == ["bad_frame"]
    assert run.returncode == 1


def test_recoverable_bad_frames_get_errors_and_the_host_keeps_going(agent, run_host):
    stdin = b"".join([
        raw(b'{"type":"scan","text":"\xff\xfe"}'),            # invalid UTF-8
        raw(b'{"type": "ping",'),                              # invalid JSON
        raw(b'[1, 2, 3]'),                                     # not an object
        frame({"type": "summon", "id": 4}),                    # unknown type
        frame({"id": 5}),                                      # no type at all
        frame({"type": "scan", "id": 6, "url": "https://chatgpt.com/", "text": 42}),  # text not a string
        PING,
    ])
    run = run_host(stdin, agent.path)
    assert run.returncode == 0
    assert [f.get("error") for f in run.frames] == [
        "bad_frame", "bad_json", "bad_request", "unknown_type", "unknown_type", "bad_request", None]
    assert [f.get("id") for f in run.frames] == [None, None, None, 4, 5, 6, 99]
    assert all(f["detail"] for f in run.frames[:-1])
    assert agent.requests == [{"type": "ping", "id": 99, "browser": ORIGIN}]


def test_text_over_the_scan_limit_is_refused_and_the_host_keeps_going(agent, run_host):
    big = "x" * (framing.MAX_SCAN_TEXT + 1)
    stdin = frame({"type": "scan", "id": "big", "channel": "paste", "url": "https://chatgpt.com/", "text": big}) + PING
    run = run_host(stdin, agent.path)
    assert [(f.get("id"), f.get("error")) for f in run.frames] == [("big", "too_large"), (99, None)]
    assert all(r["type"] == "ping" for r in agent.requests)


def test_multibyte_text_is_measured_in_bytes(agent, run_host):
    text = "\u20ac" * (framing.MAX_SCAN_TEXT // 3 + 1)  # 3 bytes each: just over the limit
    run = run_host(frame({"type": "scan", "id": 1, "channel": "paste", "url": "https://x/", "text": text}), agent.path)
    assert run.frames[0]["error"] == "too_large"


def test_agent_down_gives_agent_unavailable_with_the_id(short_dir, run_host):
    run = run_host(frame({"type": "scan", "id": 12, "channel": "paste", "url": "https://chatgpt.com/", "text": "hi"})
                   + PING, short_dir / "nobody-listens.sock")
    assert [(f["id"], f["error"]) for f in run.frames] == [(12, "agent_unavailable"), (99, "agent_unavailable")]
    assert run.returncode == 0


def test_reply_over_1_mib_is_replaced_by_an_error(agent, run_host):
    def huge(request: dict) -> bytes:
        return frame({"type": "verdict", "id": request.get("id"), "reason": "r" * (framing.MAX_TO_BROWSER + 10)})
    agent.answer = huge
    run = run_host(frame({"type": "ping", "id": "h"}), agent.path)
    assert [(f["id"], f["error"]) for f in run.frames] == [("h", "too_large")]


def test_reconnects_after_the_agent_drops_the_connection(agent, run_host):
    agent.close_after_each_reply = True  # as if the agent restarted between requests
    run = run_host(frame({"type": "ping", "id": 1}) + frame({"type": "ping", "id": 2}), agent.path)
    assert [(f["type"], f["id"]) for f in run.frames] == [("pong", 1), ("pong", 2)]
    assert agent.connections == 2


def test_garbage_from_the_agent_is_an_internal_error_not_a_crash(agent, run_host):
    answers = iter([b"\xff\xff\xff\xff garbage", frame({"type": "pong", "id": 2})])
    agent.answer = lambda request: next(answers)
    run = run_host(frame({"type": "ping", "id": 1}) + frame({"type": "ping", "id": 2}), agent.path)
    assert [(f["id"], f.get("error")) for f in run.frames] == [(1, "internal"), (2, None)]


def test_lone_surrogates_get_an_error_not_a_traceback(agent, run_host):
    body = json.dumps({"type": "scan", "id": 3, "channel": "paste", "url": "https://x/", "text": "a\ud800b"}).encode()
    run = run_host(raw(body) + raw(b'{"type":"ping","id":"\\udc00"}') + PING, agent.path)
    assert [f.get("error") for f in run.frames] == ["bad_request", "internal", None]


def test_empty_stdin_exits_cleanly(agent, run_host):
    run = run_host(b"", agent.path)
    assert run.frames == [] and run.returncode == 0


def test_host_imports_nothing_heavy():
    # the browser starts the host on every connect: it must stay a stdlib-only relay
    code = ("import sys, shadowmap.bridge.host; "
            "print(','.join(sorted(m.split('.')[0] for m in sys.modules)))")
    out = subprocess.run([sys.executable, "-I", "-c", code], capture_output=True, text=True, check=True).stdout
    loaded = set(out.strip().split(","))
    assert not loaded & {"presidio_analyzer", "spacy", "aiohttp", "requests", "click", "yaml", "jsonschema", "detectors"}
