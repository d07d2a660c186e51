"""`shadowmap collector ...`: a thin shell over the library. Every subcommand that opens the
database takes the same `--db` option (shadowmap.collector.cli_options); `record` and
`report` are subgroups of this one."""
from __future__ import annotations

import asyncio
import logging
import os
import signal
import sqlite3
from pathlib import Path

import click
from aiohttp import web

from shadowmap.collector.accounts_cli import account, token_list, token_revoke
from shadowmap.collector.cli_options import config_kwargs, db_option
from shadowmap.collector.config import CollectorConfig, ConfigError
from shadowmap.collector.deploys_cli import deploys
from shadowmap.collector.devices_cli import devices
from shadowmap.collector.move_cli import move
from shadowmap.collector.oidc_cli import oidc_options
from shadowmap.collector.oidc_settings import OidcSettings
from shadowmap.collector.org_detectors_cli import org_detectors
from shadowmap.collector.org_key_cli import org_key
from shadowmap.collector.private_files import PRIVATE_UMASK
from shadowmap.collector.record.cli import record
from shadowmap.collector.report.cli import report
from shadowmap.collector.transport import config_fields, serve_options, server_context

log = logging.getLogger("collector")


@click.group()
def collector() -> None:
    """Run and administer the collector service: serve it, API tokens, the policy, the
    record and reports. Subcommands that open the database take --db (default
    var/collector.db)."""
    os.umask(PRIVATE_UMASK)  # a belt: whatever any command writes is for the collector's user only


collector.add_command(record)
collector.add_command(org_key)
collector.add_command(report)
collector.add_command(move)
collector.add_command(devices)
collector.add_command(deploys)
collector.add_command(org_detectors)


@collector.command()
@db_option
@click.option("--host", default=CollectorConfig.host, show_default=True, help="Address to listen on.")
@click.option("--port", default=CollectorConfig.port, show_default=True, type=click.IntRange(0, 65535),
              help="Port to listen on; 0 picks a free one.")
@click.option("--enroll-secret-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Enroll secret file (created 0600 if missing). Default: enroll_secret next to the db.")
@click.option("--extension-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="What `shadowmap bridge publish` wrote, served under /extension/ for self-hosted "
                   "force-install. Default: the `extension` folder next to the db.")
@click.option("--enroll-per-second", type=click.FloatRange(min=0.01), default=CollectorConfig.enroll_per_second,
              show_default=True, help="Enrollments allowed per client address per second, after the burst "
                                      "(a rollout behind one NAT comes from one address).")
@click.option("--enroll-burst", type=click.IntRange(min=1), default=CollectorConfig.enroll_burst, show_default=True,
              help="Enrollments one client address may make at once.")
@click.option("--device-dark-after-days", type=click.FloatRange(min=0, min_open=True),
              default=CollectorConfig.device_dark_after_days, show_default=True,
              help="A device silent for longer than this raises \"Protection disabled\" (fractions allowed: 0.5 is 12 hours).")
@click.option("--lane-ack-wait", type=click.FloatRange(min=0), default=CollectorConfig.lane_ack_wait_seconds,
              show_default=True, help="PostgreSQL: seconds an upload waits for its alerts and record entries "
                                      "before it is acked with them queued (they follow within a pass; "
                                      "docs/scale.md, \"The ingest lane\").")
@serve_options
@oidc_options
def serve(db_path, host: str, port: int, enroll_secret_file: Path | None, extension_dir: Path | None,
          enroll_per_second: float, enroll_burst: int, device_dark_after_days: float, lane_ack_wait: float,
          tls_cert: Path | None, tls_key: Path | None, trusted_proxies: tuple[str, ...], oidc: OidcSettings | None) -> None:
    """Serve the collector API and dashboard until interrupted."""
    from shadowmap.collector import malloc_tuning
    from shadowmap.collector.metrics_logging import configure_logging

    configure_logging(logging.INFO)  # one JSON object per line; SHADOWMAP_LOG_FORMAT=text for humans
    malloc_tuning.tune()  # ingest's large buffers reused, not mapped afresh each time
    config = CollectorConfig(**config_kwargs(db_path), host=host, port=port, enroll_secret_file=enroll_secret_file,
                             extension_dir=extension_dir, **config_fields(tls_cert, tls_key, trusted_proxies),
                             oidc=oidc, enroll_per_second=enroll_per_second, enroll_burst=enroll_burst,
                             device_dark_after_days=device_dark_after_days, lane_ack_wait_seconds=lane_ack_wait)
    unusable: tuple[type[Exception], ...] = (ConfigError, OSError, *_database_errors(db_path))  # unusable path, port in use, bad db
    try:
        asyncio.run(_serve(config))
    except unusable as exc:
        raise click.ClickException(str(exc)) from None


def _database_errors(db) -> tuple[type[Exception], ...]:
    """What opening the database raises when it cannot be used (the driver loaded only for PostgreSQL)."""
    if isinstance(db, Path):
        return (sqlite3.Error,)
    import psycopg
    import psycopg_pool
    return (psycopg.Error, psycopg_pool.PoolTimeout)


