"""`shadowmap collector ...`: a thin shell over the library."""
from __future__ import annotations

import asyncio
import logging
import signal
import sqlite3
from pathlib import Path

import click
from aiohttp import web

from collector.config import CollectorConfig, ConfigError

log = logging.getLogger("collector")


@click.group()
def collector() -> None:
    """Run and administer the collector service."""


@collector.command()
@click.option("--db", "db_path", type=click.Path(dir_okay=False, path_type=Path), default=CollectorConfig.db_path,
              show_default=True, help="SQLite database file.")
@click.option("--host", default=CollectorConfig.host, show_default=True, help="Address to listen on.")
@click.option("--port", default=CollectorConfig.port, show_default=True, type=click.IntRange(0, 65535),
              help="Port to listen on; 0 picks a free one.")
@click.option("--enroll-secret-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Enroll secret file (created 0600 if missing). Default: enroll_secret next to the db.")
def serve(db_path: Path, host: str, port: int, enroll_secret_file: Path | None) -> None:
    """Serve the collector API and dashboard until interrupted."""
    from collector.metrics_logging import configure_logging

    configure_logging(logging.INFO)  # one JSON object per line; SHADOWMAP_LOG_FORMAT=text for humans
    config = CollectorConfig(db_path=db_path, host=host, port=port, enroll_secret_file=enroll_secret_file)
    try:
        asyncio.run(_serve(config))
    except (ConfigError, OSError, sqlite3.Error) as exc:  # unusable path, port in use, bad db file
        raise click.ClickException(str(exc)) from None


async def _serve(config: CollectorConfig) -> None:
    from collector.app import create_app, make_runner

    app = create_app(config)
    runner = make_runner(app, access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, config.host, config.port)
        await site.start()
        actual_port = runner.addresses[0][1]
        display_host = f"[{config.host}]" if ":" in config.host else config.host
        log.info("enroll secret file: %s", config.enroll_secret_path.resolve())
        log.info("database: %s", config.db_path.resolve())
        print(f"listening on http://{display_host}:{actual_port}", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await stop.wait()
        log.info("shutting down")
    finally:
        await runner.cleanup()


@collector.group()
def token() -> None:
    """API tokens for GET /api/v1/alerts."""


@token.command("create")
@click.option("--db", "db_path", type=click.Path(dir_okay=False, path_type=Path), default=CollectorConfig.db_path,
              show_default=True, help="SQLite database file.")
@click.option("--name", required=True, help="What the token is for (shown in audits).")
def token_create(db_path: Path, name: str) -> None:
    """Create an API token and print it once (only its hash is stored)."""
    from collector.auth import create_api_token
    from collector.store import Store

    async def create() -> str:
        store = Store(db_path, read_workers=1)
        await store.open()
        try:
            return await store.write(lambda db: create_api_token(db, name))
        finally:
            await store.close()

    click.echo(asyncio.run(create()))
