"""The agent's Unix-socket server: framed JSON requests from the native host (one
connection per browser), one thread per connection. The OS user of a connection comes from
SO_PEERCRED, never from a message. A bad frame gets an error frame; only a stream that is
out of sync (fatal framing error) is closed, and never the server."""
from __future__ import annotations

import errno
import logging
import os
import pwd
import socket
import stat
import struct
import threading
from pathlib import Path
from typing import Callable

from extension_bridge import framing

log = logging.getLogger(__name__)

PEERCRED = struct.Struct("3i")     # struct ucred: pid, uid, gid
SOCKET_MODES = {"user": 0o600, "system": 0o666}
DIR_MODES = {"user": 0o700, "system": 0o755}

Handler = Callable[[dict, str], dict]


class SocketInUse(RuntimeError):
    """Another agent is already listening on the socket path."""


def peer_user(conn: socket.socket) -> str:
    """The OS user name of the process at the other end of a Unix socket."""
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
    def __init__(self, path: str | Path, handle: Handler, mode: str = "user"):
        if mode not in SOCKET_MODES:
            raise ValueError(f"unknown mode {mode!r}")
        self.path = Path(path)
        self.handle = handle
        self.mode = mode
        self._listener: socket.socket | None = None
        self._conns: set[socket.socket] = set()
        self._conns_lock = threading.Lock()
        self._closing = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
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
            try:
                self._listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self._listener.close()
        with self._conns_lock:
            for conn in list(self._conns):
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
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
            threading.Thread(target=self._serve, args=(conn,), name="ipc-conn", daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with self._conns_lock:
            self._conns.add(conn)
        try:
            user = peer_user(conn)
            with conn.makefile("rb") as stream:
                while not self._closing.is_set() and self._serve_one(conn, stream, user):
                    pass
        except OSError as exc:
            log.debug("connection ended: %s", exc)
        except Exception:
            log.exception("connection handler failed")
        finally:
            with self._conns_lock:
                self._conns.discard(conn)
            conn.close()

    def _serve_one(self, conn: socket.socket, stream, user: str) -> bool:
        """Read one request and answer it; False when the connection should end."""
        try:
            msg = framing.read_frame(stream)
        except framing.FrameError as exc:
            self._send(conn, framing.error(exc.code, exc.detail))
            return not exc.fatal
        if msg is None:
            return False
        self._send(conn, self.handle(msg, user))
        return True

    @staticmethod
    def _send(conn: socket.socket, reply: dict) -> None:
        try:
            data = framing.encode(reply)
        except framing.FrameError as exc:
            data = framing.encode(framing.error(exc.code, "the reply was too large to send"))
        except (TypeError, ValueError):
            data = framing.encode(framing.error("internal", "the reply could not be encoded"))
        conn.sendall(data)
