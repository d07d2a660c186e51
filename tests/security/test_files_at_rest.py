"""Issue 16 items 1 and 15: every file the collector writes is 0600, in 0700 folders it
creates, made with that mode (never world-readable, not even for a moment)."""
from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from shadowmap import devrun
from shadowmap.collector.app import create_app
from shadowmap.collector.config import CollectorConfig
from shadowmap.collector.report import schedule as report_schedule
from shadowmap.collector.state import STORE
from shadowmap.collector.store import Store

ADMIN_PASSWORD = "correct horse battery staple"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_database_wal_shm_secrets_are_0600_in_a_0700_folder(aiohttp_client, tmp_path, make):
    var = tmp_path / "deep" / "var"
    config = CollectorConfig(db_path=var / "collector.db", admin_password=ADMIN_PASSWORD)
    old = os.umask(0o022)  # a default umask: the collector must not rely on the caller's
    try:
        client = await make.start_client(aiohttp_client, config)
        await make.enroll(client, config)  # writes: the WAL and shared memory exist
        for name in ("collector.db", "collector.db-wal", "collector.db-shm", "enroll_secret"):
            assert mode(var / name) == 0o600, name
        assert mode(var) == 0o700
        assert mode(tmp_path / "deep") == 0o700
        keys = [path for path in var.iterdir() if path.suffix == ".pem"]
        assert keys and all(mode(path) == 0o600 for path in keys)
    finally:
        os.umask(old)


async def test_scheduled_reports_are_0600_in_a_0700_folder(aiohttp_client, tmp_path, make):
    config = CollectorConfig(db_path=tmp_path / "collector.db", admin_password=ADMIN_PASSWORD)
    old = os.umask(0o022)
    try:
        app = create_app(config)
        client = await make.start_client(aiohttp_client, config, app)
        assert client.app[STORE] is not None
        written = await report_schedule.generate_due(app)
    finally:
        os.umask(old)
    assert written
    for path in written:
        assert mode(path) == 0o600, path
        assert mode(path.parent) == 0o700


async def test_export_bundle_and_cli_outputs_are_private(tmp_path):
    """The CLI sets a 0o077 umask before any command: an export bundle (and anything else a
    command writes) is 0600 even when the caller's umask is permissive."""
    db = tmp_path / "collector.db"
    store = Store(db, read_workers=1)
    await store.open()
    await store.close()
    env = {**os.environ, "SHADOWMAP_ADMIN_PASSWORD": ADMIN_PASSWORD}
    cli = [sys.executable, "-m", "shadowmap.cli", "collector"]
    bundle = tmp_path / "out" / "bundle.zip"
    done = subprocess.run([*cli, "record", "export", "--db", str(db), "--from", "2020-01-01", "--to", "2100-01-01",
                           "--out", str(bundle)], env=env,
                          capture_output=True, text=True, preexec_fn=lambda: os.umask(0o022), timeout=120)
    assert done.returncode == 0, done.stderr
    assert mode(bundle) == 0o600
    assert mode(bundle.parent) == 0o700


def test_make_run_admin_password_is_created_private_and_never_through_a_link(tmp_path):
    var = tmp_path / "var"
    var.mkdir()
    old = os.umask(0)
    try:
        password = devrun.admin_password(var)
    finally:
        os.umask(old)
    assert len(password) >= 16 and mode(var / "admin_password") == 0o600
    # a planted link must not receive the password
    other = tmp_path / "other"
    other.mkdir()
    target = tmp_path / "stolen"
    (other / "admin_password").symlink_to(target)
    with pytest.raises(SystemExit):  # refused, not written through
        devrun.admin_password(other)
    assert not target.exists()
