"""The native host's side of the agent's Windows named pipe: open it, check who serves it
before sending a byte, and read replies with a deadline.

Why the check: any local user can create ``\\\\.\\pipe\\shadowmap-agent`` before the
service does (at boot, or while it restarts) and would then receive every user's pastes.
So the host asks Windows who runs the pipe's server and talks only to the agent:
- the system pipe must be served by LocalSystem (S-1-5-18) or the service's own SID
  (``NT SERVICE\\ShadowmapAgent``, S-1-5-80-...);
- a per-user pipe ``shadowmap-agent-<SID>`` must carry the host's own SID and be served by
  that same user.
The evidence is the server process's token (GetNamedPipeServerProcessId -> OpenProcess ->
OpenProcessToken -> TokenUser). A standard user is usually not allowed to open a SYSTEM
process's token; then the evidence is the pipe's owner SID, which the agent sets to its
own SID (agent/ipc_windows.py, ``O:`` in the SDDL) and which no non-administrator can set
to a SID it does not hold. The decision is a pure function (``untrusted_reason``).

Why the deadline: a blocking ReadFile on a pipe cannot time out, so the host waits for
bytes with PeekNamedPipe and gives up after the same REPLY_TIMEOUT_S as the Unix socket.

Stdlib only (ctypes, no pywin32 in the host). Everything above the "Win32" line is pure
and tested on Linux; the Win32 calls below it are UNVERIFIED HERE (no Windows in CI).
"""
from __future__ import annotations

import io
import os
import sys
import time
from collections.abc import Callable

from shadowmap.contract import host

# the names are the contract's (schema/host.v1.json "agent_address"); agent/ipc_windows.py serves them
PIPE_PREFIX = host.PIPE_PREFIX                 # \\.\pipe\
SYSTEM_PIPE = host.SYSTEM_PIPE                 # the system agent's pipe
USER_PIPE_PREFIX = host.USER_PIPE_PREFIX       # + the per-user agent's SID
SERVICE_NAME = host.WINDOWS_SERVICE_NAME       # agent/winservice.py, the MSI's service
LOCAL_SYSTEM_SID = "S-1-5-18"
# what the host asks for when it opens the pipe: FILE_GENERIC_READ (which holds READ_CONTROL,
# needed to read the pipe's owner) and FILE_WRITE_DATA. Never GENERIC_WRITE: on a pipe it
# includes FILE_CREATE_PIPE_INSTANCE, which the pipe's DACL denies to users.
PIPE_CLIENT_ACCESS = 0x00120089 | 0x0002
# PeekNamedPipe polling: start fine (a quick reply costs ~1 ms more), back off to 20 ms
POLL_FIRST_S = 0.001
POLL_MAX_S = 0.02



class UntrustedServer(Exception):
    """The pipe exists but is not served by the shadowmap agent; nothing was sent."""


def is_pipe(address: object) -> bool:
    return str(address).startswith(PIPE_PREFIX)


def is_sid(text: str) -> bool:
    """A string SID such as S-1-5-21-...-1013 (checked without `re`: the host starts on
    every connectNative and imports as little as it can)."""
    parts = text.split("-")
    return len(parts) >= 4 and parts[:2] == ["S", "1"] and all(p.isascii() and p.isdigit() for p in parts[2:])


def service_sid(service_name: str) -> str:
    """The SID Windows gives a service (``NT SERVICE\\<name>``; what `sc showsid` prints):
    S-1-5-80 and the SHA-1 of the upper-cased name in UTF-16LE, as five little-endian
    32-bit sub-authorities."""
    import hashlib
    import struct

    digest = hashlib.sha1(service_name.upper().encode("utf-16-le")).digest()
    return "S-1-5-80-" + "-".join(str(part) for part in struct.unpack("<5I", digest))


def trusted_server_sids(pipe_name: str, own_sid: str | None) -> frozenset[str]:
    """Who may serve this pipe. A per-user pipe: only the host's own user, and only when
    the pipe is named after that user. Any other pipe name: the machine-wide service."""
    if pipe_name.lower().startswith(USER_PIPE_PREFIX.lower()):
        named = pipe_name[len(USER_PIPE_PREFIX):]
        if own_sid and is_sid(named.upper()) and named.upper() == own_sid.upper():
            return frozenset({own_sid.upper()})
        return frozenset()
    return frozenset({LOCAL_SYSTEM_SID, service_sid(SERVICE_NAME)})


def untrusted_reason(pipe_name: str, own_sid: str | None, server_sid: str | None,
                     owner_sid: str | None) -> str | None:
    """None when the pipe's server may receive pastes, else why not (for the error frame).

    server_sid: the server process's user, None when Windows would not tell us (a SYSTEM
    process seen by a standard user); owner_sid: the pipe's owner, None when unreadable.
    The token wins when it is known; the owner decides only when it is not."""
    trusted = trusted_server_sids(pipe_name, own_sid)
    if not trusted:
        return f"{pipe_name} is named for another user (this host runs as {own_sid or 'an unknown user'})"
    expected = "the shadowmap service (LocalSystem)" if LOCAL_SYSTEM_SID in trusted else f"this user ({own_sid})"
    if server_sid is not None:
        if server_sid.upper() in trusted:
            return None
        return (f"{pipe_name} is served by a process running as {server_sid}, not {expected}; "
                "another program may be impersonating the agent")
    if owner_sid is not None:
        if owner_sid.upper() in trusted:
            return None
        return (f"{pipe_name} is owned by {owner_sid}, not {expected}; "
                "another program may be impersonating the agent")
    return f"cannot tell who serves {pipe_name}; refusing to send it anything"


