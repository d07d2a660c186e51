"""`shadowmap collector move --from sqlite:///… --to postgresql://…` (shadowmap.collector.move)."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from shadowmap.collector.store.url import DatabaseUrlError, PostgresUrl, SqliteUrl, parse_database_url


@click.command("move")
@click.option("--from", "source", required=True, metavar="SQLITE",
              help="The install's SQLite database (a path or sqlite:///path).")
@click.option("--to", "target", required=True, metavar="POSTGRESQL_URL",
              help="An empty PostgreSQL database (postgresql://user@host:port/db); its schema is made first.")
@click.option("--to-password-file", type=click.Path(dir_okay=False, exists=True, path_type=Path), default=None,
              help="A file holding the target's password (else SHADOWMAP_DB_PASSWORD, PGPASSWORD, PGPASSFILE).")
@click.option("--batch", default=5000, show_default=True, type=click.IntRange(1, 1_000_000),
              help="Rows read and copied at a time.")
def move(source: str, target: str, to_password_file: Path | None, batch: int) -> None:
    """Move an install from SQLite to PostgreSQL: every table, with progress; refuses a
    target that holds any row; afterwards checks the counts of every table and the record
    chain on the target, and exits 1 if either does not hold."""
    from shadowmap.collector.move import MoveError
    from shadowmap.collector.move import move as run_move

    try:
        source_url = parse_database_url(source)
        target_url = parse_database_url(target, to_password_file)
    except DatabaseUrlError as exc:
        raise click.BadParameter(str(exc)) from None
    if not isinstance(source_url, SqliteUrl):
        raise click.BadParameter("--from is the SQLite database of the install to move")
    if not isinstance(target_url, PostgresUrl):
        raise click.BadParameter("--to is a postgresql:// URL")

    last: dict[str, int] = {}

    def progress(table: str, done: int, total: int) -> None:
        # a line per table at most every ~10 % (and its last), on stderr: stdout is the summary
        step = max(1, total // 10)
        if done == total or done - last.get(table, 0) >= step:
            last[table] = done
            click.echo(f"  {table}: {done}/{total}", err=True)

    try:
        summary = run_move(source_url.path, target_url, batch, progress)
    except MoveError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(summary.describe())
    if not summary.ok:
        sys.exit(1)
