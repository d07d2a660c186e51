"""Files the collector writes (database, secrets, signing key, bundles, reports): created
0600, in folders it creates 0700, with the mode given at creation (never a chmod after,
so nothing is readable by others even for a moment). Secrets it creates for itself are
written once, atomically, and never overwritten; a copy others can read is flagged loudly."""
from __future__ import annotations

import contextlib
import logging
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

log = logging.getLogger(__name__)

# The process umask the collector's commands run with: a belt for any file a library creates.
PRIVATE_UMASK = 0o077
FILE_MODE = 0o600
DIR_MODE = 0o700


def private_dir(path: Path) -> Path:
    """Create ``path`` and any missing parents with mode 0700; existing folders are left as they are."""
    path = Path(path)
    missing = []
    while not path.exists():
        missing.append(path)
        if path.parent == path:
            break
        path = path.parent
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):  # made meanwhile by someone else: fine
            os.mkdir(folder, DIR_MODE)  # the umask can only take bits away from 0700
    return Path(missing[0]) if missing else path


def create_private_file(path: Path) -> bool:
    """Create an empty 0600 file unless something is there already; True when created.
    (SQLite gives a database's -wal and -shm files the mode of the database file.)"""
    private_dir(Path(path).parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, FILE_MODE)
    except FileExistsError:
        return False
    os.close(fd)
    return True


def open_private(path: Path) -> BinaryIO:
    """A new file opened for writing, created 0600 (any old file at ``path`` is replaced,
    a link there is removed, never followed)."""
    path = Path(path)
    private_dir(path.parent)
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, FILE_MODE)
    return os.fdopen(fd, "wb")


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (a 0600 partial file, then a rename)."""
    path = Path(path)
    partial = path.with_name(path.name + ".partial")
    with open_private(partial) as handle:
        handle.write(data)
    partial.replace(path)


def read_or_create(path: Path, make: Callable[[], bytes], what: str) -> bytes:
    """The file's bytes, creating it with ``make()`` first when it does not exist."""
    path = Path(path)
    private_dir(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, FILE_MODE)
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
