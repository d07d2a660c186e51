"""`shadowmap collector move`: an existing install's SQLite database into an empty
PostgreSQL one, every table, in batches, in one PostgreSQL transaction (a move that fails
leaves the target empty, to run again).

Before: both databases are brought to the latest migration through their stores (the
target gets the schema `collector migrate` gives it), and a target holding any row is
refused. After: the row count of every table must match, and the record's hash chain must
verify on the target. Nothing on the source is changed beyond its own pending migrations."""
from __future__ import annotations

import asyncio
import functools
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import psycopg

from shadowmap.collector.record import chain
from shadowmap.collector.store import move_tables, open_store
from shadowmap.collector.store.url import PostgresUrl, SqliteUrl

DEFAULT_BATCH = 5000
class Progress(Protocol):
    """Told of each batch copied: the table, rows copied so far, rows in the table."""

    def __call__(self, table: str, done: int, total: int) -> None: ...


class MoveError(Exception):
    """The move cannot start or did not hold; the message says why."""


@dataclass(frozen=True)
class TableMoved:
    name: str
    source_rows: int
    target_rows: int

    @property
    def matches(self) -> bool:
        return self.source_rows == self.target_rows


@dataclass
class MoveSummary:
    tables: list[TableMoved] = field(default_factory=list)
    derived: dict[str, int] = field(default_factory=dict)    # PostgreSQL-only tables filled from copies
    partitions_made: int = 0
    chain_entries: int = 0
    chain_problem: str | None = None                         # None: the chain verifies
    seconds: float = 0.0

    @property
    def rows(self) -> int:
        return sum(table.target_rows for table in self.tables)

    @property
    def ok(self) -> bool:
        return all(table.matches for table in self.tables) and self.chain_problem is None

    def describe(self) -> str:
        width = max((len(table.name) for table in self.tables), default=5)
        lines = [f"{'table':<{width}}  {'source':>10}  {'target':>10}"]
        lines += [f"{table.name:<{width}}  {table.source_rows:>10}  {table.target_rows:>10}"
                  f"{'' if table.matches else '  MISMATCH'}" for table in self.tables]
        lines += [f"{name:<{width}}  {'(derived)':>10}  {rows:>10}" for name, rows in self.derived.items()]
        chain_line = (f"record chain: {self.chain_entries} entries verified on the target" if self.chain_problem is None
                      else f"record chain: BROKEN on the target: {self.chain_problem}")
        lines += [chain_line, f"{self.rows} rows in {len(self.tables)} tables, {self.partitions_made} event "
                              f"partitions made, {self.seconds:.1f} s: {'OK' if self.ok else 'FAILED'}"]
        return "\n".join(lines)


def _quiet(table: str, done: int, total: int) -> None:
    """No progress shown."""


async def _migrate_and_verify(url: Path | PostgresUrl, verify: bool) -> tuple[int, int | None, str]:
    """Open the database through its store (which applies pending migrations); on the
    target, walk the record chain."""
    store = open_store(SqliteUrl(url) if isinstance(url, Path) else url, read_workers=1)
    await store.open()
    try:
        return await store.read(chain.verify_store) if verify else (0, None, "ok")
    finally:
        await store.close()


def _plan(source: sqlite3.Connection, target: psycopg.Connection) -> dict[str, dict[str, str]]:
    """Table -> the columns to copy (name -> the target's type); MoveError when the target is not empty or cannot take a table."""
    source_tables = move_tables.sqlite_tables(source)
    target_tables = move_tables.postgres_tables(target)
    occupied = [name for name in target_tables if move_tables.postgres_count(target, name)]
    if occupied:
        raise MoveError(f"the target database is not empty (rows in {', '.join(sorted(occupied))}); "
                        "move into a new, empty database")
    plan: dict[str, dict[str, str]] = {}
    for name, columns in source_tables.items():
        if name not in target_tables:
            if move_tables.sqlite_count(source, name):
                raise MoveError(f"the target has no table {name!r}: are both at the same version? "
                                "(`shadowmap collector migrate` on each)")
            continue
        lost = [column for column in columns if column not in target_tables[name]]
        if lost:
            raise MoveError(f"table {name!r}: the target has no column {', '.join(lost)}")
        plan[name] = {column: target_tables[name][column] for column in columns}
    return plan


def move(source_path: Path, target: PostgresUrl, batch: int = DEFAULT_BATCH,
         progress: Progress | None = None) -> MoveSummary:
    """Move the SQLite database at ``source_path`` into the empty PostgreSQL ``target``."""
    started = time.monotonic()
    if not source_path.is_file():
        raise MoveError(f"no SQLite database at {source_path}")
    asyncio.run(_migrate_and_verify(source_path, verify=False))
    asyncio.run(_migrate_and_verify(target, verify=False))
    summary = MoveSummary()
    report: Progress = progress or _quiet
    source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True)
    try:
        with psycopg.connect(target.conninfo(), autocommit=True) as conn:
            plan = _plan(source, conn)
            totals = {name: move_tables.sqlite_count(source, name) for name in plan}
            with conn.transaction():
                span = move_tables.event_month_span(source) if move_tables.EVENTS in plan else None
                if span:
                    summary.partitions_made = move_tables.make_event_partitions(conn, *span)
                for name, columns in plan.items():
                    rows = move_tables.sqlite_rows(source, name, list(columns), batch)
                    move_tables.copy_rows(conn, name, columns, rows, functools.partial(report, name, total=totals[name]))
                for name in move_tables.DERIVED:
                    if name in move_tables.postgres_tables(conn):
                        move_tables.fill_derived(conn, name)
                        summary.derived[name] = move_tables.postgres_count(conn, name)
                move_tables.reset_identities(conn)
            summary.tables = [TableMoved(name, totals[name], move_tables.postgres_count(conn, name)) for name in plan]
    finally:
        source.close()
    checked, broken, why = asyncio.run(_migrate_and_verify(target, verify=True))
    summary.chain_entries = checked
    summary.chain_problem = None if broken is None else f"entry {broken}: {why}"
    summary.seconds = time.monotonic() - started
    return summary
