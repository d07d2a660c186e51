"""The Windows named-pipe transport, in the parts that do not need Windows: the pipe's
name and security descriptor (kept as data), the transport choice on both sides, and the
per-connection protocol, which the pipe server shares with the Unix socket and is run here
over plain OS pipes (not a socket) with the real detection engine behind it.

The Win32 calls themselves (CreateNamedPipe, ConnectNamedPipe, the client's token) only
run on Windows and are not exercised here."""
from __future__ import annotations

import os
import struct
import threading

import pytest

from shadowmap.agent import ipc_windows as win
from shadowmap.agent.enroll import EnrollmentHolder
from shadowmap.agent.handlers import RequestHandlers
from shadowmap.agent.ipc import IPCServer, make_server
from shadowmap.agent.ipc_session import serve_connection
from shadowmap.agent.policy import PolicyStore
from shadowmap.agent.spool import Spool
from shadowmap.ipc import agent_link, framing, winpipe

AWS_KEY = "AKIAZ3MHQ4WXRT6PLN2B"
USER_SID = "S-1-5-21-3623811015-3361044348-30300820-1013"
OTHER_SID = "S-1-5-21-3623811015-3361044348-30300820-1014"
LOCAL_SYSTEM = "S-1-5-18"


def test_pipe_names_agree_on_both_sides():
    assert win.SYSTEM_PIPE == agent_link.SYSTEM_PIPE == r"\\.\pipe\shadowmap-agent"
    assert win.pipe_name("system") == win.SYSTEM_PIPE
    assert win.pipe_name("user", USER_SID) == rf"\\.\pipe\shadowmap-agent-{USER_SID}"
    with pytest.raises(ValueError):
        win.pipe_name("user", "alice")            # not a SID: never builds a name from it


def test_system_pipe_dacl_lets_users_connect_but_not_create_instances():
    sddl = win.pipe_sddl("system", LOCAL_SYSTEM)
    aces = win.sddl_aces(sddl)
    # owned by the service's own SID (what the host checks), protected DACL: nothing inherited
    assert win.sddl_owner(sddl) == LOCAL_SYSTEM and "D:P(" in sddl
    kinds = [kind for kind, _mask, _who in aces]
    assert kinds == sorted(kinds, key=lambda k: k != "D")      # deny ACEs first
    rights = {who: (kind, mask) for kind, mask, who in aces}
    assert rights["NU"] == ("D", win.GENERIC_ALL)               # network logons: nothing
    assert rights["SY"] == ("A", win.GENERIC_ALL) and rights["BA"] == ("A", win.GENERIC_ALL)
    kind, users = rights["AU"]
    assert kind == "A"
    assert users & win.FILE_CREATE_PIPE_INSTANCE == 0            # no competing server instance
    assert users & win.GENERIC_ALL == 0
    assert users & (win.FILE_READ_DATA | win.FILE_WRITE_DATA) == win.FILE_READ_DATA | win.FILE_WRITE_DATA
    # what the native host asks for when it opens the pipe is within what users are granted
    assert winpipe.PIPE_CLIENT_ACCESS & ~users == 0
    assert winpipe.PIPE_CLIENT_ACCESS & win.FILE_CREATE_PIPE_INSTANCE == 0


def test_user_pipe_dacl_is_owner_only():
    sddl = win.pipe_sddl("user", USER_SID)
    aces = win.sddl_aces(sddl)
    assert {who for kind, _m, who in aces if kind == "A"} == {"SY", USER_SID}
    assert win.sddl_owner(sddl) == USER_SID
    for bad in ("S-1-5-21-1) (A;;GA;;;WD", "S-1-5-21-1D:(A;;GA;;;WD)", None):
        with pytest.raises(ValueError):
            win.pipe_sddl("user", bad)                  # no injection through the SID
        with pytest.raises(ValueError):
            win.pipe_sddl("system", bad)


def test_the_pipe_owner_an_agent_sets_is_one_the_host_trusts():
    """The host's check (shadowmap/ipc/winpipe.py) accepts the owner the agent's SDDL
    sets, in both modes, and nothing a squatter could set instead."""
    from shadowmap.ipc import winpipe

    for mode, server_sid, name in (("system", LOCAL_SYSTEM, win.pipe_name("system")),
                                   ("user", USER_SID, win.pipe_name("user", USER_SID))):
        owner = win.sddl_owner(win.pipe_sddl(mode, server_sid))
        assert winpipe.untrusted_reason(name, USER_SID, None, owner) is None
        squatter = win.sddl_owner(win.pipe_sddl(mode, OTHER_SID))
        assert winpipe.untrusted_reason(name, USER_SID, None, squatter) is not None


def test_transport_choice():
    assert agent_link.agent_socket_path({}, platform="win32") == agent_link.SYSTEM_PIPE
    assert agent_link.agent_socket_path({"SHADOWMAP_AGENT_SOCKET": r"\\.\pipe\other"}, platform="win32") \
        == r"\\.\pipe\other"
    assert agent_link.is_pipe(agent_link.SYSTEM_PIPE) and not agent_link.is_pipe("/run/shadowmap/agent.sock")
    # the agent side: a socket path from a shared config means the default pipe on Windows
    assert win.server_address("/run/shadowmap/agent.sock", "system") == win.SYSTEM_PIPE
    assert win.server_address(r"\\.\pipe\shadowmap-test", "system") == r"\\.\pipe\shadowmap-test"
    assert isinstance(make_server("/tmp/x.sock", lambda m, u: {}, "user", platform="linux"), IPCServer)


