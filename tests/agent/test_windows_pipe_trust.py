"""The native host's guards on the Windows pipe, in the parts that do not need Windows:

- who may serve the pipe (a pure decision from SIDs: the service's, LocalSystem's, the
  host's own user's), including the service SID computed as Windows computes it;
- the reply deadline: winpipe.TimedPipeReader over a real OS pipe, with select + FIONREAD
  standing in for PeekNamedPipe, behind the real AgentLink and the host's Relay, against a
  real agent session (the real engine) and a hung one.

The Win32 calls (GetNamedPipeServerProcessId, the server's token, GetSecurityInfo,
PeekNamedPipe) only run on Windows and are not exercised here."""
from __future__ import annotations

import contextlib
import fcntl
import io
import os
import select
import struct
import termios
import threading
import time

import pytest

from shadowmap.agent.enroll import EnrollmentHolder
from shadowmap.agent.handlers import RequestHandlers
from shadowmap.agent.ipc_session import serve_connection
from shadowmap.agent.policy import PolicyStore
from shadowmap.agent.spool import Spool
from shadowmap.bridge.host import Caller, Relay
from shadowmap.ipc import agent_link, framing, winpipe

ALICE = "S-1-5-21-3623811015-3361044348-30300820-1013"
BOB = "S-1-5-21-3623811015-3361044348-30300820-1014"
SYSTEM = "S-1-5-18"
ADMINISTRATORS = "S-1-5-32-544"
SERVICE = winpipe.service_sid("ShadowmapAgent")
ALICE_PIPE = winpipe.USER_PIPE_PREFIX + ALICE
AWS_KEY = "AKIAZ3MHQ4WXRT6PLN2B"


def test_service_sid_is_computed_as_windows_does():
    # `sc showsid TrustedInstaller` on any Windows machine prints this SID
    assert winpipe.service_sid("TrustedInstaller") == \
        "S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464"
    assert winpipe.service_sid("trustedinstaller") == winpipe.service_sid("TrustedInstaller")


def test_the_service_name_is_the_same_everywhere():
    from shadowmap.agent import winservice
    from shadowmap.mdm import windows

    assert winpipe.SERVICE_NAME == winservice.SERVICE_NAME == windows.SERVICE_NAME


def test_who_may_serve_each_pipe():
    assert winpipe.trusted_server_sids(winpipe.SYSTEM_PIPE, ALICE) == {SYSTEM, SERVICE}
    assert winpipe.trusted_server_sids(ALICE_PIPE, ALICE) == {ALICE}
    assert winpipe.trusted_server_sids(ALICE_PIPE.upper(), ALICE.lower()) == {ALICE.lower().upper()}
    assert winpipe.trusted_server_sids(ALICE_PIPE, BOB) == frozenset()      # Bob's host, Alice's pipe
    assert winpipe.trusted_server_sids(winpipe.USER_PIPE_PREFIX + "alice", "alice") == frozenset()
    assert winpipe.trusted_server_sids(ALICE_PIPE, None) == frozenset()


@pytest.mark.parametrize("pipe, own, server, owner, trusted", [
    # the machine-wide service
    (winpipe.SYSTEM_PIPE, ALICE, SYSTEM, SYSTEM, True),
    (winpipe.SYSTEM_PIPE, ALICE, SERVICE, SERVICE, True),        # run as NT SERVICE\ShadowmapAgent
    (winpipe.SYSTEM_PIPE, ALICE, None, SYSTEM, True),            # token hidden from a standard user
    (winpipe.SYSTEM_PIPE, ALICE, None, BOB, False),              # Bob squats the name
    (winpipe.SYSTEM_PIPE, ALICE, ALICE, ALICE, False),           # a program of Alice's own squats it
    (winpipe.SYSTEM_PIPE, ALICE, ALICE, SYSTEM, False),          # the token wins over the owner
    (winpipe.SYSTEM_PIPE, ALICE, None, ADMINISTRATORS, False),   # the agent always owns its pipe
    (winpipe.SYSTEM_PIPE, ALICE, None, None, False),             # no evidence: refuse
    # a per-user agent
    (ALICE_PIPE, ALICE, ALICE, ALICE, True),
    (ALICE_PIPE, ALICE, None, ALICE, True),
    (ALICE_PIPE, ALICE, BOB, BOB, False),                        # Bob squats Alice's pipe
    (ALICE_PIPE, ALICE, SYSTEM, SYSTEM, False),                  # a per-user pipe is the user's own
    (ALICE_PIPE, BOB, ALICE, ALICE, False),                      # Bob's host never talks to Alice's agent
    (ALICE_PIPE, ALICE.lower(), ALICE.lower(), None, True),      # SIDs compare without case
])
def test_untrusted_reason(pipe, own, server, owner, trusted):
    reason = winpipe.untrusted_reason(pipe, own, server, owner)
    assert (reason is None) == trusted
    if not trusted:
        assert pipe in reason
        assert any(sid in reason for sid in {server, owner, own} - {None}) or "cannot tell" in reason


