"""`shadowmap collector org-detectors show|set`: the organisation's detectors (identifier
formats, internal domains) the policy carries to the agents, from the command line: the
same checks, versions and record entry as the console's page (console/org_detectors.py).
`set` takes the YAML file an agent reads from $SHADOWMAP_ORG_DETECTORS as it is."""
from __future__ import annotations

import asyncio
import getpass
import json
from pathlib import Path

import click

from shadowmap.collector.cli_options import config_kwargs, db_option
from shadowmap.collector.config import CollectorConfig


def _run(db_path, fn, write: bool):
    from shadowmap.collector.org_key_cli import load_secrets_key
    from shadowmap.collector.store import open_store

    if isinstance(db_path, Path) and not db_path.exists():
        raise click.ClickException(f"{db_path}: no such database (start the collector once to create it)")
    load_secrets_key(db_path)

    async def run():
        store = open_store(CollectorConfig(**config_kwargs(db_path)).database, read_workers=1)
        await store.open()
        try:
            return await (store.write(fn) if write else store.read(fn))
        finally:
            await store.close()

    return asyncio.run(run())


@click.group("org-detectors")
def org_detectors() -> None:
    """The organisation's detectors sent to the agents with the policy (schema/org_detectors.v1.json)."""


@org_detectors.command("show")
@db_option
def show(db_path) -> None:
    """Print the newest version (JSON) and, on stderr, its number."""
    from shadowmap.collector.store.sqlite import org_detectors as stored

    current = _run(db_path, stored.current, write=False)
    if current is None:
        raise click.ClickException("no org detectors saved yet")
    click.echo(json.dumps(current[1], indent=2))
    click.echo(f"version {current[0]}", err=True)


@org_detectors.command("set")
@db_option
@click.argument("document", type=click.File("r", encoding="utf-8"))
@click.option("--actor", default=None, help="Who makes the change, for the record (default: cli:<OS user>).")
def set_document(db_path, document, actor: str | None) -> None:
    """Check DOCUMENT (YAML or JSON; - for stdin) and save it as the next version; agents
    receive it with their next policy pull. The change is written to the record."""
    from shadowmap.collector.console.org_detectors import OrgDetectorsInputError, parse_document, replace_org_detectors

    try:
        config = parse_document(document.read())
    except OrgDetectorsInputError as exc:
        raise click.ClickException(f"{document.name}: {exc}") from None
    who = actor or f"cli:{getpass.getuser()}"
    version = _run(db_path, lambda db: replace_org_detectors(db, config, who), write=True)
    click.echo(f"org detectors saved as version {version}; agents receive them with their next policy pull")
