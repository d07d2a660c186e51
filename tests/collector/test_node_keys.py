"""The keys every collector node on one database shares (docs/scale.md, "Files every node
shares"). A node whose record signing key is not the one the database's record is signed
with refuses to start. A `shadowmap collector` command given a PostgreSQL --db never makes
up a secrets key. Real `serve` processes and commands, run in folders of their own (the
files a node makes by default go to `var/` under its working folder)."""
from __future__ import annotations

import asyncio
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from support.db_rows import db_option, rows

from shadowmap.collector.config import CollectorConfig
from shadowmap.collector.record import key_pin, keys

KEY_ENV = ("SHADOWMAP_SECRETS_KEY_FILE", "SHADOWMAP_RECORD_KEY", "SHADOWMAP_RECORD_SIGN_COMMAND",
           "SHADOWMAP_RECORD_PUBLIC_KEY", "SHADOWMAP_ADMIN_PASSWORD")


def shadowmap(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "shadowmap.cli", *args], cwd=cwd, env=child_env(**env),
                          capture_output=True, text=True, timeout=120)


def child_env(**env: str) -> dict[str, str]:
    # only the keys the test gives: none leaks in from the environment running the tests
    kept = {name: value for name, value in os.environ.items() if name not in KEY_ENV}
    return {**kept, "PYTHONUNBUFFERED": "1", **env}


def serve_args(db: str, folder: Path) -> list[str]:
    return [sys.executable, "-m", "shadowmap.cli", "collector", "serve", "--db", db, "--host", "127.0.0.1",
            "--port", "0", "--enroll-secret-file", str(folder / "enroll_secret")]


def starts(db: str, folder: Path, **env: str) -> None:
    """`serve` runs in ``folder`` until it listens, then is stopped; fails with its stderr if it exits."""
    folder.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(serve_args(db, folder), cwd=folder, env=child_env(**env), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True).start()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if lines.get(timeout=0.5).startswith("listening on"):
                proc.send_signal(signal.SIGTERM)
                assert proc.wait(timeout=30) == 0, proc.stderr.read()
                return
        except queue.Empty:
            continue
    proc.kill()
    raise AssertionError(f"serve did not start: {proc.stderr.read()}")


def refused(db: str, folder: Path, **env: str) -> str:
    """`serve` in ``folder`` exits without listening; its stderr."""
    folder.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(serve_args(db, folder), cwd=folder, env=child_env(**env), capture_output=True, text=True,
                          timeout=120)
    assert done.returncode != 0 and "listening on" not in done.stdout, done.stdout
    return done.stderr


def pinned(config: CollectorConfig) -> str | None:
    found = rows(config.db_path, "SELECT value FROM org_settings WHERE name = ?", (key_pin.SETTING,))
    return found[0]["value"] if found else None


def write(config: CollectorConfig, fn) -> None:
    """Run a writer fn on the test's database (the store the collector uses)."""
    from shadowmap.collector.store import open_store

    async def run() -> None:
        store = open_store(config.database, read_workers=1)
        await store.open()
        try:
            await store.write(fn)
        finally:
            await store.close()

    asyncio.run(run())


@pytest.fixture
def node_files(tmp_path: Path) -> dict[str, Path]:
    """The files the nodes share, and two record keys: the nodes' (a) and another (b)."""
    files = {"secrets": tmp_path / "secrets.key", "a": tmp_path / "record_a.pem", "b": tmp_path / "record_b.pem"}
    keys.load_or_create_key(files["a"])
    keys.load_or_create_key(files["b"])
    return files


@pytest.mark.both_backends
def test_a_node_whose_record_key_is_not_the_databases_refuses_to_start(config, tmp_path, node_files):
    db, secrets = db_option(config.db_path), str(node_files["secrets"])
    starts(db, tmp_path / "node1", SHADOWMAP_SECRETS_KEY_FILE=secrets, SHADOWMAP_RECORD_KEY=str(node_files["a"]))
    key_a = keys.fingerprint(keys.load_or_create_key(node_files["a"]))

    stderr = refused(db, tmp_path / "node2", SHADOWMAP_SECRETS_KEY_FILE=secrets,
                     SHADOWMAP_RECORD_KEY=str(node_files["b"]))
    assert "every collector node needs the same record signing key" in stderr, stderr
    assert str(node_files["b"]) in stderr and key_a in stderr and "SHADOWMAP_RECORD_KEY" in stderr
    assert pinned(config) == key_a  # the first node's key signs this database's record
    starts(db, tmp_path / "node2", SHADOWMAP_SECRETS_KEY_FILE=secrets, SHADOWMAP_RECORD_KEY=str(node_files["a"]))


