"""Issue 16 item 19: every read of data about people is a `read` entry of the record: the
alert list, the JSON alert API, the false positives, the inventory, the register (page,
CSV, API), unknown tools, device and account pages, and the weekly report from the CLI."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from shadowmap.collector.state import STORE


async def read_entries(client) -> list[dict]:
    return await client.app[STORE].read(lambda db: [dict(row) for row in db.query(
        "SELECT subject, actor, detail FROM record_entries_single WHERE kind = 'read' ORDER BY seq")])


@pytest.mark.parametrize("path, subject", [
    ("/alerts", "alerts"), ("/api/v1/alerts", "alerts"), ("/false-positives", "false-positives"),
    ("/inventory", "inventory"), ("/register", "register"), ("/register.csv", "register"),
    ("/api/v1/register", "register"), ("/unknown-tools", "unknown-tools"), ("/admin/devices", "devices"),
    ("/admin", "accounts"),
])
async def test_each_read_is_recorded_with_its_reader(client, console, path, subject):
    await console.sign_in(client, "admin", console.admin_password)
    before = len(await read_entries(client))
    response = await client.get(path)
    assert response.status == 200
    entries = await read_entries(client)
    assert len(entries) == before + 1, entries[before:]
    assert entries[-1]["subject"] == subject and entries[-1]["actor"] == "admin"
    assert path.split("?")[0] in entries[-1]["detail"]


async def test_a_refused_read_is_not_a_read(client):
    assert (await client.get("/api/v1/alerts")).status == 401
    assert await read_entries(client) == []


async def test_the_report_cli_records_its_read(tmp_path):
    from shadowmap.collector.store import Store

    db = tmp_path / "collector.db"
    store = Store(db, read_workers=1)
    await store.open()
    await store.close()
    done = subprocess.run([sys.executable, "-m", "shadowmap.cli", "collector", "report", "weekly", "--db", str(db),
                           "--format", "json", "--actor", "auditor"], env=dict(os.environ), capture_output=True,
                          text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    import sqlite3
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT subject, actor FROM record_entries_single WHERE kind = 'read'").fetchall()
    assert [(subject.startswith("report:"), actor) for subject, actor in rows] == [(True, "auditor")]
