"""`shadowmap collector report ...`: the weekly sub-processor report, from the collector's database."""
from __future__ import annotations

import sys
from datetime import date, timedelta
from pathlib import Path

import click

from shadowmap.collector.cli_options import db_option


def last_week() -> str:
    year, week, _ = (date.today() - timedelta(days=7)).isocalendar()
    return f"{year}-W{week:02d}"


@click.group()
def report() -> None:
    """Reports for compliance: the weekly AI sub-processor report."""


@report.command()
@click.option("--week", default=None, help="ISO week, e.g. 2026-W47. Default: last week.")
@click.option("--format", "fmt", type=click.Choice(["html", "csv", "json"]), default="html", show_default=True)
@db_option
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="File to write. Default: standard output.")
def weekly(week: str | None, fmt: str, db_path: Path, out: Path | None) -> None:
    """Vendors in use, people and data per vendor, register status, findings, data flow."""
    from shadowmap.collector.report.render import render
    from shadowmap.collector.report.weekly import ReportError, build

    if not db_path.exists():
        raise click.ClickException(f"no database at {db_path}")
    from shadowmap.collector.store.sqlite.read_only import Error, read_only

    try:
        with read_only(db_path) as db:  # a report never changes the collector's data
            data = build(db, week or last_week())
    except ReportError as exc:
        raise click.BadParameter(str(exc), param_hint="--week") from None
    except Error as exc:
        raise click.ClickException(f"cannot read {db_path}: {exc}") from None
    text = render(data, fmt)
    if out is None:
        sys.stdout.write(text)
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, "utf-8")
        click.echo(f"wrote {out}", err=True)
