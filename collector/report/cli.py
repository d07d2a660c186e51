"""`shadowmap collector report ...`: the weekly sub-processor report (HTML, CSV, JSON, PDF), from the
collector's database, signed with the record's key when it is at hand."""
from __future__ import annotations

import sys
from datetime import date, timedelta
from pathlib import Path

import click

from shadowmap.collector.cli_options import config_kwargs, db_option
from shadowmap.collector.config import CollectorConfig


def last_week() -> str:
    year, week, _ = (date.today() - timedelta(days=7)).isocalendar()
    return f"{year}-W{week:02d}"


@click.group()
def report() -> None:
    """Reports for compliance: the weekly AI sub-processor report."""


def _record_key(db_path: Path, key_path: Path | None):
    """The record's signing key when there is one (a report never creates it); None: unsigned."""
    from shadowmap.collector.record import keys

    signer = None if key_path else keys.signer_from_env()  # the record's external signing command, if set
    if signer is not None:
        return signer
    path = key_path or keys.default_key_path(CollectorConfig(**config_kwargs(db_path)).db_path)
    if not path.exists():
        if key_path is not None:
            raise click.ClickException(f"no record key at {key_path}")
        return None
    try:
        return keys.load_or_create_key(path)
    except (OSError, ValueError) as exc:
        raise click.ClickException(f"cannot read the record key {path}: {exc}") from None


def _record_report_read(db_path: Path, week: str, fmt: str, actor: str | None) -> None:
    """The report names people: reading it is a `read` entry of the record, as in the console."""
    import getpass

    from shadowmap.collector.accounts_cli import run_on_store
    from shadowmap.collector.record.reads import record_read_in

    who = actor or f"cli:{getpass.getuser()}"
    run_on_store(db_path, lambda db: record_read_in(db, who, f"report:{week}", {"format": fmt, "via": "cli"}),
                 write=True)


@report.command()
@click.option("--week", default=None, help="ISO week, e.g. 2026-W47. Default: last week.")
@click.option("--format", "fmt", type=click.Choice(["html", "csv", "json"]), default="html", show_default=True)
@db_option
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="File to write. Default: standard output.")
@click.option("--pdf", "pdf_out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the report as PDF (A4, with its signed JSON attached) to this file.")
@click.option("--actor", default=None, help="Who reads the report, for the record (default: cli:<OS user>).")
@click.option("--key", "key_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Record signing key that signs the report. Default: the record's external signing command "
                   "when one is set, else record_signing_key.pem next to the database when it is there "
                   "(otherwise the report says it is unsigned).")
def weekly(week: str | None, fmt: str, db_path: Path, out: Path | None, pdf_out: Path | None,
           actor: str | None, key_path: Path | None) -> None:
    """Executive summary, vendors in use, people and data per vendor, register status, open findings,
    coverage, data flow, control appendix; signed with the record's key."""
    from shadowmap.collector.report.attestation import sign
    from shadowmap.collector.report.render import render, to_pdf
    from shadowmap.collector.report.weekly import ReportError, build

    if isinstance(db_path, Path) and not db_path.exists():
        raise click.ClickException(f"no database at {db_path}")
    from shadowmap.collector.store.sqlite.read_only import Error, read_only

    key = _record_key(db_path, key_path)
    try:
        if isinstance(db_path, Path):
            with read_only(db_path) as db:  # a report never changes the collector's data
                data = sign(build(db, week or last_week()), key)
        else:  # PostgreSQL: through the store's reader, as the console builds it
            from shadowmap.collector.accounts_cli import run_on_store
            data = sign(run_on_store(db_path, lambda db: build(db, week or last_week()), write=False), key)
    except ReportError as exc:
        raise click.BadParameter(str(exc), param_hint="--week") from None
    except Error as exc:
        raise click.ClickException(f"cannot read {db_path}: {exc}") from None
    _record_report_read(db_path, data.get("week") or week or last_week(), fmt, actor)
    if pdf_out is not None:
        pdf_out.parent.mkdir(parents=True, exist_ok=True)
        pdf_out.write_bytes(to_pdf(data))
        click.echo(f"wrote {pdf_out}", err=True)
        if out is None:
            return  # --pdf alone writes only the PDF
    text = render(data, fmt)
    if out is None:
        sys.stdout.write(text)
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, "utf-8")
        click.echo(f"wrote {out}", err=True)


@report.command("approver")
@click.argument("name", required=False)
@click.option("--clear", is_flag=True, help="Name nobody: the report's approval line is left blank.")
@db_option
@click.option("--actor", default=None, help="Who changes it, for the record (default: cli:<OS user>).")
def approver_command(name: str | None, clear: bool, db_path: Path, actor: str | None) -> None:
    """Show or set who approves the weekly report: the name on its approval line.

    NAME is printed as given, e.g. "Dana Reyes, CISO". Each change is written to the record."""
    import getpass

    from shadowmap.collector.accounts_cli import run_on_store
    from shadowmap.collector.report import approval

    if name is not None and clear:
        raise click.UsageError("give a name or --clear, not both")
    if name is None and not clear:
        current = run_on_store(db_path, approval.approver, write=False)
        click.echo(current if current is not None else "nobody is named: the approval line is blank")
        return
    who = actor or f"cli:{getpass.getuser()}"
    try:
        stored = run_on_store(db_path, lambda db: approval.set_approver(db, name, who), write=True)
    except approval.ApproverError as exc:
        raise click.BadParameter(str(exc), param_hint="NAME") from None
    click.echo(f"report approver: {stored}" if stored is not None else "report approver cleared")
