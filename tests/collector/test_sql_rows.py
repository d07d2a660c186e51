"""shadowmap.collector.store.sqlite.sql_rows: many rows in one statement, exactly as executemany would write them."""
from __future__ import annotations

import sqlite3

from shadowmap.collector.store.sqlite.sql_rows import execute_rows, from_rows, insert_sql

ROWS = [("a", 1, 1.5, None), ('zoë "quoted" \\ 李 😀\n', -2**63, -0.25, "x"), ("", 2**63 - 1, 0.0, "")]


def table() -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (k TEXT PRIMARY KEY, n INTEGER, f REAL, s TEXT)")
    return conn


def test_rows_arrive_as_executemany_writes_them():
    by_json, by_many = table(), table()
    assert execute_rows(by_json, insert_sql("INSERT INTO t (k, n, f, s)", 4), ROWS) == len(ROWS)
    by_many.executemany("INSERT INTO t (k, n, f, s) VALUES (?, ?, ?, ?)", ROWS)
    query = "SELECT k, typeof(k), n, typeof(n), f, typeof(f), s, typeof(s) FROM t ORDER BY k"
    assert by_json.execute(query).fetchall() == by_many.execute(query).fetchall()
    assert by_json.execute("SELECT k, n, f, s FROM t ORDER BY k").fetchall() == sorted(ROWS)


def test_upsert_and_update_from_rows():
    conn = table()
    upsert = insert_sql("INSERT INTO t (k, n, f, s)", 4, "ON CONFLICT (k) DO UPDATE SET n = n + excluded.n")
    execute_rows(conn, upsert, [("a", 1, 0.0, None), ("b", 5, 0.0, None)])
    execute_rows(conn, upsert, [("a", 10, 0.0, None), ("a", 100, 0.0, None)])  # the same key twice in one go
    assert conn.execute("SELECT k, n FROM t ORDER BY k").fetchall() == [("a", 111), ("b", 5)]
    changed = execute_rows(conn, f"UPDATE t SET s = r.c1 FROM {from_rows(2)} AS r WHERE t.k = r.c0",
                           [("b", "seen"), ("nobody", "lost")])
    assert changed == 1 and conn.execute("SELECT s FROM t WHERE k = 'b'").fetchone() == ("seen",)


def test_no_rows_runs_nothing():
    conn = table()
    assert execute_rows(conn, "this is not SQL", []) == 0
