"""`shadowmap collector account ...` and `token list|revoke`: the account and API token
lifecycle from the command line. Every change is an `admin` entry of the record with the
actor `cli:<OS user>` (or --actor)."""
from __future__ import annotations

import asyncio
import getpass
import sys

import click

from shadowmap.collector.cli_options import config_kwargs, db_option
from shadowmap.collector.config import CollectorConfig

MIN_PASSWORD = 12
actor_option = click.option("--actor", default=None, help="Who makes the change, for the record (default: cli:<OS user>).")


def _actor(actor: str | None) -> str:
    return actor or f"cli:{getpass.getuser()}"


def run_on_store(db, fn, write: bool):
    """Run one reader or writer fn on the database (migrated on open), then close it."""
    from shadowmap.collector.org_key_cli import load_secrets_key
    from shadowmap.collector.store import open_store

    load_secrets_key(db)  # a record entry may announce itself to the (sealed) sinks

    async def run():
        store = open_store(CollectorConfig(**config_kwargs(db)).database, read_workers=1)
        await store.open()
        try:
            return await (store.write(fn) if write else store.read(fn))
        finally:
            await store.close()

    return asyncio.run(run())


def _recorded(actor: str, subject: str, detail: dict, change):
    """A writer fn: ``change(db)``, and when it did something, its record entry."""
    from shadowmap.collector import record

    def write(db):
        done = change(db)
        if done:
            record.append(db, "admin", subject, actor, detail)
        return done
    return write


def create_token(db, name: str, role: str, days: int, actor: str | None) -> str:
    from shadowmap.collector import record
    from shadowmap.collector.store.sqlite import accounts

    expires_at, who = accounts.token_expiry(days), _actor(actor)

    def write(db_):
        token = accounts.create_api_token(db_, name, role, who, expires_at)
        record.append(db_, "admin", f"token:{accounts.token_id(accounts.token_hash(token))}", who,
                      {"action": "create", "name": name, "role": role, "expires_at": expires_at})
        return token

    return str(run_on_store(db, write, write=True))


@click.command("list")
@db_option
def token_list(db_path) -> None:
    """List API tokens: id, name, role, expiry, and whether revoked (never the tokens)."""
    from shadowmap.collector.store.sqlite import accounts

    for row in run_on_store(db_path, accounts.list_api_tokens, write=False):
        state = f"revoked {row['revoked_at']}" if row["revoked_at"] else "live"
        click.echo(f"{row['id']} {row['name']} role={row['role']} expires={row['expires_at'] or 'never'} {state}")


@click.command("revoke")
@db_option
@click.argument("token_id")
@actor_option
def token_revoke(db_path, token_id: str, actor: str | None) -> None:
    """Revoke the API token with TOKEN_ID (from `token list`)."""
    from shadowmap.collector.store.sqlite import accounts

    found = run_on_store(db_path, _recorded(_actor(actor), f"token:{token_id}", {"action": "revoke"},
                                            lambda db: accounts.revoke_api_token(db, token_id)), write=True)
    if not found:
        raise click.ClickException(f"no live token has id {token_id}")
    click.echo(f"token {token_id} ({found['name']}) revoked")


@click.group()
def account() -> None:
    """Console accounts: list, disable, enable, delete, set a password."""


@account.command("list")
@db_option
def account_list(db_path) -> None:
    """List the console accounts: role, active or disabled, and single sign-on ones' provider."""
    from shadowmap.collector.store.sqlite import accounts

    for row in run_on_store(db_path, accounts.list_accounts, write=False):
        state = f"disabled {row['disabled_at']}" if row["disabled_at"] else "active"
        sso = f" sso={row['sso_issuer']}" if row["sso_issuer"] else ""
        click.echo(f"{row['username']} role={row['role']} {state}{sso}")


def _account_change(db_path, username: str, action: str, actor: str | None, change) -> None:
    if not run_on_store(db_path, _recorded(_actor(actor), f"account:{username}", {"action": action}, change),
                        write=True):
        raise click.ClickException(f"no account {username!r}")
    click.echo(f"account {username}: {action.replace('_', ' ')} done")


def _password_from_stdin() -> str:
    password = sys.stdin.readline().rstrip("\n")
    if not MIN_PASSWORD <= len(password) <= 1024:
        raise click.ClickException(f"the password must be {MIN_PASSWORD}..1024 characters")
    return password


@account.command("create")
@db_option
@click.argument("username")
@click.option("--role", type=click.Choice(["viewer", "analyst", "admin"]), default="viewer", show_default=True)
@actor_option
def account_create(db_path, username: str, role: str, actor: str | None) -> None:
    """Create USERNAME with ROLE; the password is read from stdin (never an argument)."""
    from shadowmap.collector.principals import hash_password
    from shadowmap.collector.store.sqlite import accounts

    password_hash = hash_password(_password_from_stdin())
    _account_change(db_path, username, "create", actor,
                    lambda db: accounts.create_account(db, username, password_hash, role))


@account.command("disable")
@db_option
@click.argument("username")
@actor_option
def account_disable(db_path, username: str, actor: str | None) -> None:
    """Disable USERNAME: it cannot sign in and its sessions end."""
    from shadowmap.collector.store.sqlite import accounts

    _account_change(db_path, username, "disable", actor, lambda db: accounts.set_disabled(db, username, True))


@account.command("enable")
@db_option
@click.argument("username")
@actor_option
def account_enable(db_path, username: str, actor: str | None) -> None:
    """Enable USERNAME again."""
    from shadowmap.collector.store.sqlite import accounts

    _account_change(db_path, username, "enable", actor, lambda db: accounts.set_disabled(db, username, False))


@account.command("delete")
@db_option
@click.argument("username")
@actor_option
def account_delete(db_path, username: str, actor: str | None) -> None:
    """Delete USERNAME and its sessions."""
    from shadowmap.collector.store.sqlite import accounts

    _account_change(db_path, username, "delete", actor, lambda db: accounts.delete_account(db, username))


@account.command("set-password")
@db_option
@click.argument("username")
@actor_option
def account_set_password(db_path, username: str, actor: str | None) -> None:
    """Set USERNAME's password, read from stdin (never an argument); its sessions end."""
    from shadowmap.collector.principals import hash_password
    from shadowmap.collector.store.sqlite import accounts

    if run_on_store(db_path, lambda db: accounts.signs_in_through_sso(db, username), write=False):
        raise click.ClickException(f"{username} signs in through single sign-on: its password is the provider's")
    password_hash = hash_password(_password_from_stdin())
    _account_change(db_path, username, "reset_password", actor,
                    lambda db: accounts.set_password(db, username, password_hash))
