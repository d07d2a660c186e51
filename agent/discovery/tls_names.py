"""TLS connections to hosts outside the catalog whose names look like AI (issue 20): the
server name (SNI) each ClientHello leaving the laptop carries, read without decrypting
anything.

Linux, root only: a packet socket (AF_PACKET, cooked, IPv4 and IPv6) with a classic BPF
filter in the kernel that passes only TCP segments whose payload starts a TLS handshake
with a ClientHello (record type 0x16, handshake type 1), so the agent's thread wakes a few
times per new connection, never per packet of a download. The name is parsed from the
hello (RFC 8446 4.1.2 and RFC 6066 3) and kept only when it is not a catalog host and looks
like an AI tool's (shadowmap.detectors.ai_names); every other name is dropped at once, in
memory. A hello split over two segments whose first holds no server name (large
post-quantum key shares, extensions in random order) is missed. macOS and Windows: not
built (they need a network extension or ETW); the agent says so as a limitation."""
from __future__ import annotations

import contextlib
import ctypes
import socket
import struct
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from shadowmap.detectors.ai_names import looks_like_ai

ETH_P_IP, ETH_P_IPV6 = 0x0800, 0x86DD
SO_ATTACH_FILTER = 26
MAX_PENDING = 200          # names waiting for the next network pass, at most
HELLO = 0x16, 0x01         # TLS record type handshake, handshake type client_hello


def _filter(ip_header: int | None) -> list[tuple[int, int, int, int]]:
    """cBPF: accept a TCP segment whose payload begins a ClientHello. ``ip_header``: None for
    IPv4 (its length is in the header), 40 for IPv6 (no extension headers)."""
    drop = 15 if ip_header is None else 12      # the last instruction's index: len(head) + 5
    if ip_header is None:
        head = [(0x30, 0, 0, 9),                 # ldb [9]: protocol
                (0x15, 0, drop - 2, 6),          # TCP, else drop
                (0x28, 0, 0, 6),                 # ldh [6]: flags and fragment offset
                (0x45, drop - 4, 0, 0x1FFF),     # a later fragment: drop
                (0xB1, 0, 0, 0),                 # ldxb 4*([0]&0xf): X = IP header length
                (0x50, 0, 0, 12),                # ldb [x+12]: TCP data offset
                (0x54, 0, 0, 0xF0),              # and #0xf0
                (0x74, 0, 0, 2),                 # rsh #2: TCP header length
                (0x0C, 0, 0, 0),                 # add x
                (0x07, 0, 0, 0)]                 # tax: X = where the payload starts
    else:
        head = [(0x30, 0, 0, 6),                 # ldb [6]: next header
                (0x15, 0, drop - 2, 6),          # TCP, else drop
                (0x30, 0, 0, ip_header + 12),    # ldb [52]: TCP data offset
                (0x54, 0, 0, 0xF0),
                (0x74, 0, 0, 2),
                (0x04, 0, 0, ip_header),         # add #40
                (0x07, 0, 0, 0)]                 # tax
    at = len(head)
    return head + [(0x50, 0, 0, 0),                  # ldb [x+0]: record type
                   (0x15, 0, drop - at - 2, HELLO[0]),   # (a jump goes to its index + 1 + offset)
                   (0x50, 0, 0, 5),                  # ldb [x+5]: handshake type
                   (0x15, 0, drop - at - 4, HELLO[1]),
                   (0x06, 0, 0, 0xFFFF),             # accept
                   (0x06, 0, 0, 0)]                  # drop


def server_name(payload: bytes) -> str | None:
    """The host_name in a ClientHello's server_name extension, or None (not a hello, no
    name, or cut short before it)."""
    try:
        if len(payload) < 9 or payload[0] != HELLO[0] or payload[5] != HELLO[1]:
            return None
        at = 9 + 2 + 32                                   # record and handshake headers, version, random
        at += 1 + payload[at]                             # session id
        at += 2 + struct.unpack_from("!H", payload, at)[0]  # cipher suites
        at += 1 + payload[at]                             # compression methods
        end = at + 2 + struct.unpack_from("!H", payload, at)[0]
        at += 2
        while at + 4 <= min(end, len(payload)):
            kind, length = struct.unpack_from("!HH", payload, at)
            at += 4
            if kind == 0:                                 # server_name: list of (type, name)
                list_end = at + 2 + struct.unpack_from("!H", payload, at)[0]
                at += 2
                while at + 3 <= list_end:
                    name_type, name_length = payload[at], struct.unpack_from("!H", payload, at + 1)[0]
                    at += 3
                    if name_type == 0:
                        name = payload[at:at + name_length]
                        if len(name) == name_length and name.isascii():
                            return name.decode("ascii").lower().rstrip(".") or None
                        return None
                    at += name_length
                return None
            at += length
    except (IndexError, struct.error):
        return None
    return None


