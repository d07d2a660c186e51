"""Issue 16 item 1 and "secrets at rest": the org key and the webhook and sink secrets are
sealed in the database with a key kept outside it; a copy of the database (file, WAL,
backup) reveals none of them. Rotating the org key is a command."""
from __future__ import annotations

import base64
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from shadowmap.collector.outbound import queue as outbound
from shadowmap.collector.state import STORE
from shadowmap.collector.store.sqlite.org import set_scm_secret

GITHUB_SECRET = "gh-shared-secret-0123456789abcdef"
SINK_SECRET = "sink-secret-0123456789abcdef"


def database_bytes(db_path: Path) -> bytes:
    """Everything SQLite keeps on disk for this database: the file and its WAL."""
    return b"".join(path.read_bytes() for path in (db_path, Path(f"{db_path}-wal")) if path.exists())


def raw_setting(db_path: Path, name: str) -> str:
    with sqlite3.connect(db_path) as conn:
        return conn.execute("SELECT value FROM org_settings WHERE name = ?", (name,)).fetchone()[0]


async def test_org_key_and_webhook_and_sink_secrets_are_not_in_the_database(client, config, make):
    enrolled = await make.enroll(client, config)
    org_key = enrolled["org_key"]
    await client.app[STORE].write(lambda db: set_scm_secret(db, "github", GITHUB_SECRET))
    await client.app[STORE].write(lambda db: outbound.set_sinks(db, [
        {"name": "siem", "kind": "webhook", "url": "https://siem.example.com/in", "secret": SINK_SECRET}]))
    on_disk = database_bytes(config.db_path)
    for secret in (org_key, base64.b64decode(org_key).hex(), GITHUB_SECRET, SINK_SECRET):
        assert secret.encode() not in on_disk, secret
    assert raw_setting(config.db_path, "org_key").startswith("sealed:v1:")
    # the collector itself still reads them
    assert (await make.enroll(client, config, "host-2"))["org_key"] == org_key
    assert (await client.app[STORE].read(outbound.sinks))[0]["secret"] == SINK_SECRET
    key_file = config.db_path.parent / "secrets.key"
    assert key_file.exists() and (key_file.stat().st_mode & 0o077) == 0


async def test_a_sealed_value_moved_to_another_setting_does_not_open(client, config):
    await client.app[STORE].write(lambda db: set_scm_secret(db, "github", GITHUB_SECRET))
    sealed = raw_setting(config.db_path, "scm_github_secret")
    from shadowmap.collector import secret_box

    try:
        secret_box.unseal("scm_gitlab_token", sealed)
    except secret_box.SecretBoxError:
        pass
    else:
        raise AssertionError("a sealed value opened under another name")


async def test_plaintext_secrets_of_an_older_database_are_sealed_at_start(aiohttp_client, tmp_path, make):
    from shadowmap.collector.config import CollectorConfig
    from shadowmap.collector.store import Store

    db_path = tmp_path / "collector.db"
    store = Store(db_path, read_workers=1)
    await store.open()
    legacy_key = base64.b64encode(b"k" * 32).decode()
    await store.write(lambda db: db.execute("INSERT INTO org_settings (name, value) VALUES ('org_key', ?)", (legacy_key,)))
    await store.write(lambda db: db.execute(
        "INSERT INTO org_settings (name, value) VALUES ('scm_gitlab_token', 'gl-token-0123456789abcdef')"))
    await store.close()
    config = CollectorConfig(db_path=db_path, admin_password="correct horse battery staple")
    client = await make.start_client(aiohttp_client, config)
    assert (await make.enroll(client, config))["org_key"] == legacy_key
    assert raw_setting(db_path, "org_key").startswith("sealed:v1:")
    assert raw_setting(db_path, "scm_gitlab_token").startswith("sealed:v1:")


def test_org_key_rotate_command(tmp_path):
    """`shadowmap collector org-key rotate`: a new org key for enrollments from now on; the
    old one is kept (sealed) for hashes made with it."""
    db = tmp_path / "collector.db"
    env = {**os.environ, "SHADOWMAP_ADMIN_PASSWORD": "correct horse battery staple"}
    cli = [sys.executable, "-m", "shadowmap.cli", "collector"]
    for _ in range(2):
        done = subprocess.run([*cli, "org-key", "rotate", "--db", str(db)], env=env, capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert "rotated" in done.stdout
    shown = subprocess.run([*cli, "org-key", "show", "--db", str(db)], env=env, capture_output=True, text=True,
                           timeout=120)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.count("retired") == 2
    assert raw_setting(db, "org_key").startswith("sealed:v1:")
    assert raw_setting(db, "org_key_retired").startswith("sealed:v1:")


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_secrets_are_sealed_on_postgresql_too(client, config, make):
    org_key = (await make.enroll(client, config))["org_key"]
    await client.app[STORE].write(lambda db: set_scm_secret(db, "github", GITHUB_SECRET))
    assert make.count_rows(config.db_path, "org_settings", "name IN ('org_key', 'scm_github_secret') "
                           "AND value LIKE 'sealed:v1:%'") == 2
    assert make.count_rows(config.db_path, "org_settings", "value = ? OR value = ?", (org_key, GITHUB_SECRET)) == 0


async def test_commands_open_sealed_sinks(tmp_path):
    """A command that announces to the sinks (an export records its read) loads the secrets
    key as the collector does, so sealed sinks open."""
    import json

    from shadowmap.collector.store import Store

    db = tmp_path / "collector.db"
    store = Store(db, read_workers=1)
    await store.open()
    await store.close()
    sinks = tmp_path / "sinks.json"
    sinks.write_text(json.dumps([{"name": "siem", "kind": "webhook", "url": "https://siem.example.com/in",
                                  "topics": ["reads"], "secret": SINK_SECRET}]))
    cli = [sys.executable, "-m", "shadowmap.cli", "collector"]
    for args in (["record", "sinks", "--set", str(sinks)],
                 ["record", "export", "--from", "2020-01-01", "--to", "2100-01-01", "--out", str(tmp_path / "b.zip")],
                 ["report", "weekly", "--format", "json"]):
        done = subprocess.run([*cli, *args, "--db", str(db)], capture_output=True, text=True, timeout=180)
        assert done.returncode == 0, (args, done.stderr[-2000:])
    assert SINK_SECRET.encode() not in database_bytes(db)
