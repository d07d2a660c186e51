"""The native host's one connection to the agent's Unix socket.

Stdlib only: the browser starts the host on every connectNative, so it must start fast.
The socket path follows docs/internals.md: env SHADOWMAP_AGENT_SOCKET, else the per-user
socket under $XDG_RUNTIME_DIR, else the system socket.
"""
from __future__ import annotations

import os
import socket
from pathlib import Path

from extension_bridge import framing

SOCKET_ENV = "SHADOWMAP_AGENT_SOCKET"
SYSTEM_SOCKET = Path("/run/shadowmap/agent.sock")
CONNECT_TIMEOUT_S = 2.0
# a scan of a large paste can take a while; past this the user is better served by an error
REPLY_TIMEOUT_S = 30.0
# the agent's replies are small; anything near the browser-side read limit is a broken agent
MAX_FROM_AGENT = framing.MAX_FROM_BROWSER


class AgentUnavailable(Exception):
    """The agent could not be reached, or the connection broke before a reply came."""

    def __init__(self, detail: str, retryable: bool = False):
        super().__init__(detail)
        # retryable: a stale connection (agent restarted) — worth one try on a fresh one
        self.retryable = retryable


class AgentBadReply(Exception):
    """The agent answered with something that is not a frame; never retried."""


def agent_socket_path(environ: dict[str, str] | None = None) -> Path:
    """Where the agent listens, by the rules of docs/internals.md."""
    env = os.environ if environ is None else environ
    explicit = env.get(SOCKET_ENV)
    if explicit:
        return Path(explicit)
    runtime_dir = env.get("XDG_RUNTIME_DIR")
    if runtime_dir:
        per_user = Path(runtime_dir) / "shadowmap" / "agent.sock"
        if per_user.exists():
            return per_user
    return SYSTEM_SOCKET


class AgentLink:
    """One lazily opened connection to the agent, reopened after any failure."""

    def __init__(self, path: Path):
        self.path = path
        self._sock: socket.socket | None = None
        self._reader = None

    def _connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(CONNECT_TIMEOUT_S)
        try:
            sock.connect(str(self.path))
        except OSError as exc:
            sock.close()
            raise AgentUnavailable(f"cannot connect to the agent at {self.path}: {exc.strerror or exc}") from None
        sock.settimeout(REPLY_TIMEOUT_S)
        self._sock = sock
        self._reader = sock.makefile("rb")

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
        if self._sock is not None:
            self._sock.close()
        self._sock = None
        self._reader = None

    def request(self, message: dict) -> dict:
        """Send one request and return the agent's reply.

        A connection reused from an earlier request may have been closed by an agent
        restart; that case is retried once on a fresh connection. A fresh connection that
        fails is reported, never retried, so a request is not scanned twice needlessly.
        """
        data = framing.encode(message, limit=framing.MAX_FROM_BROWSER)
        reused = self._sock is not None
        try:
            return self._exchange(data)
        except AgentUnavailable as exc:
            if not (reused and exc.retryable):
                raise
        return self._exchange(data)

    def _exchange(self, data: bytes) -> dict:
        if self._sock is None:
            self._connect()
        assert self._sock is not None and self._reader is not None
        try:
            self._sock.sendall(data)
        except OSError as exc:
            self.close()
            raise AgentUnavailable(f"the agent connection failed: {exc}", retryable=True) from None
        try:
            reply = framing.read_frame(self._reader, limit=MAX_FROM_AGENT)
        except TimeoutError:
            self.close()
            raise AgentUnavailable(f"the agent did not answer within {REPLY_TIMEOUT_S:.0f} s") from None
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