class TimedPipeReader(io.RawIOBase):
    """A pipe as a raw stream whose reads wait at most ``timeout_s`` for the first byte
    (the semantics of a socket timeout). ``available()`` says how many bytes can be read
    without blocking, or None at end of stream; ``read(n)`` must not block when n bytes
    are available. Raises TimeoutError when nothing came in time."""

    def __init__(self, available: Callable[[], int | None], read: Callable[[int], bytes], timeout_s: float,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep):
        self._available = available
        self._read = read
        self.timeout_s = timeout_s
        self._clock = clock
        self._sleep = sleep

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        deadline = self._clock() + self.timeout_s
        pause = POLL_FIRST_S
        while True:
            ready = self._available()
            if ready is None:
                return 0                                      # the server closed its end
            if ready > 0:
                data = self._read(min(ready, len(buffer)))
                buffer[:len(data)] = data
                return len(data)
            remaining = deadline - self._clock()
            if remaining <= 0:
                raise TimeoutError(f"no reply within {self.timeout_s:g} s")
            self._sleep(min(pause, remaining))
            pause = min(pause * 2, POLL_MAX_S)


# ---- Win32 (ctypes) -- everything below runs only on Windows and is unverified here ----

ERROR_ACCESS_DENIED = 5
ERROR_BROKEN_PIPE = 109
ERROR_INSUFFICIENT_BUFFER = 122
ERROR_PIPE_BUSY = 231
OPEN_EXISTING = 3
PROCESS_QUERY_LIMITED_INFORMATION = 0x1000
TOKEN_QUERY = 0x0008
TOKEN_USER_CLASS = 1                 # TOKEN_INFORMATION_CLASS.TokenUser
SE_KERNEL_OBJECT = 6                 # SE_OBJECT_TYPE
OWNER_SECURITY_INFORMATION = 0x1


def _win32():
    """kernel32 and advapi32 with the signatures used here."""
    import ctypes
    from ctypes import wintypes

    k32 = ctypes.WinDLL("kernel32", use_last_error=True)
    adv = ctypes.WinDLL("advapi32", use_last_error=True)
    dword_p, handle_p = ctypes.POINTER(wintypes.DWORD), ctypes.POINTER(wintypes.HANDLE)
    void_pp = ctypes.POINTER(ctypes.c_void_p)
    signatures = (
        (k32.CreateFileW, [wintypes.LPCWSTR, wintypes.DWORD, wintypes.DWORD, wintypes.LPVOID, wintypes.DWORD,
                           wintypes.DWORD, wintypes.HANDLE], wintypes.HANDLE),
        (k32.WaitNamedPipeW, [wintypes.LPCWSTR, wintypes.DWORD], wintypes.BOOL),
        (k32.GetNamedPipeServerProcessId, [wintypes.HANDLE, wintypes.PULONG], wintypes.BOOL),
        (k32.OpenProcess, [wintypes.DWORD, wintypes.BOOL, wintypes.DWORD], wintypes.HANDLE),
        (k32.GetCurrentProcess, [], wintypes.HANDLE),
        (k32.CloseHandle, [wintypes.HANDLE], wintypes.BOOL),
        (k32.LocalFree, [ctypes.c_void_p], ctypes.c_void_p),
        (k32.PeekNamedPipe, [wintypes.HANDLE, wintypes.LPVOID, wintypes.DWORD, dword_p, dword_p, dword_p],
         wintypes.BOOL),
        (adv.OpenProcessToken, [wintypes.HANDLE, wintypes.DWORD, handle_p], wintypes.BOOL),
        (adv.GetTokenInformation, [wintypes.HANDLE, ctypes.c_int, wintypes.LPVOID, wintypes.DWORD, dword_p],
         wintypes.BOOL),
        (adv.ConvertSidToStringSidW, [ctypes.c_void_p, ctypes.POINTER(wintypes.LPWSTR)], wintypes.BOOL),
        (adv.GetSecurityInfo, [wintypes.HANDLE, ctypes.c_int, wintypes.DWORD, void_pp, void_pp, void_pp, void_pp,
                               void_pp], wintypes.DWORD),
    )
    for function, argtypes, restype in signatures:
        function.argtypes, function.restype = argtypes, restype
    return ctypes, wintypes, k32, adv


def _last_error(ctypes) -> OSError:
    err = ctypes.get_last_error()
    return OSError(err, ctypes.FormatError(err))


def _sid_string(ctypes, wintypes, k32, adv, psid) -> str:
    text = wintypes.LPWSTR()
    if not adv.ConvertSidToStringSidW(psid, ctypes.byref(text)):
        raise _last_error(ctypes)
    try:
        return text.value
    finally:
        k32.LocalFree(ctypes.cast(text, ctypes.c_void_p))


