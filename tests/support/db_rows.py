"""Read rows straight from a test collector's database, on a connection of its own that is
closed again, so the test sees what was committed: the SQLite file at ``db_path``, or the
PostgreSQL database the collector runs on instead when the test's config put one there
(``PG_DATABASES``, filled by tests/collector/conftest.py's ``config`` fixture)."""
from __future__ import annotations

from pathlib import Path

import sqlite_utils

# db_path of a test's config -> the PostgreSQL URL its collector runs on instead
PG_DATABASES: dict[Path, str] = {}


def rows(db_path: Path | str, sql: str, params: tuple = ()) -> list[dict]:
    """Rows (as dicts) of a query written for SQLite (translated for PostgreSQL)."""
    url = PG_DATABASES.get(Path(db_path))
    if url is not None:
        import psycopg
        from psycopg.rows import dict_row

        from shadowmap.collector.store.postgres.dialect import translate
        with psycopg.connect(url, row_factory=dict_row) as conn:
            return conn.execute(translate(sql).sql, params or None).fetchall()
    db = sqlite_utils.Database(db_path)
    try:
        return [dict(row) for row in db.query(sql, params)]
    finally:
        db.conn.close()


def count(db_path: Path | str, table: str, where: str = "", params: tuple = ()) -> int:
    """How many rows of ``table`` (match ``where``)."""
    return int(rows(db_path, f'SELECT count(*) AS n FROM "{table}"' + (f" WHERE {where}" if where else ""),
                    params)[0]["n"])


def db_option(db_path: Path | str) -> str:
    """What to pass as `--db` to a `shadowmap collector` command for this test collector."""
    return PG_DATABASES.get(Path(db_path)) or str(db_path)
