"""The agent's Unix-socket server: framed JSON requests from the native host (one
connection per browser), one thread per connection. The OS user of a connection comes from
SO_PEERCRED, never from a message. Connections are capped in all and per OS user, closed
after the contract's idle timeout, and what their frames hold is budgeted
(agent/ipc_budget.py): a system agent's socket is open to every local user. The protocol of a connection is agent/ipc_session.py,
shared with the Windows named-pipe server (agent/ipc_windows.py); `make_server` picks the
transport for the OS."""
from __future__ import annotations

import contextlib
import errno
import logging
import os
import socket
import stat
import struct
import sys
import threading
from pathlib import Path

from shadowmap.agent.ipc_budget import IPCBudget, return_big_buffers_to_the_os
from shadowmap.agent.ipc_session import SHARED_BUDGET, Handler, serve_connection, too_many_connections
from shadowmap.contract import host

log = logging.getLogger(__name__)

PEERCRED = struct.Struct("3i")     # struct ucred: pid, uid, gid
SOCKET_MODES = {"user": 0o600, "system": 0o666}
DIR_MODES = {"user": 0o700, "system": 0o755}

class SocketInUse(RuntimeError):
    """Another agent is already listening on the socket path (or pipe name)."""


IDLE_TIMEOUT_S = host.AGENT_IDLE_TIMEOUT_S


def peer_user(conn: socket.socket) -> str:
    """The OS user name of the process at the other end of a Unix socket."""
    import pwd  # POSIX only; this module is imported on Windows too

    _pid, uid, _gid = PEERCRED.unpack(conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, PEERCRED.size))
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid:{uid}"       # a uid with no passwd entry (containers) is still a user


def _clear_stale_socket(path: Path) -> None:
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(mode):
        raise SocketInUse(f"{path} exists and is not a socket; refusing to replace it")
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(str(path))
    except OSError as exc:
        if exc.errno in (errno.ECONNREFUSED, errno.ENOENT):
            path.unlink(missing_ok=True)      # left behind by an agent that died
            return
        raise
    else:
        raise SocketInUse(f"another agent is already listening on {path}")
    finally:
        probe.close()


class IPCServer:
    def __init__(self, path: str | Path, handle: Handler, mode: str = "user",
                 budget: IPCBudget = SHARED_BUDGET, idle_timeout_s: float = IDLE_TIMEOUT_S):
        if mode not in SOCKET_MODES:
            raise ValueError(f"unknown mode {mode!r}")
        self.path = Path(path)
        self.handle = handle
        self.mode = mode
        self.budget = budget
        self.idle_timeout_s = idle_timeout_s
        self._listener: socket.socket | None = None
        self._conns: set[socket.socket] = set()
        self._conns_lock = threading.Lock()
        self._closing = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        return_big_buffers_to_the_os()      # what the budget frees must leave the process
        parent = self.path.parent
        parent.mkdir(parents=True, exist_ok=True, mode=DIR_MODES[self.mode])
        if self.mode == "user" and parent.stat().st_uid == os.geteuid():
            os.chmod(parent, DIR_MODES["user"])    # nobody else may even reach the socket
        _clear_stale_socket(self.path)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(str(self.path))
        os.chmod(self.path, SOCKET_MODES[self.mode])
        listener.listen(16)
        self._listener = listener
        self._thread = threading.Thread(target=self._accept_loop, name="ipc-accept", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._closing.set()
        if self._listener is not None:
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
        with self._conns_lock:
            for conn in list(self._conns):
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
        if self._thread:
            self._thread.join(timeout=2)
        self.path.unlink(missing_ok=True)

    def _accept_loop(self) -> None:
        assert self._listener is not None
        while not self._closing.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                if self._closing.is_set():
                    return
                log.exception("accept failed")
                continue
            try:
                user = peer_user(conn)
            except OSError:
                conn.close()
                continue
            if not self.budget.admit(user):   # decided before a thread is spent on it
                log.warning("connection of %s refused: too many open connections", user)
                with contextlib.suppress(OSError):
                    conn.settimeout(0.5)
                    conn.sendall(too_many_connections())
                conn.close()
                continue
            threading.Thread(target=self._serve, args=(conn, user), name="ipc-conn", daemon=True).start()

    def _serve(self, conn: socket.socket, user: str) -> None:
        with self._conns_lock:
            self._conns.add(conn)
        try:
            conn.settimeout(self.idle_timeout_s)    # a silent connection is closed, not kept
            with conn.makefile("rb") as stream:
                serve_connection(stream, conn.sendall, user, self.handle, self._closing, self.budget)
        except OSError as exc:
            log.debug("connection ended: %s", exc)
        except Exception:
            log.exception("connection handler failed")
        finally:
            self.budget.leave(user)
            with self._conns_lock:
                self._conns.discard(conn)
            conn.close()


def make_server(address: str | Path, handle: Handler, mode: str = "user", platform: str | None = None):
    """The IPC server for this OS: a named pipe on Windows, a Unix socket elsewhere.
    Both have start()/stop() and the same protocol."""
    if (platform or sys.platform) == "win32":
        from shadowmap.agent.ipc_windows import PipeServer  # Windows only: needs pywin32
        return PipeServer(str(address), handle, mode)
    return IPCServer(address, handle, mode)
