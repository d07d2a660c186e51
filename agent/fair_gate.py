"""A lock for the scan engine that is fair between OS users.

Scans are serialised (the engine's spaCy pipeline is not promised to be thread-safe). A
plain lock wakes an arbitrary waiter, so one user with many 8 MiB scans queued could keep
another user's small paste waiting behind all of them. Here each user has a FIFO of
waiters and the users are served round-robin, the user holding the gate last: a newcomer
waits for the scan in progress and at most one scan of each other user already waiting.
"""
from __future__ import annotations

import threading
from collections import OrderedDict, deque
from collections.abc import Iterator
from contextlib import contextmanager


class FairGate:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiting: OrderedDict[str, deque[threading.Event]] = OrderedDict()  # user -> tickets, in turn order
        self._busy = False
        self._serving = ""        # whose scan holds the gate: their next turn comes after everyone else's

    @contextmanager
    def held(self, user: str) -> Iterator[None]:
        """Hold the gate for one scan of this user's."""
        ticket = threading.Event()
        with self._lock:
            if self._busy:
                self._waiting.setdefault(user, deque()).append(ticket)
                if self._serving in self._waiting:
                    self._waiting.move_to_end(self._serving)
            else:
                self._busy, self._serving = True, user
                ticket.set()
        ticket.wait()
        try:
            yield
        finally:
            self._hand_over()

    def _hand_over(self) -> None:
        with self._lock:
            if not self._waiting:
                self._busy, self._serving = False, ""
                return
            user, tickets = next(iter(self._waiting.items()))
            ticket = tickets.popleft()
            if tickets:
                self._waiting.move_to_end(user)     # served: this user's next turn is after the others'
            else:
                del self._waiting[user]
            self._serving = user
            ticket.set()                            # the gate stays busy: it passes to this waiter
