"""Many rows in one SQL statement: the rows are bound as one JSON array and SQLite unpacks
them with json_each, so `INSERT … SELECT * FROM {rows}` or `UPDATE … FROM {rows}` writes a
whole batch in one step.

Why not executemany: it takes the GIL back after every row it steps, and on the store's
writer thread that means waiting for the event loop (up to the switch interval) once per
row; one statement waits once. Measured on this project's machine with 500-row event
batches and a busy Python thread beside the writer: executemany ~650 rows/s, one JSON
statement ~25,000 (docs/collector.md, Performance).

Values travel as JSON: str, int (64-bit), float, None; bool arrives as 1/0, as sqlite3
binds it. Rows are tuples or lists of one width; the subquery names its columns c0, c1, …"""
from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import orjson

from shadowmap.collector.store.backend import is_postgres

if TYPE_CHECKING:
    from shadowmap.collector.store.postgres.adapter import PgDatabase


def from_rows(width: int) -> str:
    """The subquery a template puts where it reads the rows: `(SELECT value->>0 AS c0, … FROM
    json_each(?))`. A template holds exactly one, and no other parameter."""
    columns = ", ".join(f"value->>{index} AS c{index}" for index in range(width))
    return f"(SELECT {columns} FROM json_each(?))"


def insert_sql(into: str, width: int, conflict: str = "") -> str:
    """`INSERT … (columns)` for rows of ``width`` values, with an optional ON CONFLICT clause
    (the WHERE true is what SQLite's grammar asks of an upsert reading from a SELECT)."""
    return f"{into} SELECT * FROM {from_rows(width)} WHERE true {conflict}".rstrip()


def execute_rows(conn: sqlite3.Connection | PgDatabase, sql: str, rows: Sequence[Sequence[Any]]) -> int:
    """Run a template built with from_rows/insert_sql over ``rows``; returns the rows changed."""
    if not rows:
        return 0
    if is_postgres(conn):  # the adapter types each column (PostgreSQL turns no text into numbers)
        return conn.execute_rows(sql, rows)
    before = conn.total_changes
    conn.execute(sql, (orjson.dumps(rows),))
    return conn.total_changes - before


def query_rows(conn: sqlite3.Connection | PgDatabase, sql: str, rows: Sequence[Sequence[Any]]) -> list[tuple[Any, ...]]:
    """execute_rows for a template with RETURNING: the rows it returns (in one round trip,
    whatever their number)."""
    if not rows:
        return []
    if is_postgres(conn):
        return conn.query_rows(sql, rows)
    return [tuple(row) for row in conn.execute(sql, (orjson.dumps(rows),)).fetchall()]
