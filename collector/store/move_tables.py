"""The SQL of moving an install from SQLite to PostgreSQL (`shadowmap collector move`):
which tables and columns each side has, their row counts, and copying one table's rows
from a SQLite connection into PostgreSQL with COPY.

Both databases are at the same migration level when this runs (the mover opens each
through its store first), so a table has the same columns on both; PostgreSQL has a few
things of its own, filled here from what was copied: the month partitions of `events`,
the `event_ids` table (one row per event id, the key a partitioned table cannot hold) and
the identity sequences, moved past the highest copied id."""
from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
from psycopg import sql

BOOKKEEPING = "_migrations"        # each side's own record of its migrations: never copied
EVENTS = "events"
TEXT_TYPES = {"text", "character varying", "json", "jsonb"}
# PostgreSQL-only tables filled from copied rows, and how
DERIVED = {"event_ids": "INSERT INTO event_ids (id, device_id, ts) SELECT id, device_id, ts FROM events "
                        "ON CONFLICT (id) DO NOTHING"}


def sqlite_tables(conn: sqlite3.Connection) -> dict[str, list[str]]:
    """Every table of the SQLite database (not its internals, not the migration log) and its columns."""
    names = [row[0] for row in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
    return {name: [row[1] for row in conn.execute(f'PRAGMA table_info("{name}")')]
            for name in names if name != BOOKKEEPING}


def postgres_tables(conn: psycopg.Connection[Any]) -> dict[str, dict[str, str]]:
    """Every table of the public schema (a partitioned table once, not its partitions): its
    columns, in order, each with its type's name."""
    rows = conn.execute(
        "SELECT c.relname, a.attname, format_type(a.atttypid, NULL) FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped "
        "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition "
        "ORDER BY c.relname, a.attnum").fetchall()
    tables: dict[str, dict[str, str]] = {}
    for table, column, type_name in rows:
        if table != BOOKKEEPING:
            tables.setdefault(table, {})[column] = type_name
    return tables


def sqlite_count(conn: sqlite3.Connection, table: str) -> int:
    return int(conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0])


def postgres_count(conn: psycopg.Connection[Any], table: str) -> int:
    row = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))).fetchone()
    return int(row[0]) if row else 0


def sqlite_rows(conn: sqlite3.Connection, table: str, columns: list[str], batch: int) -> Iterator[list[tuple[Any, ...]]]:
    """The table's rows, ``batch`` at a time, from one read (the connection's snapshot)."""
    names = ", ".join(f'"{column}"' for column in columns)
    cursor = conn.execute(f'SELECT {names} FROM "{table}"')
    while rows := cursor.fetchmany(batch):
        yield rows


def event_month_span(conn: sqlite3.Connection) -> tuple[str, str] | None:
    """The first and last event time (ISO text) in the SQLite database, None without events."""
    row = conn.execute("SELECT min(ts), max(ts) FROM events").fetchone()
    return (row[0], row[1]) if row and row[0] else None


def make_event_partitions(conn: psycopg.Connection[Any], first_ts: str, last_ts: str) -> int:
    """The month partitions covering [first_ts, last_ts] (the schema's own function makes them)."""
    first_year, first_month = int(first_ts[:4]), int(first_ts[5:7])
    months = (int(last_ts[:4]) - first_year) * 12 + int(last_ts[5:7]) - first_month + 1
    row = conn.execute("SELECT shadowmap_event_partitions(make_date(%s, %s, 1), %s)",
                       (first_year, first_month, months)).fetchone()
    return int(row[0]) if row else 0


def _as_text(value: Any) -> Any:
    # SQLite keeps what it was given: JSON written as bytes (orjson) sits in a TEXT column as
    # a BLOB; PostgreSQL's text column wants the text, not bytea's escaped form of it
    return value.decode("utf-8") if isinstance(value, bytes) else value


def copy_rows(conn: psycopg.Connection[Any], table: str, columns: dict[str, str], batches: Iterator[list[tuple[Any, ...]]],
              progress: Callable[[int], None]) -> int:
    """COPY the rows into ``table`` (``columns``: name -> the target's type). Text format:
    PostgreSQL reads each value as its column's type, so SQLite's 0/1 and numbers held as
    text land in whatever the column is. Returns how many rows."""
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(sql.Identifier(column) for column in columns))
    textual = [index for index, type_name in enumerate(columns.values()) if type_name in TEXT_TYPES]
    copied = 0
    with conn.cursor() as cursor, cursor.copy(statement) as copy:
        for rows in batches:
            for row in rows:
                if textual:
                    values = list(row)
                    for index in textual:
                        values[index] = _as_text(values[index])
                    row = tuple(values)
                copy.write_row(row)
            copied += len(rows)
            progress(copied)
    return copied


def fill_derived(conn: psycopg.Connection[Any], table: str) -> None:
    conn.execute(DERIVED[table])


def reset_identities(conn: psycopg.Connection[Any]) -> None:
    """Move each identity sequence past the highest id copied into its column."""
    columns = conn.execute("SELECT table_name, column_name FROM information_schema.columns "
                           "WHERE table_schema = 'public' AND is_identity = 'YES'").fetchall()
    for table, column in columns:
        conn.execute(sql.SQL("SELECT setval(pg_get_serial_sequence({}, {}), "
                             "COALESCE((SELECT max({}) FROM {}), 0) + 1, false)").format(
            sql.Literal(sql.Identifier(table).as_string(conn)), sql.Literal(column),
            sql.Identifier(column), sql.Identifier(table)))
