"""The agent's IPC server on Windows: the named pipe ``\\\\.\\pipe\\shadowmap-agent``.

Same protocol as the Unix socket (agent/ipc_session.py); what differs is the transport:
- the pipe's security descriptor is data (PIPE_SDDL): SYSTEM and Administrators own it,
  local interactive users may connect (read + write data) but hold no
  FILE_CREATE_PIPE_INSTANCE right, so they cannot add a server instance to our pipe;
  network logons are denied and remote clients rejected (PIPE_REJECT_REMOTE_CLIENTS);
- the first instance is created with FILE_FLAG_FIRST_PIPE_INSTANCE: if anyone already
  owns the name (a squatter started before the service, or a second agent) start() fails
  instead of serving beside it;
- the pipe's owner is set explicitly to the agent's own SID ("O:" in the SDDL), so the
  native host can check it (shadowmap/ipc/winpipe.py) when Windows will not show a
  standard user the token of a SYSTEM process: a squatter cannot set an owner it does not
  hold, and the host sends nothing to a pipe served or owned by anyone else;
- the OS user of a connection comes from the pipe itself: GetNamedPipeClientProcessId ->
  the client's process token -> its user SID -> DOMAIN\\user. Never from a message;
- the same budget as the Unix socket (agent/ipc_budget.py): connections capped in all and per
  OS user (refused with an error frame before a thread is spent), frames budgeted, and a
  connection silent for the contract's idle timeout closed. ReadFile on a pipe has no
  timeout, so a watcher cancels the idle connections' pending reads (IdleConnections).

Everything above the "Win32" line is pure and tested on Linux. The Win32 calls below it
(pywin32) are UNVERIFIED HERE: there is no Windows machine in this project's CI.
"""
from __future__ import annotations

import contextlib
import io
import logging
import re
import threading
import time
from collections.abc import Callable, Hashable

from shadowmap.agent.ipc import IDLE_TIMEOUT_S, SocketInUse
from shadowmap.agent.ipc_budget import IPCBudget
from shadowmap.agent.ipc_session import SHARED_BUDGET, Handler, serve_connection, too_many_connections

# one definition of the names, shared with the native host that connects to them
from shadowmap.ipc.winpipe import PIPE_PREFIX, SYSTEM_PIPE, USER_PIPE_PREFIX, current_user_sid

log = logging.getLogger(__name__)

# a per-user agent's pipe carries its owner's SID, so users never collide
USER_PIPE_TEMPLATE = USER_PIPE_PREFIX + "{sid}"

# Access rights (winnt.h). A pipe client that reads and writes needs FILE_READ_DATA and
# FILE_WRITE_DATA; FILE_APPEND_DATA is the same bit as FILE_CREATE_PIPE_INSTANCE on a pipe,
# so GENERIC_WRITE (which includes it) must never be granted to users.
FILE_READ_DATA = 0x0001
FILE_WRITE_DATA = 0x0002
FILE_CREATE_PIPE_INSTANCE = 0x0004
FILE_READ_EA = 0x0008
FILE_WRITE_EA = 0x0010
FILE_READ_ATTRIBUTES = 0x0080
FILE_WRITE_ATTRIBUTES = 0x0100
READ_CONTROL = 0x00020000
SYNCHRONIZE = 0x00100000
GENERIC_ALL = 0x10000000
FILE_GENERIC_READ = READ_CONTROL | SYNCHRONIZE | FILE_READ_DATA | FILE_READ_ATTRIBUTES | FILE_READ_EA
# what a connecting user is granted: read, write data and attributes, no new instances
USER_CONNECT_RIGHTS = FILE_GENERIC_READ | FILE_WRITE_DATA | FILE_WRITE_ATTRIBUTES | FILE_WRITE_EA