def _segment(packet: bytes, ip_header: int | None) -> tuple[int | None, bytes]:
    """(TCP source port, payload) of a packet the filter passed."""
    offset = (packet[0] & 0x0F) * 4 if ip_header is None else ip_header
    if len(packet) < offset + 13:
        return None, b""
    return struct.unpack_from("!H", packet, offset)[0], packet[offset + (packet[offset + 12] >> 4) * 4:]


@dataclass(frozen=True)
class Hello:
    host: str
    source_port: int | None   # the laptop's end: the connection table names its process
    seen: float


class HelloWatch:
    """Server names of AI-looking hosts outside the catalog, collected by a thread until the
    next network pass takes them (take())."""

    def __init__(self, is_catalog_host: Callable[[str], bool]) -> None:
        self.is_catalog_host = is_catalog_host
        self.limitation: str | None = None
        self._pending: dict[str, Hello] = {}
        self._lock = threading.Lock()
        self._sockets: list[tuple[socket.socket, int | None]] = []
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> bool:
        """Open the packet sockets and start reading; False (with a limitation) where it
        cannot: not Linux, or not root."""
        if not sys.platform.startswith("linux"):
            self.limitation = "TLS server names are read on Linux only"
            return False
        try:
            for protocol, ip_header in ((ETH_P_IP, None), (ETH_P_IPV6, 40)):
                sock = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(protocol))
                _attach(sock, _filter(ip_header))
                sock.settimeout(1.0)
                self._sockets.append((sock, ip_header))
        except (PermissionError, OSError) as exc:
            self.close()
            self.limitation = f"TLS server names need root (CAP_NET_RAW): {exc.__class__.__name__}"
            return False
        for sock, ip_header in self._sockets:
            thread = threading.Thread(target=self._read, args=(sock, ip_header), name="tls-names", daemon=True)
            thread.start()
            self._threads.append(thread)
        return True

    def take(self) -> list[Hello]:
        with self._lock:
            taken, self._pending = list(self._pending.values()), {}
        return taken

    def note(self, host: str, source_port: int | None) -> None:
        """Keep a server name if it is worth reporting (the reader's filter, also for tests)."""
        if self.is_catalog_host(host) or not looks_like_ai(host):
            return
        with self._lock:
            if host not in self._pending and len(self._pending) < MAX_PENDING:
                self._pending[host] = Hello(host, source_port, time.time())

    def close(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=2.0)
        for sock, _ in self._sockets:
            with contextlib.suppress(OSError):
                sock.close()
        self._sockets, self._threads = [], []

    def _read(self, sock: socket.socket, ip_header: int | None) -> None:
        while not self._stop.is_set():
            try:
                packet = sock.recv(65535)
            except TimeoutError:
                continue
            except OSError:
                return
            source_port, payload = _segment(packet, ip_header)
            host = server_name(payload)
            if host:
                self.note(host, source_port)


class _SockFilter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint16), ("jt", ctypes.c_uint8), ("jf", ctypes.c_uint8), ("k", ctypes.c_uint32)]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_uint16), ("filter", ctypes.POINTER(_SockFilter))]


def _attach(sock: socket.socket, program: list[tuple[int, int, int, int]]) -> None:
    """setsockopt(SO_ATTACH_FILTER): struct sock_fprog holds a pointer, so it is built with
    ctypes and handed over as its bytes (the instructions stay alive until the call returns)."""
    instructions = (_SockFilter * len(program))(*[_SockFilter(*ins) for ins in program])
    fprog = _SockFprog(len(program), ctypes.cast(instructions, ctypes.POINTER(_SockFilter)))
    sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, bytes(fprog))
