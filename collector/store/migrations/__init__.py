"""Schema changes: one file per migration, `NNNN_<what>.py`, applied in the order of their
numbers and recorded in `_migrations` (a database at number N goes on with the next one).

A migration file holds NAME (what it does, recorded) and either SQL (statements separated
by `;`, `--` comments allowed) or `up(conn)` for what SQL alone cannot do. Any function its
SQL calls is defined in the file itself: old migrations never import today's code. Add a
file with the next number; never edit one that has shipped."""
from __future__ import annotations

import importlib
import pkgutil
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from types import ModuleType

import sqlite_utils


@dataclass(frozen=True)
class Migration:
    number: int
    name: str
    up: Callable[[sqlite3.Connection], None]


def _sql_up(sql: str) -> Callable[[sqlite3.Connection], None]:
    def up(conn: sqlite3.Connection) -> None:
        for statement in _statements(sql):
            conn.execute(statement)
    return up


def _statements(sql: str) -> list[str]:
    # executescript() would commit the open transaction, so run statements one by one.
    cleaned = "\n".join(line.split("--", 1)[0] for line in sql.splitlines())
    return [part.strip() for part in cleaned.split(";") if part.strip()]


def _migration(module: ModuleType) -> Migration:
    number = int(module.__name__.rsplit(".", 1)[1].split("_", 1)[0])
    up = getattr(module, "up", None)
    if up is None:
        up = _sql_up(module.SQL)
    return Migration(number, module.NAME, up)


def discover() -> tuple[Migration, ...]:
    """Every migration file of this package, in order of number."""
    found = [_migration(importlib.import_module(f"{__name__}.{info.name}"))
             for info in pkgutil.iter_modules(__path__) if info.name[:4].isdigit()]
    numbers = [migration.number for migration in found]
    if len(set(numbers)) != len(numbers):
        raise RuntimeError(f"two migrations share a number: {sorted(numbers)}")
    return tuple(sorted(found, key=lambda migration: migration.number))


MIGRATIONS: tuple[Migration, ...] = discover()


def apply_migrations(db: sqlite_utils.Database, migrations: tuple[Migration, ...] | None = None) -> list[int]:
    """Apply every migration not yet recorded, each in its own transaction; return their numbers."""
    migrations = MIGRATIONS if migrations is None else migrations
    db.execute(
        "CREATE TABLE IF NOT EXISTS _migrations (number INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )
    done = {row["number"] for row in db.query("SELECT number FROM _migrations")}
    applied = []
    for migration in sorted(migrations, key=lambda m: m.number):
        if migration.number in done:
            continue
        with db.atomic():
            migration.up(db.conn)
            db.execute(
                "INSERT INTO _migrations (number, name, applied_at) VALUES (?, ?, ?)",
                (migration.number, migration.name, datetime.now(UTC).isoformat()),
            )
        applied.append(migration.number)
    return applied


def latest() -> int:
    """The number of the last migration: a database at it is fully migrated."""
    return MIGRATIONS[-1].number