# SDDL: "O:" the owner, the agent's own SID (the host checks it); "D:P" = a protected DACL
# (nothing inherited). Deny ACEs come first.
# SY LocalSystem, BA Administrators, AU Authenticated Users, NU network logons.
PIPE_SDDL = {
    "system": ("O:{owner}D:P(D;;GA;;;NU)(A;;GA;;;SY)(A;;GA;;;BA)"
               f"(A;;0x{USER_CONNECT_RIGHTS:08x};;;AU)"),
    # a per-user agent: only its own user (and SYSTEM) may even open the pipe
    "user": "O:{owner}D:P(D;;GA;;;NU)(A;;GA;;;SY)(A;;GA;;;{owner})",
}

PIPE_ACCESS_DUPLEX = 0x00000003
FILE_FLAG_FIRST_PIPE_INSTANCE = 0x00080000
PIPE_TYPE_BYTE = 0x00000000
PIPE_READMODE_BYTE = 0x00000000
PIPE_WAIT = 0x00000000
PIPE_REJECT_REMOTE_CLIENTS = 0x00000008
PIPE_UNLIMITED_INSTANCES = 255
PIPE_BUFFER = 64 * 1024
PROCESS_QUERY_LIMITED_INFORMATION = 0x1000    # enough to open another user's process token
ERROR_ACCESS_DENIED = 5
ERROR_BROKEN_PIPE = 109
ERROR_PIPE_CONNECTED = 535
ERROR_NO_DATA = 232
ERROR_OPERATION_ABORTED = 995   # a read cancelled by the idle watcher

_SID = re.compile(r"^S-1-\d+(-\d+)+$")
_ACE = re.compile(r"\(([AD]);([^;]*);([^;]*);([^;]*);([^;]*);([^)]*)\)")
_SDDL_RIGHTS = {"GA": GENERIC_ALL}


class PipeInUse(SocketInUse):
    """Another process already owns the pipe name (the CLI reports it like a busy socket)."""


def pipe_name(mode: str, user_sid: str | None = None) -> str:
    if mode == "system":
        return SYSTEM_PIPE
    if mode == "user" and user_sid and _SID.match(user_sid):
        return USER_PIPE_TEMPLATE.format(sid=user_sid)
    raise ValueError(f"no pipe for mode {mode!r} and SID {user_sid!r}")


def pipe_sddl(mode: str, owner_sid: str | None) -> str:
    """The pipe's security descriptor for an agent running as owner_sid (LocalSystem for
    the service, the user for a per-user agent)."""
    if not (owner_sid and _SID.match(owner_sid)):
        raise ValueError(f"the pipe's owner must be a SID, not {owner_sid!r}")
    return PIPE_SDDL[mode].format(owner=owner_sid)


def sddl_owner(sddl: str) -> str | None:
    match = re.match(r"^O:(S-1-[\d-]+|[A-Z]{2})", sddl)
    return match.group(1) if match else None


def sddl_aces(sddl: str) -> list[tuple[str, int, str]]:
    """(allow "A" / deny "D", access mask, trustee) for each ACE of an SDDL DACL."""
    aces = []
    for kind, _flags, rights, _obj, _inherit, trustee in _ACE.findall(sddl):
        mask = int(rights, 16) if rights.lower().startswith("0x") else _SDDL_RIGHTS[rights]
        aces.append((kind, mask, trustee))
    return aces


def server_address(address: str, mode: str, user_sid: str | None = None) -> str:
    """The pipe to serve: the configured address when it names a pipe, else the default
    (a POSIX socket path in a shared config means "the default transport")."""
    return address if address.startswith(PIPE_PREFIX) else pipe_name(mode, user_sid)


class PipeReader(io.RawIOBase):
    """A pipe handle as a raw binary stream, so framing.read_frame can read it."""

    def __init__(self, read_chunk):
        self._read_chunk = read_chunk     # (max bytes) -> bytes, b"" at end of stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._read_chunk(len(buffer))
        buffer[:len(data)] = data
        return len(data)