def test_the_reason_says_plainly_what_is_wrong():
    reason = winpipe.untrusted_reason(winpipe.SYSTEM_PIPE, ALICE, None, BOB)
    assert reason == (rf"\\.\pipe\shadowmap-agent is owned by {BOB}, not the shadowmap service (LocalSystem); "
                      "another program may be impersonating the agent")


# ---- the reply deadline ----

class FakeClock:
    def __init__(self):
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_timed_reader_polls_with_backoff_then_times_out():
    clock = FakeClock()
    reader = winpipe.TimedPipeReader(lambda: 0, lambda n: b"", 1.0, clock=clock, sleep=clock.sleep)
    with pytest.raises(TimeoutError):
        reader.read(4)
    assert clock.now == pytest.approx(1.0)
    assert clock.slept[0] == winpipe.POLL_FIRST_S and max(clock.slept) == winpipe.POLL_MAX_S
    assert clock.slept == sorted(clock.slept[:-1]) + clock.slept[-1:]     # backs off, last one trimmed


def test_timed_reader_reads_what_is_there_and_ends_cleanly():
    data = framing.encode({"type": "pong", "id": 7})
    pending = [data[:3], b"", data[3:]]            # arrives in pieces, with a quiet moment
    buffer = bytearray()

    def available():
        if not buffer and pending:
            buffer.extend(pending.pop(0))
        return len(buffer) if (buffer or pending) else None

    def read(n):
        assert n <= len(buffer)                    # never asks for more than is there
        out = bytes(buffer[:n])
        del buffer[:n]
        return out

    clock = FakeClock()
    stream = io.BufferedReader(winpipe.TimedPipeReader(available, read, 5.0, clock=clock, sleep=clock.sleep))
    assert framing.read_frame(stream) == {"type": "pong", "id": 7}
    assert framing.read_frame(stream) is None


class LinuxPipeConnection:
    """What winpipe.PipeConnection hands AgentLink, over two OS pipes: the same
    TimedPipeReader, with select + FIONREAD standing in for PeekNamedPipe. The agent end
    runs the real per-connection session (agent/ipc_session.py) in a thread."""

    def __init__(self, handle, reply_timeout_s: float, user: str = r"ACME\ada"):
        to_agent_r, self._to_agent_w = os.pipe()
        self._to_host_r, to_host_w = os.pipe()
        self.closing = threading.Event()

        def agent_end() -> None:
            with os.fdopen(to_agent_r, "rb") as reader, contextlib.suppress(OSError):
                serve_connection(reader, lambda data: os.write(to_host_w, data), user, handle, self.closing)
            os.close(to_host_w)

        self.agent = threading.Thread(target=agent_end, daemon=True)
        self.agent.start()
        self.reader = io.BufferedReader(
            winpipe.TimedPipeReader(self._available, lambda n: os.read(self._to_host_r, n), reply_timeout_s))

    def _available(self) -> int | None:
        readable, _, _ = select.select([self._to_host_r], [], [], 0)
        if not readable:
            return 0
        count = struct.unpack("i", fcntl.ioctl(self._to_host_r, termios.FIONREAD, b"\0" * 4))[0]
        return count or None        # readable with nothing in it: the agent closed its end

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self._to_agent_w, view):]

    def close(self) -> None:
        self.closing.set()
        self.reader.close()
        for fd in (self._to_agent_w, self._to_host_r):
            with contextlib.suppress(OSError):
                os.close(fd)


