"""PostgreSQL's schema changes: `NNNN_<what>.py` files holding NAME and SQL, numbered after
the SQLite migration they bring level with (0092: every table as of SQLite's 92), so
/readyz reads "migrated" the same way on both backends and a SQLite migration without its
PostgreSQL twin shows as pending there. Applied in one transaction under an advisory lock:
nodes starting at once apply them once, and a failed migration leaves nothing behind."""
from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from datetime import UTC, datetime

from shadowmap.collector.store.postgres.adapter import PgDatabase

MIGRATIONS_LOCK = 0x5348_4D00_0001  # pg_advisory_xact_lock key: applying migrations


@dataclass(frozen=True)
class Migration:
    number: int
    name: str
    sql: str


def discover() -> tuple[Migration, ...]:
    found = []
    for info in pkgutil.iter_modules(__path__):
        if info.name[:4].isdigit():
            module = importlib.import_module(f"{__name__}.{info.name}")
            found.append(Migration(int(info.name[:4]), module.NAME, module.SQL))
    return tuple(sorted(found, key=lambda migration: migration.number))


MIGRATIONS: tuple[Migration, ...] = discover()


def apply_migrations(db: PgDatabase, migrations: tuple[Migration, ...] | None = None) -> list[int]:
    """Writer fn (one transaction): apply every migration not yet recorded; their numbers."""
    raw = db.raw
    raw.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATIONS_LOCK,))
    raw.execute("CREATE TABLE IF NOT EXISTS _migrations (number INTEGER PRIMARY KEY, name TEXT NOT NULL,"
                " applied_at TEXT NOT NULL)")
    done = {row[0] for row in raw.execute("SELECT number FROM _migrations")}
    applied = []
    for migration in migrations if migrations is not None else MIGRATIONS:
        if migration.number in done:
            continue
        raw.execute(migration.sql)  # several statements: the simple query protocol runs them all
        raw.execute("INSERT INTO _migrations (number, name, applied_at) VALUES (%s, %s, %s)",
                    (migration.number, migration.name, datetime.now(UTC).isoformat()))
        applied.append(migration.number)
    return applied


def latest() -> int:
    return MIGRATIONS[-1].number
