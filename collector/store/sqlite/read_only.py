"""A read-only connection, for commands that only read the collector's database (the
weekly report): no migrations, no writer thread, nothing can change."""
from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlite_utils

Error = sqlite3.Error  # what opening or reading may raise


@contextmanager
def read_only(path: Path) -> Iterator[sqlite_utils.Database]:
    """The database at ``path``, opened read-only (Error when it cannot be), closed after."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10.0)
    try:
        yield sqlite_utils.Database(conn)
    finally:
        conn.close()