@pytest.mark.both_backends
def test_a_database_from_before_the_pin_is_held_to_the_key_of_its_newest_checkpoint(config, tmp_path, node_files):
    from shadowmap.collector.record import retention
    from shadowmap.collector.store.sqlite import org

    db, secrets = db_option(config.db_path), str(node_files["secrets"])
    starts(db, tmp_path / "node1", SHADOWMAP_SECRETS_KEY_FILE=secrets, SHADOWMAP_RECORD_KEY=str(node_files["a"]))
    key_a = keys.load_or_create_key(node_files["a"])
    # as a database from before the pin: no fingerprint stored, a retention checkpoint signed by a
    write(config, lambda db: (org.delete_setting(db, key_pin.SETTING), retention.purge(db, key_a)))
    assert pinned(config) is None

    stderr = refused(db, tmp_path / "node2", SHADOWMAP_SECRETS_KEY_FILE=secrets,
                     SHADOWMAP_RECORD_KEY=str(node_files["b"]))
    assert "newest retention checkpoint" in stderr and "same record signing key" in stderr, stderr
    assert pinned(config) is None
    starts(db, tmp_path / "node2", SHADOWMAP_SECRETS_KEY_FILE=secrets, SHADOWMAP_RECORD_KEY=str(node_files["a"]))
    assert pinned(config) == keys.fingerprint(key_a)


@pytest.mark.both_backends
def test_record_commands_that_sign_refuse_another_key(config, tmp_path, node_files):
    db, secrets = db_option(config.db_path), str(node_files["secrets"])
    starts(db, tmp_path / "node1", SHADOWMAP_SECRETS_KEY_FILE=secrets, SHADOWMAP_RECORD_KEY=str(node_files["a"]))
    key_a = keys.fingerprint(keys.load_or_create_key(node_files["a"]))
    signing = {"export": ["--from", "2020-01-01", "--to", "2100-01-01", "--out", str(tmp_path / "bundle.zip")],
               "anchor": [], "purge": []}
    for command, extra in signing.items():
        other = shadowmap("collector", "record", command, "--db", db, "--key", str(node_files["b"]), *extra,
                          cwd=tmp_path, SHADOWMAP_SECRETS_KEY_FILE=secrets)
        assert other.returncode != 0 and key_a in other.stderr and "rotate-key" in other.stderr, other.stderr
    assert not (tmp_path / "bundle.zip").exists()
    signed = shadowmap("collector", "record", "export", "--db", db, "--key", str(node_files["a"]),
                       *signing["export"], cwd=tmp_path, SHADOWMAP_SECRETS_KEY_FILE=secrets)
    assert signed.returncode == 0 and (tmp_path / "bundle.zip").exists(), signed.stderr


