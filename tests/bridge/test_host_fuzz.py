"""Property-based fuzzing of the native host's framing and Relay, in-process (fast enough
for >= 10,000 cases per run in the suite): whatever bytes the browser sends, the host never
crashes, writes nothing but well-formed frames of at most 1 MiB, answers every complete
frame exactly once, and on a broken stream answers with an error and closes (exit 1).

The expected replies come from an independent model of the stream (count_frames), not from
the host's own code. The agent on the other side is the stand-in from conftest.py, reached
by the real AgentLink over a real Unix socket."""
from __future__ import annotations

import io
import json
import os
import random
import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shadowmap.bridge import host
from shadowmap.bridge.host import REQUEST_TYPES, Caller, Relay
from shadowmap.ipc import framing
from shadowmap.ipc.agent_link import AgentLink

pytestmark = pytest.mark.fuzz

# cases per run: 10,000 in the suite unless told otherwise. Hypothesis's own cost per
# example (~8 ms here) dominates, so each example runs one stream hypothesis built plus
# CASES_PER_EXAMPLE - 1 more drawn from a Random it controls (same vocabulary, reproducible).
CASES = int(os.environ.get("SHADOWMAP_FUZZ_EXAMPLES", "10000"))
CASES_PER_EXAMPLE = 10
SMALL_LIMIT = 4096   # the relay reads with the real limit; the model only needs the header


def model(stdin: bytes) -> tuple[int, int]:
    """(replies expected, exit code) for a byte stream, by the framing rules alone."""
    at, replies = 0, 0
    while at < len(stdin):
        if len(stdin) - at < 4:
            return replies + 1, 1                      # truncated length header
        (length,) = struct.unpack_from("<I", stdin, at)
        if length > framing.MAX_FROM_BROWSER:
            return replies + 1, 1                      # too large: error, then close
        if len(stdin) - at - 4 < length:
            return replies + 1, 1                      # truncated body
        at += 4 + length
        replies += 1
    return replies, 0


def frame(body: bytes) -> bytes:
    return struct.pack("<I", len(body)) + body


# Generating data is most of a case's cost, so the frames' contents are mostly picked from
# prepared messages (every request type, odd ids, wrong field types, non-objects, lone
# surrogates) and mixed with random bytes and random text.
PREPARED = [
    *({"type": kind, "id": n} for n, kind in enumerate(sorted(REQUEST_TYPES))),
    {"type": "scan", "channel": "paste", "url": "https://chatgpt.com/", "text": "hello", "id": "s"},
    {"type": "scan", "text": 5, "id": [1]}, {"type": "scan", "id": {"a": None}},
    {"type": "launch"}, {"type": None}, {"type": 7, "id": 1.5}, {"id": 3}, {},
    [1, 2], "string", 3, None, True,
]
prepared_frames = st.sampled_from([frame(json.dumps(m).encode()) for m in PREPARED] + [
    frame(b'{"type":"scan","text":"\\ud800","id":1}'),                 # a lone surrogate
    frame(b'{"type":"ping","id":"\\udfff"}'), frame(b"{"), frame(b"\xff\xfe"), frame(b"")])
scan_frames = st.text(max_size=40).map(
    lambda t: frame(json.dumps({"type": "scan", "channel": "paste", "url": "https://claude.ai/", "text": t,
                                "id": t[:5]}).encode()))
random_frames = st.binary(max_size=48).map(frame)                    # invalid UTF-8 / not JSON
PREPARED_FRAMES = [frame(json.dumps(m).encode()) for m in PREPARED]
tails = st.one_of(
    st.just(b""),
    st.binary(min_size=1, max_size=3),                                  # a cut length header
    st.integers(framing.MAX_FROM_BROWSER + 1, 2**32 - 1).map(lambda n: struct.pack("<I", n)),
    st.tuples(st.integers(1, SMALL_LIMIT), st.binary(max_size=16)).map(
        lambda t: struct.pack("<I", t[0] + len(t[1])) + t[1]),          # a truncated body
)
streams = st.tuples(st.lists(prepared_frames | scan_frames | random_frames, max_size=5), tails).map(
    lambda t: b"".join(t[0]) + t[1])


def random_stream(rnd: random.Random) -> bytes:
    """A stream like `streams`, drawn from `rnd`: prepared frames, random text and bytes, a tail."""
    parts = []
    for _ in range(rnd.randint(0, 5)):
        pick = rnd.random()
        if pick < 0.4:
            parts.append(rnd.choice(PREPARED_FRAMES))
        elif pick < 0.7:
            text = "".join(chr(rnd.choice((rnd.randint(32, 126), rnd.randint(0, 0x10FFFF)))) for _ in range(rnd.randint(0, 30)))
            parts.append(frame(json.dumps({"type": "scan", "channel": "paste", "url": "https://claude.ai/",
                                           "text": text, "id": rnd.randint(0, 9)}).encode()))
        else:
            parts.append(frame(rnd.randbytes(rnd.randint(0, 48))))
    tail = rnd.choice((b"", rnd.randbytes(rnd.randint(1, 3)),
                       struct.pack("<I", rnd.randint(framing.MAX_FROM_BROWSER + 1, 2**32 - 1)),
                       struct.pack("<I", rnd.randint(1, SMALL_LIMIT) + 8) + rnd.randbytes(8)))
    return b"".join(parts) + tail


@pytest.fixture
def quiet_host():
    """The host logs every closed stream; thousands of such lines only slow the run."""
    level = host.log.level
    host.log.level = host.LOG_LEVELS["ERROR"]
    yield
    host.log.level = level


def check_stream(link: AgentLink, parse_frames, stdin: bytes) -> None:
    out = io.BytesIO()
    code = Relay(io.BytesIO(stdin), out, link, Caller("chromium", "chrome-extension://x/")).run()
    replies = parse_frames(out.getvalue())             # nothing but frames on stdout
    expected_replies, expected_code = model(stdin)
    assert (len(replies), code) == (expected_replies, expected_code), stdin
    assert all(len(framing.encode(r)) <= framing.MAX_TO_BROWSER for r in replies)
    if code == 1:
        assert replies[-1]["type"] == "error"


@settings(max_examples=max(1, CASES // CASES_PER_EXAMPLE), deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(stdin=streams | st.binary(max_size=80), rnd=st.randoms(use_true_random=False))
def test_every_input_is_answered_with_frames_or_cleanly_closed(agent, parse_frames, quiet_host, stdin, rnd):
    # one link for the whole example, as one host process keeps one agent connection
    link = AgentLink(agent.path)
    try:
        check_stream(link, parse_frames, stdin)
        for _ in range(CASES_PER_EXAMPLE - 1):
            check_stream(link, parse_frames, random_stream(rnd))
    finally:
        link.close()