class IdleConnections:
    """When each open connection last moved data, and which have been silent longer than the
    idle timeout (the Unix socket has settimeout; a pipe's blocking ReadFile has nothing)."""

    def __init__(self, timeout_s: float, clock: Callable[[], float] = time.monotonic):
        self.timeout_s = timeout_s
        self._clock = clock
        self._last: dict[Hashable, float] = {}
        self._lock = threading.Lock()

    def touch(self, conn: Hashable) -> None:
        with self._lock:
            self._last[conn] = self._clock()

    def forget(self, conn: Hashable) -> None:
        with self._lock:
            self._last.pop(conn, None)

    def idle(self) -> list[Hashable]:
        now = self._clock()
        with self._lock:
            return [conn for conn, last in self._last.items() if now - last > self.timeout_s]

    def check_every(self) -> float:
        """How often the watcher looks: a few times per timeout, at most every 5 s."""
        return max(0.05, min(5.0, self.timeout_s / 4))


# ---- Win32 (pywin32) -- everything below runs only on Windows and is unverified here ----

def pipe_client_user(handle) -> str:
    """DOMAIN\\user of the process at the other end of a connected pipe instance."""
    import win32api
    import win32pipe
    import win32security

    pid = win32pipe.GetNamedPipeClientProcessId(handle)
    process = win32api.OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, False, pid)
    try:
        token = win32security.OpenProcessToken(process, win32security.TOKEN_QUERY)
        sid, _attrs = win32security.GetTokenInformation(token, win32security.TokenUser)
    finally:
        win32api.CloseHandle(process)
    try:
        name, domain, _kind = win32security.LookupAccountSid(None, sid)
    except win32security.error:
        return win32security.ConvertSidToStringSid(sid)    # a SID with no account name
    return f"{domain}\\{name}"


def _security_attributes(sddl: str):
    import pywintypes
    import win32security

    attributes = pywintypes.SECURITY_ATTRIBUTES()
    attributes.SECURITY_DESCRIPTOR = win32security.ConvertStringSecurityDescriptorToSecurityDescriptor(
        sddl, win32security.SDDL_REVISION_1)
    attributes.bInheritHandle = False
    return attributes


