"""`shadowmap collector org-key show|rotate`: the org key agents key their hashes with.

Rotating: enrollments from then on receive the new key; devices enrolled before keep hashing
with the old one until they enroll again. Hashes made with different keys do not match, so
correlation (the same secret pasted on two devices, hash sightings) holds only within one
key's period: rotate after a key has leaked, not on a timer. The old keys are kept sealed
(`retired`), so a hash made before can still be checked against a candidate value."""
from __future__ import annotations

import asyncio
from pathlib import Path

import click

from shadowmap.collector import secret_box
from shadowmap.collector.cli_options import config_kwargs, db_option
from shadowmap.collector.config import CollectorConfig
from shadowmap.collector.store.url import PostgresUrl


def load_secrets_key(db, secrets_key: Path | None = None) -> None:
    """For a command about to open the database: load the secrets key the collector of this
    database uses, so sealed settings (the org key, SCM secrets, sinks) open. On SQLite a
    missing key is made next to the database file, as the collector makes it. On PostgreSQL
    a command never makes one: a key made up in the working folder would seal settings that
    the collector nodes cannot open (only `serve`, on a brand new database, makes it)."""
    path = CollectorConfig(**config_kwargs(db), secrets_key_file=secrets_key).secrets_key_path
    if isinstance(db, PostgresUrl) and not path.exists():
        raise click.ClickException(f"no secrets key at {path}: --db is a PostgreSQL database, whose settings are "
                                   "sealed with the collector nodes' shared secrets key; pass that file as "
                                   f"{secret_box.KEY_FILE_ENV} (or --secrets-key, where the command has it)")
    secret_box.install_from(path)


@click.group("org-key")
def org_key() -> None:
    """The org key (sealed in the database with the secrets key): show its id, rotate it."""


def _run(db, secrets_key: Path | None, fn, write: bool):
    """Run a reader or writer fn on the database (SQLite path or PostgreSQL URL) with the
    secrets key loaded; the org settings are created first if this database is new."""
    from shadowmap.collector.store import open_store
    from shadowmap.collector.store.sqlite import org

    config = CollectorConfig(**config_kwargs(db), secrets_key_file=secrets_key)
    load_secrets_key(db, secrets_key)

    async def run():
        store = open_store(config.database, read_workers=1)
        await store.open()
        try:
            await store.write(lambda db: org.ensure_org_settings(db, config.default_policy))
            return await (store.write(fn) if write else store.read(fn))
        finally:
            await store.close()

    return asyncio.run(run())


secrets_key_option = click.option(
    "--secrets-key", type=click.Path(dir_okay=False, path_type=Path), default=None,
    help="The secrets key file (default: $SHADOWMAP_SECRETS_KEY_FILE, else secrets.key next to the database).")


@org_key.command("show")
@db_option
@secrets_key_option
def show(db_path, secrets_key: Path | None) -> None:
    """Print the id of the current org key and of the retired ones (never the keys)."""
    from shadowmap.collector.store.sqlite import org

    def read(db):
        return org.key_id(org.org_key_b64(db)), [(org.key_id(k["key"]), k["retired_at"]) for k in org.retired_org_keys(db)]

    current, retired = _run(db_path, secrets_key, read, write=False)
    click.echo(f"current {current}")
    for key, when in retired:
        click.echo(f"retired {key} at {when}")


@org_key.command("rotate")
@db_option
@secrets_key_option
def rotate(db_path, secrets_key: Path | None) -> None:
    """Make a new org key for enrollments from now on; the old one is kept, retired."""
    from shadowmap.collector.store.sqlite import org

    ids = _run(db_path, secrets_key, org.rotate_org_key, write=True)
    click.echo(f"org key rotated: {ids['retired']} retired, {ids['current']} current; devices get the new key "
               "when they enroll again (hashes across the two keys do not correlate)")