@pytest.mark.both_backends
def test_rotate_key_makes_the_new_key_the_one_nodes_must_have_and_records_it(config, tmp_path, node_files):
    db, secrets = db_option(config.db_path), str(node_files["secrets"])
    starts(db, tmp_path / "node1", SHADOWMAP_SECRETS_KEY_FILE=secrets, SHADOWMAP_RECORD_KEY=str(node_files["a"]))
    key_a = keys.fingerprint(keys.load_or_create_key(node_files["a"]))
    key_b = keys.fingerprint(keys.load_or_create_key(node_files["b"]))

    rotated = shadowmap("collector", "record", "rotate-key", "--db", db, "--key", str(node_files["b"]),
                        "--actor", "ops", cwd=tmp_path, SHADOWMAP_SECRETS_KEY_FILE=secrets)
    assert rotated.returncode == 0, rotated.stderr
    assert f"{key_a} -> {key_b}" in rotated.stdout
    assert pinned(config) == key_b
    [entry] = rows(config.db_path, "SELECT actor, detail FROM record_entries_single WHERE subject = 'record-key'")
    assert entry["actor"] == "ops" and key_a in entry["detail"] and key_b in entry["detail"]

    starts(db, tmp_path / "node1", SHADOWMAP_SECRETS_KEY_FILE=secrets, SHADOWMAP_RECORD_KEY=str(node_files["b"]))
    assert "same record signing key" in refused(db, tmp_path / "node2", SHADOWMAP_SECRETS_KEY_FILE=secrets,
                                                SHADOWMAP_RECORD_KEY=str(node_files["a"]))
    again = shadowmap("collector", "record", "rotate-key", "--db", db, "--key", str(node_files["b"]),
                      cwd=tmp_path, SHADOWMAP_SECRETS_KEY_FILE=secrets)
    assert again.returncode == 0 and "nothing changed" in again.stdout, again.stderr
    checked = shadowmap("collector", "record", "check", "--db", db, cwd=tmp_path, SHADOWMAP_SECRETS_KEY_FILE=secrets)
    assert checked.returncode == 0 and checked.stdout.startswith("OK"), checked.stdout + checked.stderr


def test_commands_on_postgresql_never_make_up_a_secrets_key(pg_url, tmp_path):
    first = tmp_path / "node1"
    starts(pg_url, first)  # the first node of a new database makes var/secrets.key (docs/scale.md)
    node_key = first / "var" / "secrets.key"
    assert node_key.exists()

    admin = tmp_path / "admin"
    admin.mkdir()
    for command in (["org-key", "show"], ["record", "sinks"], ["policy", "show"]):
        done = shadowmap("collector", *command, "--db", pg_url, cwd=admin)
        assert done.returncode != 0, (command, done.stdout)
        assert "no secrets key at" in done.stderr and "SHADOWMAP_SECRETS_KEY_FILE" in done.stderr, done.stderr
    assert not (admin / "var").exists()  # nothing made up to seal settings the nodes cannot open

    shown = shadowmap("collector", "org-key", "show", "--db", pg_url, cwd=admin, SHADOWMAP_SECRETS_KEY_FILE=str(node_key))
    assert shown.returncode == 0 and shown.stdout.startswith("current "), shown.stderr


def test_a_second_node_on_postgresql_without_the_secrets_key_refuses_and_makes_none(pg_url, tmp_path):
    first = tmp_path / "node1"
    starts(pg_url, first)
    stderr = refused(pg_url, tmp_path / "node2", SHADOWMAP_RECORD_KEY=str(first / "var" / "record_signing_key.pem"))
    assert "no secrets key at" in stderr and "SHADOWMAP_SECRETS_KEY_FILE" in stderr, stderr
    assert not (tmp_path / "node2" / "var" / "secrets.key").exists()
    starts(pg_url, tmp_path / "node2", SHADOWMAP_SECRETS_KEY_FILE=str(first / "var" / "secrets.key"),
           SHADOWMAP_RECORD_KEY=str(first / "var" / "record_signing_key.pem"))


def test_a_second_node_on_postgresql_without_the_record_key_refuses_and_makes_none(pg_url, tmp_path):
    first = tmp_path / "node1"
    starts(pg_url, first)  # the first node of a new database makes its record key too
    record_key = first / "var" / "record_signing_key.pem"
    pinned_key = keys.fingerprint(keys.load_or_create_key(record_key))
    stderr = refused(pg_url, tmp_path / "node2", SHADOWMAP_SECRETS_KEY_FILE=str(first / "var" / "secrets.key"))
    assert "no record signing key at" in stderr and pinned_key in stderr and "SHADOWMAP_RECORD_KEY" in stderr, stderr
    assert not (tmp_path / "node2" / "var" / "record_signing_key.pem").exists()


def test_commands_on_sqlite_still_make_the_key_next_to_the_database(tmp_path):
    (tmp_path / "site").mkdir()
    shown = shadowmap("collector", "org-key", "show", "--db", str(tmp_path / "site" / "collector.db"), cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert (tmp_path / "site" / "secrets.key").exists() and not (tmp_path / "var").exists()
