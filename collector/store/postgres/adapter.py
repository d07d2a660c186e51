"""What the query functions ask of a database, on a PostgreSQL connection.

The query functions take a `sqlite_utils.Database` and use a small part of it: `execute`,
`query` (rows as dicts), `executemany`, `atomic`, and a few things of its sqlite3
connection (`db.conn.execute`, `total_changes`, `in_transaction`, a cursor's `lastrowid`).
`PgDatabase` offers that part on one psycopg connection, with each statement rewritten by
shadowmap.collector.store.postgres.dialect, so those functions run unchanged here; `db.conn`
is the adapter itself. `backend` tells a function which database it runs on, for the few
places that must differ (is_postgres)."""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import orjson
import psycopg
from psycopg.abc import Buffer
from psycopg.adapt import Loader
from psycopg.pq import TransactionStatus
from psycopg.rows import dict_row

from shadowmap.collector.store.backend import POSTGRESQL
from shadowmap.collector.store.postgres.dialect import Translated, translate
from shadowmap.collector.store.sqlite.sql_rows import from_rows

Params = Sequence[Any] | Mapping[str, Any] | None

class PgCursor:
    """The part of a sqlite3 cursor the query functions read."""

    def __init__(self, cursor: psycopg.Cursor[Any]) -> None:
        self._cursor = cursor
        self.rowcount = cursor.rowcount

    def fetchone(self) -> Any:
        return self._cursor.fetchone() if self._cursor.description else None

    def fetchall(self) -> list[Any]:
        return self._cursor.fetchall() if self._cursor.description else []

    def __iter__(self) -> Iterator[Any]:
        return iter(self._cursor) if self._cursor.description else iter(())

    @property
    def lastrowid(self) -> int | None:
        """The id the last INSERT of this session drew from a sequence (an identity column)."""
        row = self._cursor.connection.execute("SELECT lastval()").fetchone()
        return int(row[0]) if row else None


class PgDatabase:
    backend = POSTGRESQL

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.raw = conn
        self.total_changes = 0

    @property
    def conn(self) -> PgDatabase:
        return self  # `db.conn.execute(...)` as on sqlite_utils

    @property
    def in_transaction(self) -> bool:
        return self.raw.info.transaction_status != TransactionStatus.IDLE

    def commit(self) -> None:
        self.raw.commit()

    def execute(self, sql: str, params: Params = None) -> PgCursor:
        statement, bound = _bind(sql, params)
        cursor = self.raw.execute(statement, bound)
        if cursor.rowcount > 0 and cursor.description is None:
            self.total_changes += cursor.rowcount
        return PgCursor(cursor)

    def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        translated = translate(sql)
        bound_rows = [_params(translated, row) for row in rows]
        if bound_rows:
            with self.raw.cursor() as cursor:
                cursor.executemany(translated.sql, bound_rows)

    def query(self, sql: str, params: Params = None) -> Iterator[dict[str, Any]]:
        statement, bound = _bind(sql, params)
        with self.raw.cursor(row_factory=dict_row) as cursor:
            cursor.execute(statement, bound)
            rows = cursor.fetchall() if cursor.description else []
        yield from rows

    def execute_rows(self, sql: str, rows: Sequence[Sequence[Any]]) -> int:
        """shadowmap.collector.store.sqlite.sql_rows.execute_rows here: the rows travel as one
        JSON list as there, each column cast to the type of its Python values (PostgreSQL
        does not turn text into a number by itself)."""
        if not rows:
            return 0
        return max(self._execute_rows(sql, rows).rowcount, 0)

    def query_rows(self, sql: str, rows: Sequence[Sequence[Any]]) -> list[tuple[Any, ...]]:
        """sql_rows.query_rows here: execute_rows for a template that returns rows."""
        if not rows:
            return []
        return [tuple(row) for row in self._execute_rows(sql, rows)]

    def _execute_rows(self, sql: str, rows: Sequence[Sequence[Any]]) -> PgCursor:
        width = len(rows[0])
        template = from_rows(width)
        typed = _typed_rows(width, rows)
        head, _, tail = sql.partition(template)
        if not tail.lstrip().upper().startswith("AS "):
            typed += " AS rows_"  # PostgreSQL 15 wants every subquery in FROM named
        return self.execute(head + typed + tail,
                            (orjson.dumps([[int(v) if type(v) is bool else v for v in row] for row in rows]),))

    @contextmanager
    def atomic(self) -> Iterator[None]:
        """A transaction, or a savepoint inside one."""
        with self.raw.transaction():
            yield


class NumericLoader(Loader):
    """numeric as SQLite gives it: sums of integers (numeric on PostgreSQL once they are
    bigint) come back as int, others as float, never Decimal."""

    def load(self, data: Buffer) -> int | float:
        text = bytes(data).decode("ascii")
        return int(text) if text.lstrip("-").isdigit() else float(text)


def configure(conn: psycopg.Connection[Any]) -> None:
    """Each new pooled connection: numbers come back as the query functions expect."""
    conn.adapters.register_loader("numeric", NumericLoader)


def _typed_rows(width: int, rows: Sequence[Sequence[Any]]) -> str:
    columns = []
    for index in range(width):
        kind = next((type(row[index]) for row in rows if row[index] is not None), str)
        cast = {int: "bigint", bool: "bigint", float: "double precision"}.get(kind)
        value = f"value->>{index}"
        columns.append(f"CAST({value} AS {cast}) AS c{index}" if cast else f"{value} AS c{index}")
    return f"(SELECT {', '.join(columns)} FROM json_array_elements(CAST(? AS json)))"


def _bind(sql: str, params: Params) -> tuple[str, Any]:
    translated = translate(sql)
    if not params and translated.order is None and not translated.named and "%s" not in translated.sql:
        return translated.sql.replace("%%", "%"), None  # without parameters psycopg reads no %
    return translated.sql, _params(translated, params if params is not None else ())


def _params(translated: Translated, params: Params) -> Any:
    if params is None:
        return None
    if isinstance(params, Mapping):
        return {key: _value(value) for key, value in params.items()}
    values = [_value(value) for value in params]
    if translated.order is not None:
        return [values[index] for index in translated.order]
    return values


def _value(value: Any) -> Any:
    """sqlite3 binds bytes as a blob the queries read as text, and bool as 1/0."""
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8")
    if type(value) is bool:
        return int(value)
    return value