class PipeLink(agent_link.AgentLink):
    """The real AgentLink on its pipe code path, with the Windows pipe swapped for OS pipes."""

    def __init__(self, handle, reply_timeout_s: float = agent_link.REPLY_TIMEOUT_S):
        super().__init__(winpipe.SYSTEM_PIPE, reply_timeout_s)
        self.handle = handle
        self.opened: list[LinuxPipeConnection] = []

    def _open_pipe(self):
        conn = LinuxPipeConnection(self.handle, self.reply_timeout_s)
        self.opened.append(conn)
        return conn


@pytest.fixture
def handlers(tmp_path, engine, catalog, summarize):
    spool = Spool(tmp_path / "spool.db")
    yield RequestHandlers(engine, catalog, summarize, PolicyStore(tmp_path / "policy.json"), spool,
                          EnrollmentHolder(tmp_path)), spool
    spool.close()


def test_the_host_talks_to_a_real_agent_session_over_the_timed_pipe(handlers):
    handle, spool = handlers
    link = PipeLink(handle.handle)
    try:
        assert link.request({"type": "ping", "id": 1})["type"] == "pong"
        verdict = link.request({"type": "scan", "id": 2, "channel": "paste", "url": "https://chatgpt.com/",
                                "text": f"key {AWS_KEY}"})
        assert (verdict["id"], verdict["action"]) == (2, "block")
        assert len(link.opened) == 1                       # one connection for both requests
        [event] = spool.next_batch(10)
        assert event["user"] == r"ACME\ada"
    finally:
        link.close()


def test_a_hung_agent_does_not_hang_the_host(handlers):
    real, _spool = handlers
    release = threading.Event()

    def hung(message: dict, user: str) -> dict:
        if message.get("type") == "scan":
            release.wait(30)                                # an agent stuck in a scan
        return real.handle(message, user)

    link = PipeLink(hung, reply_timeout_s=0.5)
    relay = Relay(io.BytesIO(), io.BytesIO(), link, Caller("chromium", "chrome-extension://abc/"))
    try:
        started = time.monotonic()
        reply = relay.handle({"type": "scan", "id": 9, "channel": "paste", "url": "https://chatgpt.com/",
                              "text": "hello"})
        waited = time.monotonic() - started
        assert reply == {"type": "error", "error": "agent_unavailable", "id": 9,
                         "detail": "shadowmap agent unavailable: the agent did not answer within 0.5 s"}
        assert 0.5 <= waited < 10                           # gave up at the deadline, not never
        assert len(link.opened) == 1                        # a timeout is not retried
        release.set()
        # the next request opens a fresh connection and is answered
        assert relay.handle({"type": "ping", "id": 10})["type"] == "pong"
        assert len(link.opened) == 2
    finally:
        release.set()
        link.close()


def test_the_host_sends_nothing_to_an_untrusted_pipe(handlers):
    real, spool = handlers
    received: list[dict] = []

    class SquattedLink(PipeLink):
        def _open_pipe(self):
            conn = super()._open_pipe()
            # the check PipeConnection makes before any write: Bob's program owns the pipe
            reason = winpipe.untrusted_reason(str(self.path), ALICE, None, BOB)
            if reason is not None:
                conn.close()
                raise winpipe.UntrustedServer(reason)
            return conn

    def recording(message: dict, user: str) -> dict:
        received.append(message)
        return real.handle(message, user)

    link = SquattedLink(recording)
    relay = Relay(io.BytesIO(), io.BytesIO(), link, Caller("chromium", "chrome-extension://abc/"))
    reply = relay.handle({"type": "scan", "id": 3, "channel": "paste", "url": "https://chatgpt.com/",
                          "text": f"key {AWS_KEY}"})
    assert reply["error"] == "agent_unavailable" and reply["id"] == 3
    assert BOB in reply["detail"] and "impersonating the agent" in reply["detail"]
    link.opened[0].agent.join(timeout=10)
    assert received == [] and spool.depth() == 0           # not one byte reached the other end
    assert len(link.opened) == 1                            # refused, never retried
