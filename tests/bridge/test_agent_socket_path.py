"""The host finds the agent's socket by the rules of docs/internals.md."""
from __future__ import annotations

import socket
from pathlib import Path

from shadowmap.ipc.agent_link import agent_socket_path


def test_explicit_socket_wins(tmp_path):
    env = {"SHADOWMAP_AGENT_SOCKET": "/custom/agent.sock", "XDG_RUNTIME_DIR": str(tmp_path)}
    assert agent_socket_path(env) == Path("/custom/agent.sock")


def test_per_user_socket_when_the_agent_listens_there(short_dir):
    (short_dir / "shadowmap").mkdir()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(short_dir / "shadowmap" / "agent.sock"))
    try:
        assert agent_socket_path({"XDG_RUNTIME_DIR": str(short_dir)}) == short_dir / "shadowmap" / "agent.sock"
    finally:
        listener.close()


def test_system_socket_otherwise(tmp_path):
    assert agent_socket_path({"XDG_RUNTIME_DIR": str(tmp_path)}, platform="linux") == Path("/run/shadowmap/agent.sock")
    assert agent_socket_path({}, platform="linux") == Path("/run/shadowmap/agent.sock")
    # macOS has no /run: the system agent listens under /var/run (as the .pkg configures it)
    assert agent_socket_path({}, platform="darwin") == Path("/var/run/shadowmap/agent.sock")


def test_windows_uses_the_agents_named_pipe():
    from shadowmap.ipc.agent_link import SYSTEM_PIPE, is_pipe

    assert agent_socket_path({}, platform="win32") == SYSTEM_PIPE == "\\\\.\\pipe\\shadowmap-agent"
    assert agent_socket_path({"SHADOWMAP_AGENT_SOCKET": "\\\\.\\pipe\\x"}, platform="win32") == "\\\\.\\pipe\\x"
    # elsewhere a configured pipe name is still a pipe, never turned into a Path
    assert is_pipe(agent_socket_path({"SHADOWMAP_AGENT_SOCKET": "\\\\.\\pipe\\x"}, platform="linux"))


def test_pipe_names_have_one_source():
    from shadowmap.agent import ipc_windows
    from shadowmap.ipc import agent_link, winpipe

    assert agent_link.SYSTEM_PIPE is winpipe.SYSTEM_PIPE is ipc_windows.SYSTEM_PIPE
    assert ipc_windows.pipe_name("user", "S-1-5-21-1-2-3-1013").startswith(winpipe.USER_PIPE_PREFIX)
