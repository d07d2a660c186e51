"""One lock for the things on this machine that tests share: the browsers' system-wide
policy and native-messaging folders under /etc. Tests that drive a browser hold it shared;
the .deb's install test (tests/packaging/test_deb.py), which writes those folders for real,
holds it exclusively from its first look at the system to its purge. Everything else runs
beside both, on any worker.

Writers go first: a turnstile file is taken exclusively by the writer while it waits and
works, and passed through by each reader on its way in, so a stream of browser tests on
the other workers cannot keep the install waiting until its timeout."""
from __future__ import annotations

import fcntl
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LOCK_FILE = Path(tempfile.gettempdir()) / "shadowmap-tests-system-browsers.lock"
TURNSTILE = LOCK_FILE.with_suffix(".turnstile")


def _open(path: Path) -> int:
    return os.open(path, os.O_CREAT | os.O_RDWR, 0o600)


@contextmanager
def machine_lock(exclusive: bool) -> Iterator[None]:
    turnstile, lock = _open(TURNSTILE), _open(LOCK_FILE)
    try:
        fcntl.flock(turnstile, fcntl.LOCK_EX)      # a waiting writer holds it: readers queue here
        if exclusive:
            fcntl.flock(lock, fcntl.LOCK_EX)
        else:
            fcntl.flock(lock, fcntl.LOCK_SH)
            fcntl.flock(turnstile, fcntl.LOCK_UN)
        yield
    finally:
        os.close(lock)                              # closing releases the locks
        os.close(turnstile)
