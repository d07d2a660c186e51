"""`shadowmap collector devices list|requests|revoke|approve|reject|watch`: the console's Devices
page on the command line (collector/console/devices.py); each decision goes to the record
with the actor cli:<OS user>. `watch` runs one pass of the device watch now (the collector
runs one every 5 minutes: shadowmap.collector.device_watch)."""
from __future__ import annotations

import asyncio
import getpass
from datetime import UTC, datetime, timedelta

import click

from shadowmap.collector.cli_options import config_kwargs, db_option
from shadowmap.collector.config import CollectorConfig


@click.group("devices")
def devices() -> None:
    """Enrolled agents: list them, revoke one, decide re-enrollment requests."""


def _run(db_path, fn, write: bool):
    from shadowmap.collector.store import open_store

    async def run():
        store = open_store(CollectorConfig(**config_kwargs(db_path)).database, read_workers=1)
        await store.open()
        try:
            return await (store.write(fn) if write else store.read(fn))
        finally:
            await store.close()

    return asyncio.run(run())


def _actor() -> str:
    return f"cli:{getpass.getuser()}"


@devices.command("list")
@db_option
def list_devices(db_path) -> None:
    """Every device: id, hostname, mode, OS user, revoked or not."""
    from shadowmap.collector.store.sqlite import devices as stored

    for row in _run(db_path, stored.list_devices, write=False):
        state = "revoked" if row["revoked"] else "active"
        click.echo(f"{row['device_id']}  {row['hostname']}  {row['mode']}  {row['os_user'] or '-'}  {state}")


@devices.command("requests")
@db_option
def list_requests(db_path) -> None:
    """Pending re-enrollment requests: request id, device id, hostname, mode, OS user, from where."""
    from shadowmap.collector.store.sqlite import devices as stored

    for row in _run(db_path, stored.list_requests, write=False):
        click.echo(f"{row['request_id']}  {row['device_id']}  {row['hostname']}  {row['mode']}  "
                   f"{row['os_user'] or '-'}  {row['remote'] or '-'}  {row['requested_at']}")


@devices.command("revoke")
@db_option
@click.argument("device_id")
def revoke(db_path, device_id: str) -> None:
    """Revoke DEVICE_ID: its node key stops working until an admin approves a re-enrollment."""
    from shadowmap.collector.console.devices import revoke_device

    if not _run(db_path, lambda db: revoke_device(db, device_id, _actor()), write=True):
        raise click.ClickException(f"no device {device_id}")
    click.echo(f"device {device_id} revoked")


def _decide(db_path, request_id: str, approve: bool) -> None:
    from shadowmap.collector.console.devices import decide_request

    if not _run(db_path, lambda db: decide_request(db, request_id, approve, _actor()), write=True):
        raise click.ClickException(f"no pending request {request_id}")
    click.echo(f"request {request_id} {'approved: the agent gets its key at its next try' if approve else 'rejected'}")


@devices.command("approve")
@db_option
@click.argument("request_id")
def approve(db_path, request_id: str) -> None:
    """Approve REQUEST_ID: the requesting agent gets the device's identity and a new key."""
    _decide(db_path, request_id, True)


@devices.command("reject")
@db_option
@click.argument("request_id")
def reject(db_path, request_id: str) -> None:
    """Reject REQUEST_ID."""
    _decide(db_path, request_id, False)


@devices.command("watch")
@db_option
@click.option("--device-dark-after-days", type=click.FloatRange(min=0, min_open=True),
              default=CollectorConfig.device_dark_after_days, show_default=True,
              help="A device silent for longer than this raises \"Protection disabled\" (as `collector serve`'s).")
def watch(db_path, device_dark_after_days: float) -> None:
    """Run one pass of the device watch now, rather than waiting for the collector's next
    (every 5 minutes): raise "Protection disabled" for each device gone silent or reporting
    the extension disabled or missing, and resolve the alerts of devices that are back."""
    from shadowmap.collector.alerts import protection

    dark_after = timedelta(days=device_dark_after_days)
    result = _run(db_path, lambda db: protection.watch(db, datetime.now(UTC), dark_after), write=True)

    def counted(ids: list[int], what: str) -> str:
        listed = f" ({', '.join(f'#{alert_id}' for alert_id in ids)})" if ids else ""
        return f"{len(ids)} {what}{listed}"

    click.echo(f"device watch: {counted(result.opened, 'opened')}, {counted(result.resolved, 'resolved')} "
               "(\"Protection disabled\" alerts)")
