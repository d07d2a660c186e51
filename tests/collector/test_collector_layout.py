"""The collector's layout holds: SQL only behind the store, migrations one file each in
number order and importing nothing of today's collector, the record's verifier light."""
from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

from shadowmap.collector.store.migrations import MIGRATIONS

COLLECTOR = Path(__file__).resolve().parents[2] / "collector"
MIGRATIONS_DIR = COLLECTOR / "store" / "migrations"
SQL_CALLS = {"execute", "executemany", "executescript", "query"}


def _sql_calls(path: Path) -> list[str]:
    """Calls like db.execute(...), db.query(...), conn.executemany(...), db.conn.execute(...)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in SQL_CALLS:
            owner = node.func.value
            name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", "")
            if name in ("db", "conn"):
                found.append(f"{path.relative_to(COLLECTOR)}:{node.lineno}")
    return found


def test_sql_lives_only_behind_the_store():
    outside = [call for path in sorted(COLLECTOR.rglob("*.py")) if "store" not in path.relative_to(COLLECTOR).parts[:1]
               for call in _sql_calls(path)]
    assert outside == []


def test_migrations_are_one_file_each_numbered_in_order():
    files = sorted(path.stem for path in MIGRATIONS_DIR.glob("[0-9][0-9][0-9][0-9]_*.py"))
    assert [int(stem[:4]) for stem in files] == [migration.number for migration in MIGRATIONS]
    assert len({migration.number for migration in MIGRATIONS}) == len(MIGRATIONS)
    for stem in files:
        module = importlib.import_module(f"shadowmap.collector.store.migrations.{stem}")
        assert module.NAME.strip(), stem
        assert hasattr(module, "SQL") or hasattr(module, "up"), stem


def test_old_migrations_never_import_todays_code():
    for path in MIGRATIONS_DIR.glob("[0-9][0-9][0-9][0-9]_*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
                assert not any(name.startswith("shadowmap") for name in names), f"{path.name} imports {names}"


def test_a_database_part_way_migrated_goes_on_with_the_next_file(tmp_path):
    import sqlite_utils

    from shadowmap.collector.store.migrations import apply_migrations

    db = sqlite_utils.Database(tmp_path / "c.db")
    first_three = MIGRATIONS[:3]
    assert apply_migrations(db, first_three) == [m.number for m in first_three]
    assert apply_migrations(db) == [m.number for m in MIGRATIONS[3:]]
    assert apply_migrations(db) == []


def test_the_record_verifier_stays_light():
    probe = ("import sys, shadowmap.collector.record.chain, shadowmap.collector.record.bundle\n"
             "heavy = sorted(m for m in ('aiohttp', 'sqlite_utils', 'shadowmap.collector.store.sqlite.engine')"
             " if m in sys.modules)\n"
             "assert not heavy, heavy\n")
    subprocess.run([sys.executable, "-c", probe], check=True)
