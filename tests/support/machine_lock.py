"""One lock for the things on this machine that tests share: the browsers' system-wide
policy and native-messaging folders under /etc. Tests that drive a browser hold it shared;
the .deb's install test (tests/packaging/test_deb.py), which writes those folders for real,
holds it exclusively from its first look at the system to its purge. Everything else runs
beside both, on any worker."""
from __future__ import annotations

import fcntl
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LOCK_FILE = Path(tempfile.gettempdir()) / "shadowmap-tests-system-browsers.lock"


@contextmanager
def machine_lock(exclusive: bool) -> Iterator[None]:
    fd = os.open(LOCK_FILE, os.O_CREAT | os.O_RDWR, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        yield
    finally:
        os.close(fd)  # releases the lock