async def _serve(config: CollectorConfig) -> None:
    from shadowmap.collector.app import create_app, make_runner

    app = create_app(config)
    runner = make_runner(app, access_log=None)
    await runner.setup()
    try:
        # handlers first: a supervisor may send SIGTERM as soon as it reads "listening on"
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        tls = server_context(config.tls_cert, config.tls_key)
        site = web.TCPSite(runner, config.host, config.port, ssl_context=tls)
        await site.start()
        actual_port = runner.addresses[0][1]
        display_host = f"[{config.host}]" if ":" in config.host else config.host
        log.info("enroll secret file: %s", config.enroll_secret_path.resolve())
        log.info("database: %s", config.database.display())
        print(f"listening on {'https' if tls else 'http'}://{display_host}:{actual_port}", flush=True)
        await stop.wait()
        log.info("shutting down")
    finally:
        await runner.cleanup()


@collector.command()
@db_option
def migrate(db_path) -> None:
    """Apply the schema migrations the database lacks (SQLite or PostgreSQL) and print
    them; `serve` applies them too, so this is for upgrading before starting nodes."""
    from shadowmap.collector.store import open_store

    async def run() -> list[int]:
        store = open_store(CollectorConfig(**config_kwargs(db_path)).database, read_workers=1)
        await store.open()  # applies what is pending (on PostgreSQL under an advisory lock)
        try:
            return store.applied_migrations
        finally:
            await store.close()

    unusable: tuple[type[Exception], ...] = (ConfigError, OSError, *_database_errors(db_path))
    try:
        applied = asyncio.run(run())
    except unusable as exc:
        raise click.ClickException(str(exc)) from None
    shown = CollectorConfig(**config_kwargs(db_path)).database.display()
    click.echo(f"{shown}: applied migrations {', '.join(map(str, applied))}" if applied
               else f"{shown}: up to date, no migration to apply")


@collector.group()
def token() -> None:
    """API tokens for GET /api/v1/alerts."""


@token.command("create")
@db_option
@click.option("--name", required=True, help="What the token is for (shown in audits).")
@click.option("--role", type=click.Choice(["viewer", "analyst", "admin"]), default="viewer", show_default=True)
@click.option("--days", type=click.IntRange(1, 366), default=90, show_default=True, help="How long it works.")
@click.option("--actor", default=None, help="Who creates it, for the record (default: cli:<OS user>).")
def token_create(db_path, name: str, role: str, days: int, actor: str | None) -> None:
    """Create an API token and print it once (only its hash is stored); recorded."""
    from shadowmap.collector.accounts_cli import create_token

    click.echo(create_token(db_path, name, role, days, actor))


token.add_command(token_list)
token.add_command(token_revoke)
collector.add_command(account)


@collector.group()
def policy() -> None:
    """The AI acceptable-use policy the agents pull (schema/policy.v1.json)."""


def _with_store(db_path, fn, write: bool):
    """Run one reader or writer fn on the database (migrated on open), then close it."""
    from shadowmap.collector.org_key_cli import load_secrets_key
    from shadowmap.collector.store import open_store

    load_secrets_key(db_path)  # sealed settings (the org key, sinks) open

    async def run():
        store = open_store(CollectorConfig(**config_kwargs(db_path)).database, read_workers=1)
        await store.open()
        try:
            return await (store.write(fn) if write else store.read(fn))
        finally:
            await store.close()

    return asyncio.run(run())


def _with_org_store(db_path, fn, write: bool):
    """As _with_store, for what needs the org settings a collector creates on its first start."""
    if isinstance(db_path, Path) and not db_path.exists():
        raise click.ClickException(f"{db_path}: no such database (start the collector once to create it)")
    try:
        return _with_store(db_path, fn, write)
    except RuntimeError as exc:  # org settings not initialised
        raise click.ClickException(f"{db_path}: {exc} (start the collector once)") from None


@policy.command("show")
@db_option
def policy_show(db_path) -> None:
    """Print the current policy (JSON) and, on stderr, its ETag."""
    import json

    from shadowmap.collector.store.sqlite import org

    policy_json, etag = _with_org_store(db_path, org.current_policy, write=False)
    click.echo(json.dumps(json.loads(policy_json), indent=2))
    click.echo(f"ETag: {etag}", err=True)


@policy.command("set")
@db_option
@click.argument("policy_file", type=click.File("r", encoding="utf-8"))
@click.option("--actor", default=None, help="Who makes the change, for the record (default: cli:<OS user>).")
def policy_set(db_path, policy_file, actor: str | None) -> None:
    """Validate POLICY_FILE (JSON; - for stdin) and make it the policy agents pull; the
    change is written to the record."""
    import getpass

    from shadowmap.collector.console.policy import PolicyInputError, parse_policy, replace_policy

    try:
        new_policy = parse_policy(policy_file.read())
    except PolicyInputError as exc:
        raise click.ClickException(f"{policy_file.name}: {exc}") from None
    who = actor or f"cli:{getpass.getuser()}"
    etag = _with_org_store(db_path, lambda db: replace_policy(db, new_policy, who), write=True)
    click.echo(f"policy saved, ETag {etag}; agents pick it up at their next refresh")
