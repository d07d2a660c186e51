"""The native host's one connection to the agent: a Unix socket, or on Windows the
agent's named pipe; the same framing over both.

Stdlib only: the browser starts the host on every connectNative, so it must start fast.
The address follows docs/internals.md: env SHADOWMAP_AGENT_SOCKET (a socket path, or a
pipe name on Windows), else on Windows the system pipe, else the per-user socket under
$XDG_RUNTIME_DIR, else the system socket. On the pipe (shadowmap/ipc/winpipe.py, ctypes,
no pywin32 in the host) nothing is sent before the pipe's server is checked to be the agent,
and replies have the same deadline as on the socket; those Win32 calls run only on Windows
and are not verified on this project's CI. On a socket, likewise, nothing is sent before the
process serving it is checked to run as root (the system agent) or as this user (a user
agent): any local user could otherwise serve a socket where the host looks, and read pastes.
"""
from __future__ import annotations

import os
import socket
import stat
import struct
import sys
from pathlib import Path

from shadowmap.contract import host
from shadowmap.ipc import framing, winpipe
from shadowmap.ipc.winpipe import SYSTEM_PIPE, is_pipe

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: importing typing slows the host's cold start
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import BinaryIO

# the address and the timeouts are the contract's (schema/host.v1.json)
SOCKET_ENV = host.AGENT_SOCKET_ENV
CONNECT_TIMEOUT_S = host.AGENT_CONNECT_TIMEOUT_S
# a scan of a large paste can take a while; past this the user is better served by an error.
# The same bound on the socket and on the pipe: a hung agent never hangs the browser's host.
REPLY_TIMEOUT_S = host.AGENT_REPLY_TIMEOUT_S
# the agent's replies are small; anything near the browser-side read limit is a broken agent
MAX_FROM_AGENT = framing.MAX_FROM_BROWSER
PEERCRED = struct.Struct("3i")     # struct ucred: pid, uid, gid


class AgentUnavailable(Exception):
    """The agent could not be reached, or the connection broke before a reply came."""

    def __init__(self, detail: str, retryable: bool = False):
        super().__init__(detail)
        # retryable: a stale connection (agent restarted) — worth one try on a fresh one
        self.retryable = retryable


class AgentUntrusted(AgentUnavailable):
    """The pipe is served by some other program, not the agent; nothing was sent to it."""


def trusted_uids() -> tuple[int, ...]:
    """Who may serve the agent's socket: root (a system agent) or this user (a user agent)."""
    return (0, os.geteuid())


def check_socket_owner(sock: socket.socket, path: Path) -> None:
    """AgentUntrusted unless the socket is served by a trusted uid. Linux asks the kernel who
    the peer is (SO_PEERCRED); elsewhere the socket file and its folder must be a trusted
    uid's, and the folder writable by nobody else (so no one can swap the socket in)."""
    trusted = trusted_uids()
    if hasattr(socket, "SO_PEERCRED"):
        _pid, uid, _gid = PEERCRED.unpack(sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, PEERCRED.size))
        if uid not in trusted:
            raise AgentUntrusted(f"refused: {path} is served by uid {uid}, not root or this user")
        return
    for item in (path, path.parent):
        info = item.lstat()
        if info.st_uid not in trusted:
            raise AgentUntrusted(f"refused: {item} belongs to uid {info.st_uid}, not root or this user")
    folder = path.parent.lstat()
    if stat.S_ISLNK(folder.st_mode) or folder.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise AgentUntrusted(f"refused: others can replace the socket in {path.parent}")


class AgentBadReply(Exception):
    """The agent answered with something that is not a frame; never retried."""


