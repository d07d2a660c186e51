"""What the agent's IPC may hold at once, per OS user and in all: open connections, and the
bytes of frames being read and answered. The numbers are the contract's
(schema/host.v1.json limits: agent_connections*, agent_buffer_bytes*).

Any local user can reach a system agent's socket, so nothing one user sends may grow the
agent without bound: a connection over the caps is closed on accept, and a frame whose
bytes would exceed its user's (or everyone's) budget waits a little for room, then is
refused unread. A frame is counted twice its length: its bytes, then the decoded text.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import sys
import threading
import time
from collections import Counter

from shadowmap.contract import host

FRAME_COST_FACTOR = 2          # the body's bytes, then its decoded text, are alive together
BUDGET_WAIT_S = 10.0           # how long a frame waits for room before it is refused
M_MMAP_THRESHOLD = -3          # glibc's mallopt parameter (malloc.h)
BIG_BUFFER_BYTES = 1024 * 1024


def return_big_buffers_to_the_os() -> bool:
    """Make glibc map every allocation of 1 MiB or more on its own, so a frame's buffers go
    back to the OS when freed. Otherwise glibc raises its threshold after the first big free
    and later frames are carved from per-thread arenas that keep their pages: each
    connection thread would keep a frame's worth of memory resident, outside any budget.
    True when set (Linux with glibc); elsewhere nothing is done."""
    if not sys.platform.startswith("linux"):
        return False
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError):      # not glibc (musl has no mallopt)
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, BIG_BUFFER_BYTES))


class IPCBudget:
    def __init__(self, connections: int = host.AGENT_CONNECTIONS,
                 connections_per_user: int = host.AGENT_CONNECTIONS_PER_USER,
                 buffer_bytes: int = host.AGENT_BUFFER_BYTES,
                 buffer_bytes_per_user: int = host.AGENT_BUFFER_BYTES_PER_USER,
                 wait_s: float = BUDGET_WAIT_S):
        self.connections = connections
        self.connections_per_user = connections_per_user
        self.buffer_bytes = buffer_bytes
        self.buffer_bytes_per_user = buffer_bytes_per_user
        self.wait_s = wait_s
        self._room = threading.Condition()
        self._open: Counter[str] = Counter()
        self._held: Counter[str] = Counter()

    # ---- connections --------------------------------------------------------------------------
    def admit(self, user: str) -> bool:
        """Count a new connection of this user; False (not counted) when over a cap."""
        with self._room:
            if sum(self._open.values()) >= self.connections or self._open[user] >= self.connections_per_user:
                return False
            self._open[user] += 1
            return True

    def leave(self, user: str) -> None:
        with self._room:
            self._open[user] -= 1
            if self._open[user] <= 0:
                del self._open[user]

    # ---- frame bytes --------------------------------------------------------------------------
    @staticmethod
    def cost(length: int) -> int:
        return FRAME_COST_FACTOR * length

    def _fits(self, user: str, cost: int) -> bool:
        return (self._held[user] + cost <= self.buffer_bytes_per_user
                and sum(self._held.values()) + cost <= self.buffer_bytes)

    def reserve(self, user: str, cost: int) -> bool:
        """Hold cost bytes for this user, waiting up to wait_s for room; False if none came.
        A cost no budget could ever hold is refused at once."""
        if cost > min(self.buffer_bytes_per_user, self.buffer_bytes):
            return False
        deadline = time.monotonic() + self.wait_s
        with self._room:
            while not self._fits(user, cost):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._room.wait(left)
            self._held[user] += cost
            return True

    def release(self, user: str, cost: int) -> None:
        with self._room:
            self._held[user] -= cost
            if self._held[user] <= 0:
                del self._held[user]
            self._room.notify_all()

    def held(self, user: str | None = None) -> int:
        """Bytes held now, for one user or all (for tests and logs)."""
        with self._room:
            return self._held[user] if user is not None else sum(self._held.values())
