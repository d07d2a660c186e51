"""Issue 16, item 10: another local user pre-creates the socket folder `make run` falls back
to, or serves a socket where the native host looks for the agent. `make run` refuses a
folder it does not own or that others can enter; the host sends nothing to a socket served
by anyone but root or its own user."""
from __future__ import annotations

import os
import socket
import time

import pytest

from shadowmap import devrun
from shadowmap.ipc.agent_link import AgentLink, AgentUntrusted

OTHER_UID = 65534          # nobody

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="acting as another user needs root")

def _deep_var(tmp_path):
    deep = tmp_path / ("d" * 60) / ("e" * 60)     # too long for an AF_UNIX path: the fallback is used
    deep.mkdir(parents=True)
    return deep


def test_make_run_makes_its_own_private_socket_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    sock = devrun.socket_path(_deep_var(tmp_path))
    folder = sock.parent
    assert folder.stat().st_uid == os.geteuid()
    assert folder.stat().st_mode & 0o777 == 0o700


def test_make_run_refuses_a_socket_folder_with_loose_modes(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    squatted = tmp_path / f"shadowmap-{os.getuid()}"
    squatted.mkdir(mode=0o777)
    squatted.chmod(0o777)
    with pytest.raises(SystemExit, match="refusing"):
        devrun.socket_path(_deep_var(tmp_path))


@needs_root
def test_make_run_refuses_a_socket_folder_another_user_made(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    squatted = tmp_path / f"shadowmap-{os.getuid()}"
    squatted.mkdir(mode=0o700)
    os.chown(squatted, OTHER_UID, OTHER_UID)
    with pytest.raises(SystemExit, match="refusing"):
        devrun.socket_path(_deep_var(tmp_path))


def test_make_run_refuses_a_symlinked_socket_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(mode=0o700)
    (tmp_path / f"shadowmap-{os.getuid()}").symlink_to(elsewhere)
    with pytest.raises(SystemExit, match="refusing"):
        devrun.socket_path(_deep_var(tmp_path))


def _squat(sock_path, uid: int) -> tuple[int, int]:
    """A squatter: a child process that listens on sock_path as `uid` (the kernel records who
    called listen()) and sends every byte it receives to the pipe returned; (pid, pipe)."""
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(sock_path))
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:                                 # the child: only socket calls, then _exit
        try:
            os.close(read_end)
            os.setgid(uid)
            os.setuid(uid)
            listener.listen(4)
            os.write(write_end, b"R")
            conn, _ = listener.accept()
            conn.settimeout(3)
            while chunk := conn.recv(65536):
                os.write(write_end, chunk)
        finally:
            os._exit(0)
    listener.close()
    os.close(write_end)
    assert os.read(read_end, 1) == b"R"
    return pid, read_end


@needs_root
def test_the_host_sends_nothing_to_a_socket_another_user_serves(tmp_path):
    sock_path = tmp_path / "agent.sock"
    pid, received = _squat(sock_path, OTHER_UID)
    try:
        link = AgentLink(sock_path, reply_timeout_s=2)
        with pytest.raises(AgentUntrusted, match="uid 65534"):
            link.request({"type": "scan", "channel": "paste", "text": "my password is hunter2",
                          "url": "https://chatgpt.com/"})
        link.close()
        time.sleep(0.3)
    finally:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
    os.set_blocking(received, False)
    try:
        got = os.read(received, 65536)
    except BlockingIOError:
        got = b""
    os.close(received)
    assert b"hunter2" not in got and got == b""


def test_the_host_talks_to_a_socket_its_own_user_serves(tmp_path):
    sock_path = tmp_path / "agent.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(sock_path))
    listener.listen(1)
    link = AgentLink(sock_path, reply_timeout_s=2)
    try:
        link._connect()           # the owner check passes for our own uid
        conn, _ = listener.accept()
        conn.close()
    finally:
        link.close()
        listener.close()
