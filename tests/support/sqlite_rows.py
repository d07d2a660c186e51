"""Read rows straight from a real SQLite file (the collector's database) in a test, on a
connection of its own that is closed again, so the test sees what was committed."""
from __future__ import annotations

from pathlib import Path

import sqlite_utils


def rows(db_path: Path | str, sql: str, params: tuple = ()) -> list[dict]:
    db = sqlite_utils.Database(db_path)
    try:
        return [dict(row) for row in db.query(sql, params)]
    finally:
        db.conn.close()