def agent_socket_path(environ: dict[str, str] | None = None, platform: str | None = None) -> Path | str:
    """Where the agent listens, by the rules of docs/internals.md (a str for a pipe name)."""
    env = os.environ if environ is None else environ
    explicit = env.get(SOCKET_ENV)
    if explicit:
        return explicit if is_pipe(explicit) else Path(explicit)
    os_name = host.platform_of(platform or sys.platform)
    if os_name == "windows":
        return SYSTEM_PIPE
    runtime_dir = env.get(host.RUNTIME_DIR_ENV)
    if runtime_dir:
        per_user = Path(runtime_dir) / host.USER_SOCKET_RELATIVE
        if per_user.exists():
            return per_user
    return Path(host.system_socket(os_name))


class AgentLink:
    """One lazily opened connection to the agent, reopened after any failure."""

    def __init__(self, path: Path | str, reply_timeout_s: float = REPLY_TIMEOUT_S):
        self.path = path
        self.reply_timeout_s = reply_timeout_s
        self._conn: socket.socket | winpipe.PipeConnection | None = None  # whichever is open
        self._reader: BinaryIO | None = None
        self._write: Callable[[bytes], object] | None = None

    def _connect(self) -> None:
        if is_pipe(self.path):
            try:
                pipe = self._open_pipe()
            except winpipe.UntrustedServer as exc:
                raise AgentUntrusted(f"refused: {exc}") from None
            except OSError as exc:
                raise AgentUnavailable(f"cannot connect to the agent at {self.path}: {exc.strerror or exc}") from None
            self._conn, self._reader, self._write = pipe, pipe.reader, pipe.write
            return
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(CONNECT_TIMEOUT_S)
        try:
            sock.connect(str(self.path))
        except OSError as exc:
            sock.close()
            raise AgentUnavailable(f"cannot connect to the agent at {self.path}: {exc.strerror or exc}") from None
        try:
            check_socket_owner(sock, Path(self.path))
        except AgentUntrusted:
            sock.close()
            raise
        sock.settimeout(self.reply_timeout_s)
        self._conn, self._reader, self._write = sock, sock.makefile("rb"), sock.sendall

    def _open_pipe(self) -> winpipe.PipeConnection:
        """The verified, timed pipe connection (Windows only; tests substitute a Linux pipe)."""
        return winpipe.PipeConnection(str(self.path), CONNECT_TIMEOUT_S, self.reply_timeout_s)

    def close(self) -> None:
        if self._reader is not None and self._reader is not self._conn:
            self._reader.close()
        if self._conn is not None:
            self._conn.close()
        self._conn = None
        self._reader = None
        self._write = None

    def request(self, message: dict) -> dict:
        """Send one request and return the agent's reply.

        A connection reused from an earlier request may have been closed by an agent
        restart; that case is retried once on a fresh connection. A fresh connection that
        fails is reported, never retried, so a request is not scanned twice needlessly.
        """
        data = framing.encode(message, limit=framing.MAX_TO_AGENT)   # what the agent will read
        reused = self._conn is not None
        try:
            return self._exchange(data)
        except AgentUnavailable as exc:
            if not (reused and exc.retryable):
                raise
        return self._exchange(data)

    def _exchange(self, data: bytes) -> dict:
        if self._conn is None:
            self._connect()
        assert self._write is not None and self._reader is not None
        try:
            self._write(data)
        except OSError as exc:
            self.close()
            raise AgentUnavailable(f"the agent connection failed: {exc}", retryable=True) from None
        try:
            reply = framing.read_frame(self._reader, limit=MAX_FROM_AGENT)
        except TimeoutError:
            self.close()
            raise AgentUnavailable(f"the agent did not answer within {self.reply_timeout_s:g} s") from None
        except OSError as exc:
            self.close()
            raise AgentUnavailable(f"the agent connection failed: {exc}", retryable=True) from None
        except framing.FrameError as exc:
            # the agent's stream is out of sync or its reply unreadable: start afresh next time
            self.close()
            raise AgentBadReply(f"the agent sent a bad reply ({exc.code}: {exc.detail})") from None
        if reply is None:
            self.close()
            raise AgentUnavailable("the agent closed the connection", retryable=True)
        return reply