class PipeServer:
    """Serves the named pipe: one instance per connected client, one thread each, within the
    budget's caps; idle connections closed by a watcher thread."""

    def __init__(self, address: str, handle: Handler, mode: str = "system",
                 budget: IPCBudget = SHARED_BUDGET, idle_timeout_s: float = IDLE_TIMEOUT_S):
        if mode not in PIPE_SDDL:
            raise ValueError(f"unknown mode {mode!r}")
        self.mode = mode
        self.handle = handle
        self.budget = budget
        self._idle = IdleConnections(idle_timeout_s)
        self._sid = current_user_sid()        # LocalSystem (S-1-5-18) for the service
        self.path = server_address(address, mode, self._sid)     # what `agent ready on` prints
        self._attributes = _security_attributes(pipe_sddl(mode, self._sid))
        self._closing = threading.Event()
        self._pending = None
        self._conns: set = set()
        self._conns_lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def _create(self, first: bool):
        import pywintypes
        import win32pipe

        open_mode = PIPE_ACCESS_DUPLEX | (FILE_FLAG_FIRST_PIPE_INSTANCE if first else 0)
        pipe_mode = PIPE_TYPE_BYTE | PIPE_READMODE_BYTE | PIPE_WAIT | PIPE_REJECT_REMOTE_CLIENTS
        try:
            return win32pipe.CreateNamedPipe(self.path, open_mode, pipe_mode, PIPE_UNLIMITED_INSTANCES,
                                             PIPE_BUFFER, PIPE_BUFFER, 0, self._attributes)
        except pywintypes.error as exc:
            if first and exc.winerror == ERROR_ACCESS_DENIED:
                raise PipeInUse(f"another process already owns {self.path}") from None
            raise

    def start(self) -> None:
        self._pending = self._create(first=True)
        self._thread = threading.Thread(target=self._accept_loop, name="ipc-accept", daemon=True)
        self._thread.start()
        threading.Thread(target=self._watch_idle, name="ipc-idle", daemon=True).start()

    def _watch_idle(self) -> None:
        import pywintypes
        import win32file

        while not self._closing.wait(self._idle.check_every()):
            for instance in self._idle.idle():
                log.info("closing an IPC connection idle for %.0f s", self._idle.timeout_s)
                self._idle.forget(instance)
                with contextlib.suppress(pywintypes.error, AttributeError):
                    win32file.CancelIoEx(instance, None)    # its ReadFile fails: the connection ends

    def _accept_loop(self) -> None:
        import pywintypes
        import win32file
        import win32pipe

        while not self._closing.is_set():
            instance = self._pending
            try:
                win32pipe.ConnectNamedPipe(instance, None)
            except pywintypes.error as exc:
                if exc.winerror != ERROR_PIPE_CONNECTED:   # connected between create and wait: fine
                    win32file.CloseHandle(instance)
                    if self._closing.is_set():
                        return
                    log.warning("pipe connect failed: %s", exc)
                    self._pending = self._create(first=False)
                    continue
            if self._closing.is_set():
                win32file.CloseHandle(instance)
                return
            self._pending = self._create(first=False)     # the next client's instance
            try:
                user = pipe_client_user(instance)
            except pywintypes.error as exc:
                log.warning("pipe client unknown: %s", exc)
                self._close(instance)
                continue
            if not self.budget.admit(user):   # decided before a thread is spent on it
                log.warning("connection of %s refused: too many open connections", user)
                with contextlib.suppress(pywintypes.error):
                    win32file.WriteFile(instance, too_many_connections())
                self._close(instance)
                continue
            threading.Thread(target=self._serve, args=(instance, user), name="ipc-conn", daemon=True).start()

    @staticmethod
    def _close(instance) -> None:
        import pywintypes
        import win32file
        import win32pipe

        with contextlib.suppress(pywintypes.error):
            win32pipe.DisconnectNamedPipe(instance)
        win32file.CloseHandle(instance)

    def _serve(self, instance, user: str) -> None:
        import pywintypes
        import win32file

        def read_chunk(size: int) -> bytes:
            try:
                _hr, data = win32file.ReadFile(instance, size)
            except pywintypes.error as exc:
                if exc.winerror in (ERROR_BROKEN_PIPE, ERROR_NO_DATA, ERROR_OPERATION_ABORTED):
                    return b""                              # the client closed its end, or idled out
                raise OSError(exc.winerror, exc.strerror) from None
            self._idle.touch(instance)
            return bytes(data)

        def write(data: bytes) -> None:
            self._idle.touch(instance)      # a long scan's reply is activity, not idleness
            try:
                win32file.WriteFile(instance, data)
            except pywintypes.error as exc:
                raise OSError(exc.winerror, exc.strerror) from None

        with self._conns_lock:
            self._conns.add(instance)
        self._idle.touch(instance)
        try:
            reader = io.BufferedReader(PipeReader(read_chunk))
            serve_connection(reader, write, user, self.handle, self._closing, self.budget)
        except OSError as exc:
            log.debug("connection ended: %s", exc)
        except Exception:
            log.exception("connection handler failed")
        finally:
            self.budget.leave(user)
            self._idle.forget(instance)
            with self._conns_lock:
                self._conns.discard(instance)
            self._close(instance)

    def stop(self) -> None:
        import pywintypes
        import win32file

        self._closing.set()
        try:    # wake the accept loop, blocked in ConnectNamedPipe, with a connection of our own
            waker = win32file.CreateFile(self.path, FILE_READ_DATA | FILE_WRITE_DATA, 0, None,
                                         win32file.OPEN_EXISTING, 0, None)
            win32file.CloseHandle(waker)
        except pywintypes.error:
            pass
        with self._conns_lock:
            for instance in list(self._conns):
                with contextlib.suppress(pywintypes.error, AttributeError):
                    win32file.CancelIoEx(instance, None)      # unblock a pending ReadFile
        if self._thread:
            self._thread.join(timeout=2)