def _token_user_sid(process) -> str | None:
    """The user SID of a process's token; None when access is denied."""
    ctypes, wintypes, k32, adv = _win32()
    token = wintypes.HANDLE()
    if not adv.OpenProcessToken(process, TOKEN_QUERY, ctypes.byref(token)):
        if ctypes.get_last_error() == ERROR_ACCESS_DENIED:
            return None
        raise _last_error(ctypes)
    try:
        size = wintypes.DWORD()
        adv.GetTokenInformation(token, TOKEN_USER_CLASS, None, 0, ctypes.byref(size))
        if ctypes.get_last_error() != ERROR_INSUFFICIENT_BUFFER:
            raise _last_error(ctypes)
        buffer = ctypes.create_string_buffer(size.value)
        if not adv.GetTokenInformation(token, TOKEN_USER_CLASS, buffer, size, ctypes.byref(size)):
            raise _last_error(ctypes)
        psid = ctypes.cast(buffer, ctypes.POINTER(ctypes.c_void_p))[0]   # TOKEN_USER.User.Sid
        return _sid_string(ctypes, wintypes, k32, adv, psid)
    finally:
        k32.CloseHandle(token)


def current_user_sid() -> str:
    _ctypes, _wintypes, k32, _adv = _win32()
    sid = _token_user_sid(k32.GetCurrentProcess())
    if sid is None:
        raise OSError(ERROR_ACCESS_DENIED, "cannot read this process's own token")
    return sid


def server_process_sid(handle) -> str | None:
    """The user SID of the process serving a connected pipe; None when access is denied."""
    ctypes, wintypes, k32, _adv = _win32()
    pid = wintypes.ULONG()
    if not k32.GetNamedPipeServerProcessId(handle, ctypes.byref(pid)):
        raise _last_error(ctypes)
    process = k32.OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, False, pid.value)
    if not process:
        if ctypes.get_last_error() == ERROR_ACCESS_DENIED:
            return None
        raise _last_error(ctypes)
    try:
        return _token_user_sid(process)
    finally:
        k32.CloseHandle(process)


def pipe_owner_sid(handle) -> str | None:
    """The owner SID of the pipe's security descriptor; None when it cannot be read."""
    ctypes, wintypes, k32, adv = _win32()
    owner, descriptor = ctypes.c_void_p(), ctypes.c_void_p()
    err = adv.GetSecurityInfo(handle, SE_KERNEL_OBJECT, OWNER_SECURITY_INFORMATION, ctypes.byref(owner),
                              None, None, None, ctypes.byref(descriptor))
    if err:
        return None
    try:
        return _sid_string(ctypes, wintypes, k32, adv, owner)
    finally:
        k32.LocalFree(descriptor)


def _open_handle(name: str, timeout_s: float):
    ctypes, wintypes, k32, _adv = _win32()
    invalid = wintypes.HANDLE(-1).value
    deadline = time.monotonic() + timeout_s
    while True:
        handle = k32.CreateFileW(name, PIPE_CLIENT_ACCESS, 0, None, OPEN_EXISTING, 0, None)
        if handle != invalid:
            return handle
        err = ctypes.get_last_error()
        remaining = deadline - time.monotonic()
        if err != ERROR_PIPE_BUSY or remaining <= 0:
            raise OSError(err, ctypes.FormatError(err))
        k32.WaitNamedPipeW(name, max(1, int(remaining * 1000)))


class PipeConnection:
    """A verified connection to the agent's pipe: ``reader`` (timed) and ``write``."""

    _raw: io.FileIO
    reader: io.BufferedReader

    def __init__(self, name: str, connect_timeout_s: float, reply_timeout_s: float):
        if sys.platform != "win32":  # (also tells the type checker the rest is Windows-only)
            raise OSError(f"{name}: named pipes exist only on Windows")
        import msvcrt

        ctypes, wintypes, k32, _adv = _win32()
        handle = _open_handle(name, connect_timeout_s)
        try:
            reason = untrusted_reason(name, current_user_sid(), server_process_sid(handle), pipe_owner_sid(handle))
        except BaseException:
            k32.CloseHandle(handle)
            raise
        if reason is not None:
            k32.CloseHandle(handle)
            raise UntrustedServer(reason)
        # the file outlives this call: close() closes it (and with it the handle)
        fd = msvcrt.open_osfhandle(handle, os.O_RDWR | getattr(os, "O_BINARY", 0))
        self._raw = open(fd, "r+b", buffering=0)  # noqa: SIM115

        def available() -> int | None:
            total = wintypes.DWORD()
            if k32.PeekNamedPipe(handle, None, 0, None, ctypes.byref(total), None):
                return total.value
            if ctypes.get_last_error() == ERROR_BROKEN_PIPE:
                return None
            raise _last_error(ctypes)

        self.reader = io.BufferedReader(TimedPipeReader(available, self._raw.read, reply_timeout_s))

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[self._raw.write(view):]

    def close(self) -> None:
        self.reader.close()
        self._raw.close()
