"""`shadowmap collector deploys secret|canonical`: the Vercel and Netlify deployment webhooks'
shared secrets (sealed in the database) and each deployment project's canonical repository
(collector/api/deploy_webhooks.py). Each change goes to the record."""
from __future__ import annotations

import asyncio
import getpass
from pathlib import Path

import click

from shadowmap.collector.cli_options import config_kwargs, db_option
from shadowmap.collector.config import CollectorConfig
from shadowmap.collector.org_key_cli import load_secrets_key, secrets_key_option
from shadowmap.collector.store.sqlite.deploys import PROVIDERS


def _write(db_path, secrets_key: Path | None, fn):
    from shadowmap.collector.store import open_store

    config = CollectorConfig(**config_kwargs(db_path), secrets_key_file=secrets_key)
    load_secrets_key(db_path, secrets_key)

    async def run():
        store = open_store(config.database, read_workers=1)
        await store.open()
        try:
            return await store.write(fn)
        finally:
            await store.close()

    return asyncio.run(run())


@click.group("deploys")
def deploys() -> None:
    """Deployment webhooks (Vercel, Netlify): their secrets and projects' canonical repositories."""


@deploys.command("secret")
@click.argument("provider", type=click.Choice(PROVIDERS))
@click.option("--value-file", type=click.Path(dir_okay=False, path_type=Path),
              help="file holding the secret (Vercel shows its webhook's secret once: save it to a file); "
                   "without it one is generated and printed (for Netlify's JWS secret token)")
@db_option
@secrets_key_option
def secret(provider: str, value_file: Path | None, db_path, secrets_key: Path | None) -> None:
    """Set a provider's webhook secret."""
    from shadowmap.collector import record
    from shadowmap.collector.store.sqlite import deploys as store

    value = value_file.read_text("utf-8").strip() if value_file else None
    if value_file and len(value or "") < 16:
        raise click.ClickException("the secret in --value-file is shorter than 16 characters")

    def write(db):
        chosen = store.set_deploy_secret(db, provider, value)
        record.append(db, "admin", f"deploy_secret:{provider}", f"cli:{getpass.getuser()}", {"action": "set"})
        return chosen

    chosen = _write(db_path, secrets_key, write)
    click.echo(f"{provider} webhook secret set" + ("" if value else f": {chosen}"))


@deploys.command("canonical")
@click.argument("provider", type=click.Choice(PROVIDERS))
@click.argument("project")
@click.argument("repo")
@db_option
@secrets_key_option
def canonical(provider: str, project: str, repo: str, db_path, secrets_key: Path | None) -> None:
    """The repository (host/owner/name or a git URL) PROJECT (Vercel project id, Netlify site id)
    must deploy from; a production deploy from anywhere else raises the finding."""
    from shadowmap.collector import record
    from shadowmap.collector.store.sqlite import deploys as store
    from shadowmap.contract.repo_names import normalise_repo

    named = normalise_repo(repo)
    if named is None:
        raise click.ClickException(f"{repo!r} does not name a repository on a host (host/owner/name)")

    def write(db):
        store.set_canonical_repo(db, provider, project[:256], named)
        record.append(db, "admin", f"deploy_project:{provider}:{project[:256]}", f"cli:{getpass.getuser()}",
                      {"canonical_repo": named})

    _write(db_path, secrets_key, write)
    click.echo(f"{provider} project {project} deploys from {named}")
