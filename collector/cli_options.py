"""The one `--db` option of `shadowmap collector …`: every subcommand that opens the
collector's database takes it from here, so it is spelled, defaulted and explained once.

`--db` is a SQLite file (a path or sqlite:///path) or a postgresql:// URL
(shadowmap.collector.store.url); the command receives a Path for SQLite, as always, or a
PostgresUrl. `--db-password-file` comes with it (never a password on the command line)."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from shadowmap.collector.config import CollectorConfig
from shadowmap.collector.store.url import DatabaseUrlError, PostgresUrl, parse_database_url

F = TypeVar("F", bound=Callable[..., Any])
DB_HELP = ("The collector's database: a SQLite file (path or sqlite:///path) or postgresql://user@host:port/db "
           "(?host=/socket/dir for a Unix socket); the same for every `shadowmap collector` subcommand. A URL "
           "must not hold a password: see --db-password-file, SHADOWMAP_DB_PASSWORD, PGPASSWORD, PGPASSFILE.")
PASSWORD_FILE_HELP = "A file holding the PostgreSQL password (its first line)."
_PASSWORD_FILE = "db_password_file"


def _remember_password_file(ctx: click.Context, _param: click.Parameter, value: Path | None) -> None:
    ctx.meta[_PASSWORD_FILE] = value


def _parse_db(ctx: click.Context, _param: click.Parameter, value: str | Path) -> Path | PostgresUrl:
    try:
        parsed = parse_database_url(value, ctx.meta.get(_PASSWORD_FILE))
    except DatabaseUrlError as exc:
        raise click.BadParameter(str(exc)) from None
    return parsed if isinstance(parsed, PostgresUrl) else parsed.path


def db_option(command: F) -> F:
    """`--db` (passed as ``db_path``: a Path, or a PostgresUrl) and `--db-password-file`."""
    command = click.option("--db", "db_path", default=str(CollectorConfig.db_path), show_default=True,
                           callback=_parse_db, help=DB_HELP)(command)
    return click.option("--db-password-file", type=click.Path(dir_okay=False, exists=True, path_type=Path),
                        default=None, expose_value=False, is_eager=True, callback=_remember_password_file,
                        help=PASSWORD_FILE_HELP)(command)


def config_kwargs(db: Path | PostgresUrl) -> dict[str, Any]:
    """CollectorConfig's database fields for ``db`` as db_option gives it."""
    if isinstance(db, PostgresUrl):
        return {"db_url": db.url, "db_password_file": db.password_file}
    return {"db_path": db}