class OsPipes:
    """A connection over two OS pipes (what a Windows pipe handle looks like to the
    session: a byte stream to read and a write function), not a socket."""

    def __init__(self):
        self.to_agent_r, self.to_agent_w = os.pipe()
        self.to_host_r, self.to_host_w = os.pipe()
        self.agent_reader = os.fdopen(self.to_agent_r, "rb")
        self.host_reader = os.fdopen(self.to_host_r, "rb")

    def agent_write(self, data: bytes) -> None:
        os.write(self.to_host_w, data)

    def send(self, data: bytes) -> None:
        os.write(self.to_agent_w, data)

    def receive(self) -> dict | None:
        return framing.read_frame(self.host_reader)

    def close_host_side(self) -> None:
        os.close(self.to_agent_w)


@pytest.fixture
def pipe_session(tmp_path, engine, catalog, summarize):
    spool = Spool(tmp_path / "spool.db")
    handlers = RequestHandlers(engine, catalog, summarize, PolicyStore(tmp_path / "policy.json"), spool,
                               EnrollmentHolder(tmp_path))
    pipes = OsPipes()
    closing = threading.Event()
    thread = threading.Thread(target=serve_connection, daemon=True,
                              args=(pipes.agent_reader, pipes.agent_write, r"ACME\ada", handlers.handle, closing))
    thread.start()
    yield pipes, spool, thread
    closing.set()
    spool.close()


def test_the_shared_session_answers_over_plain_pipes(pipe_session):
    pipes, spool, thread = pipe_session
    pipes.send(framing.encode({"type": "ping", "id": 1}))
    assert pipes.receive()["type"] == "pong"
    pipes.send(framing.encode({"type": "scan", "id": 2, "channel": "paste", "url": "https://chatgpt.com/",
                               "text": f"key {AWS_KEY}", "user": "mallory"}))
    verdict = pipes.receive()
    assert (verdict["id"], verdict["action"]) == (2, "block")
    [event] = spool.next_batch(10)
    assert event["user"] == r"ACME\ada"                      # the transport's user, not the message's
    pipes.send(struct.pack("<I", 5) + b"{bad}")
    assert pipes.receive()["error"] == "bad_json"              # a bad frame: error, connection lives
    pipes.send(framing.encode({"type": "ping"}))
    assert pipes.receive()["type"] == "pong"
    pipes.send(struct.pack("<I", framing.MAX_FROM_BROWSER + 1))
    assert pipes.receive()["error"] == "too_large"             # out of sync: answered, then closed
    thread.join(timeout=10)
    assert not thread.is_alive()


def test_the_session_ends_when_the_client_closes(pipe_session):
    pipes, _spool, thread = pipe_session
    pipes.close_host_side()
    thread.join(timeout=10)
    assert not thread.is_alive()


def test_pipe_reader_reads_frames_from_chunks():
    import io

    data = framing.encode({"type": "ping", "id": "x"}) * 2
    chunks = [data[i:i + 3] for i in range(0, len(data), 3)]
    reader = io.BufferedReader(win.PipeReader(lambda size: chunks.pop(0) if chunks else b""))
    assert framing.read_frame(reader) == {"type": "ping", "id": "x"}
    assert framing.read_frame(reader) == {"type": "ping", "id": "x"}
    assert framing.read_frame(reader) is None


def test_idle_connections_are_those_silent_past_the_timeout():
    now = [100.0]
    idle = win.IdleConnections(120, clock=lambda: now[0])
    idle.touch("quiet")
    idle.touch("busy")
    now[0] += 100
    idle.touch("busy")              # it read a frame
    assert idle.idle() == []
    now[0] += 30                    # "quiet" silent 130 s, "busy" 30 s
    assert idle.idle() == ["quiet"]
    idle.forget("quiet")            # the watcher cancelled its read
    assert idle.idle() == []
    assert 0.05 <= idle.check_every() <= 5.0
    assert win.IdleConnections(0.1).check_every() == 0.05


def test_the_pipe_server_takes_the_socket_servers_budget_and_timeout():
    """The caps and the idle timeout are the contract's, for both transports."""
    import inspect

    from shadowmap.agent.ipc_session import SHARED_BUDGET, too_many_connections

    pipe = inspect.signature(win.PipeServer.__init__).parameters
    unix = inspect.signature(IPCServer.__init__).parameters
    assert pipe["budget"].default is SHARED_BUDGET is unix["budget"].default
    assert pipe["idle_timeout_s"].default == unix["idle_timeout_s"].default > 0
    import io
    refusal = framing.read_frame(io.BytesIO(too_many_connections()))
    assert refusal["type"] == "error" and refusal["error"] == "too_large"
