"""Secrets the collector creates for itself (enroll secret, signing key): written once,
atomically, mode 0600, and never overwritten; a copy others can read is flagged loudly."""
from __future__ import annotations

import logging
import os
import stat
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)


def read_or_create(path: Path, make: Callable[[], bytes], what: str) -> bytes:
    """The file's bytes, creating it with ``make()`` first when it does not exist."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "wb") as handle:
            handle.write(make())
        log.info("created %s %s", what, path)
    if path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        # not fatal: an operator may have provisioned it; but say so loudly
        log.warning("%s %s is accessible by other users; chmod 600 it", what, path)
    return path.read_bytes()
