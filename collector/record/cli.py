"""`shadowmap collector record ...`: export and verify the hash-chained record, run retention, and
configure where reads and alerts are announced (outbound sinks). A thin shell over the
library; every export is itself recorded as a read."""
from __future__ import annotations

import asyncio
import getpass
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import click

from shadowmap.collector.cli_options import db_option

if TYPE_CHECKING:
    from shadowmap.collector.store import Storage

T = TypeVar("T")
KEY_OPTION = click.option("--key", "key_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
                          help="Record signing key (Ed25519 PEM, created 0600 if missing). "
                               "Default: $SHADOWMAP_RECORD_KEY, else record_signing_key.pem next to a SQLite "
                               "database; with PostgreSQL, the key file the collector nodes use must be given "
                               "(or an external signer set).")


def parse_moment(value: str) -> str:
    """A date (midnight UTC) or an RFC 3339 timestamp, as the UTC string the record sorts by."""
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (2026-11-01) or timestamp") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _config(db):
    """The collector's configuration for --db (a SQLite path or a PostgreSQL URL)."""
    from shadowmap.collector.cli_options import config_kwargs
    from shadowmap.collector.config import CollectorConfig

    return CollectorConfig(**config_kwargs(db))


async def _refuse_other_key(store: Storage, key) -> None:
    """Before signing: --key must be the key the record is signed with (key_pin), or an
    auditor's pinned fingerprint would not verify what this command signs."""
    from shadowmap.collector.record import key_pin

    try:
        await store.read(lambda db: key_pin.check(db, key))
    except key_pin.KeyMismatch as exc:
        raise click.ClickException(f"{exc}: pass the key the collector nodes sign with (--key or "
                                   "$SHADOWMAP_RECORD_KEY), or change it first with `record rotate-key`") from None


def _with_store(db_path, work: Callable[[Storage], Awaitable[T]]) -> T:
    if isinstance(db_path, Path) and not db_path.exists():
        raise click.ClickException(f"no database at {db_path}")
    from shadowmap.collector.org_key_cli import load_secrets_key

    load_secrets_key(db_path)  # reads are announced to the sinks, which are sealed
    database = _config(db_path).database

    async def run() -> T:
        from shadowmap.collector.store import open_store

        store = open_store(database, read_workers=1)
        await store.open()
        try:
            return await work(store)
        finally:
            await store.close()

    return asyncio.run(run())


def _key(db_path: Path, key_path: Path | None):
    from shadowmap.collector.record import keys

    key_path = keys.named_key_path(key_path)   # the same key file the collector signs with
    if key_path is None and not isinstance(db_path, Path) and keys.signer_from_env() is None:
        # a key made up in the working folder would sign bundles no auditor has pinned
        raise click.ClickException("--db is a PostgreSQL database, with no folder next to it to find the record "
                                   "signing key in: pass --key, the key file the collector nodes sign with")
    try:
        return keys.record_key(key_path or keys.default_key_path(_config(db_path).db_path))
    except (OSError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None


@click.group()
def record() -> None:
    """The hash-chained record: export, verify, retention, read alerts."""


@record.command("export")
@db_option
@KEY_OPTION
@click.option("--from", "start", required=True, help="First day or moment included (UTC unless stated).")
@click.option("--to", "end", required=True, help="First day or moment NOT included.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="Bundle file to write (zip).")
@click.option("--actor", default=None, help="Who is exporting (recorded). Default: cli:<OS user>.")
def export_command(db_path: Path, key_path: Path | None, start: str, end: str, out: Path, actor: str | None) -> None:
    """Write a signed bundle of the entries appended in [--from, --to)."""
    from shadowmap.collector.record import bundle
    from shadowmap.collector.record.reads import record_read_in

    start, end = parse_moment(start), parse_moment(end)
    key = _key(db_path, key_path)
    who = actor or f"cli:{getpass.getuser()}"

    async def work(store):
        await _refuse_other_key(store, key)
        summary = await store.read(lambda db: bundle.export(db, start, end, out, key))
        await store.write(lambda db: record_read_in(db, who, "export", {
            "from": start, "to": end, "first_seq": summary.first_seq, "last_seq": summary.last_seq,
            "count": summary.count, "bundle": out.name}))
        return summary

    summary = _with_store(db_path, work)
    click.echo(f"wrote {summary.path}: {summary.count} entries "
               f"({summary.first_seq}..{summary.last_seq}), head {summary.head_hash}")


def _trusted_keys(path: Path | None) -> list[str]:
    """Fingerprints, one per line (# comments allowed)."""
    if path is None:
        return []
    lines = (line.split("#", 1)[0].strip() for line in path.read_text("utf-8").splitlines())
    return [line for line in lines if line]


@record.command("verify")
@click.argument("bundle_path", metavar="BUNDLE", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--key-sha256", default=None, help="Require this signing-key fingerprint (from `record key`).")
@click.option("--trusted-keys", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="A file of trusted signing-key fingerprints, one per line (instead of --key-sha256).")
@click.option("--anchors", "anchors_path", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Published chain heads (the anchor file, or a JSON list from the SIEM): the bundle must agree.")
@click.option("--min-retention-days", type=click.IntRange(0, 36500), default=0, show_default=True,
              help="Refuse retention checkpoints that purged events younger than this.")
def verify_command(bundle_path: Path, key_sha256: str | None, trusted_keys: Path | None, anchors_path: Path | None,
                   min_retention_days: int) -> None:
    """Check a bundle offline; exit 1 and name the first broken entry if it does not hold.
    A pinned key (--key-sha256) or a trusted-keys file is required."""
    from shadowmap.collector.record import anchors, bundle

    trusted = _trusted_keys(trusted_keys)
    if not key_sha256 and not trusted:
        raise click.UsageError("pin the signing key with --key-sha256 or give --trusted-keys: "
                               "a bundle re-signed with any other key would verify otherwise")
    try:
        published = anchors.read_anchors(anchors_path) if anchors_path is not None else None
    except ValueError as exc:
        raise click.ClickException(f"{anchors_path}: {exc}") from None
    verdict = bundle.verify(bundle_path, key_sha256, trusted, published, min_retention_days)
    click.echo(verdict.describe())
    if verdict.ok and published is not None:
        click.echo(f"agrees with {len(published)} published chain head(s)")
    if not verdict.ok:
        raise SystemExit(1)


@record.command("anchor")
@db_option
@KEY_OPTION
@click.option("--anchor-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Append the head to this file too (default: $SHADOWMAP_RECORD_ANCHOR_FILE, if set).")
def anchor_command(db_path: Path, key_path: Path | None, anchor_file: Path | None) -> None:
    """Publish the chain head now: to the sinks subscribed to "anchor", and the anchor file
    (the server does it every few minutes)."""
    from shadowmap.collector.record import anchors

    key = _key(db_path, key_path)
    path = anchors.named_anchor_file(anchor_file)

    async def work(store):
        await _refuse_other_key(store, key)
        head = await store.read(lambda db: anchors.current_head(db, key))
        queued = await store.write(lambda db: anchors.enqueue(db, head))
        return head, queued

    head, queued = _with_store(db_path, work)
    if path is not None:
        anchors.append_to_file(path, head)
    click.echo(f"head entry {head['seq']} {head['entry_hash']}: queued for {queued} sink(s)"
               f"{f', appended to {path}' if path else ''}")


@record.command("check")
@db_option
def check_command(db_path: Path) -> None:
    """Walk the whole stored chain in the database; exit 1 at the first broken entry."""
    from shadowmap.collector.record import chain

    checked, broken, why = _with_store(db_path, lambda store: store.read(chain.verify_store))
    if broken is None:
        click.echo(f"OK: {checked} entries verified")
        return
    click.echo(f"BROKEN at entry {broken}: {why}")
    raise SystemExit(1)


@record.command("key")
@db_option
@KEY_OPTION
def key_command(db_path: Path, key_path: Path | None) -> None:
    """Print the signing key's public half and the fingerprint auditors pin."""
    from shadowmap.collector.record import keys

    key = _key(db_path, key_path)
    click.echo(keys.public_pem(key).strip())
    click.echo(f"sha256: {keys.fingerprint(key)}")


@record.command("rotate-key")
@db_option
@KEY_OPTION
@click.option("--actor", default=None, help="Who rotates it, for the record (default: cli:<OS user>).")
def rotate_key_command(db_path: Path, key_path: Path | None, actor: str | None) -> None:
    """Make --key (or the external signer) the record's signing key from now on: collector
    nodes started with another key refuse to start. The change is recorded. Then give every
    node the new key and restart them; auditors trust both fingerprints for bundles that
    span the change."""
    from shadowmap.collector.record import key_pin, keys

    key = _key(db_path, key_path)
    who = actor or f"cli:{getpass.getuser()}"
    before, after = _with_store(db_path, lambda store: store.write(lambda db: key_pin.rotate(db, key, who)))
    if before == after:
        click.echo(f"sha256: {after} already signs the record; nothing changed")
        return
    click.echo(f"record signing key rotated: sha256 {before or '(none pinned)'} -> {after}; give every collector "
               f"node this key ({keys.KEY_PATH_ENV}) and restart them")


@record.command("sign")
@click.option("--key", "key_path", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True,
              help="The record signing key (Ed25519 PEM), readable only by the signer's own user.")
def sign_command(key_path: Path) -> None:
    """The external signer: read the bytes to sign on stdin, print the Ed25519 signature
    (base64). Run as another user (SHADOWMAP_RECORD_SIGN_COMMAND), so the collector and its
    database's owner never hold the key."""
    import sys

    from shadowmap.collector.record import keys

    key = keys.load_or_create_key(key_path)
    click.echo(keys.sign(key, sys.stdin.buffer.read()))


@record.command("purge")
@db_option
@KEY_OPTION
@click.option("--days", type=click.IntRange(1, 36500), default=None,
              help="Set the event retention (days) before purging. Default: the configured one (400).")
def purge_command(db_path: Path, key_path: Path | None, days: int | None) -> None:
    """Delete event details past retention now and sign a checkpoint (the server also runs it hourly)."""
    from shadowmap.collector.record import retention

    key = _key(db_path, key_path)

    async def work(store):
        await _refuse_other_key(store, key)
        if days is not None:
            await store.write(lambda db: retention.set_event_retention_days(db, days))
        return await store.write(lambda db: retention.purge(db, key))

    checkpoint = _with_store(db_path, work)
    click.echo(f"purged {checkpoint['purged_events']} event(s) received before {checkpoint['purged_before']}; "
               f"checkpoint at entry {checkpoint['seq']}")


@record.command("sinks")
@db_option
@click.option("--set", "sinks_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help='JSON list of sinks: [{"name","kind":"webhook|slack|ocsf","url","topics":["alerts","reads"],"secret"}].')
@click.option("--actor", default=None, help="Who changes them, for the record (default: cli:<OS user>).")
def sinks_command(db_path: Path, sinks_file: Path | None, actor: str | None) -> None:
    """Show (or replace with --set, recorded) where alerts and reads of the record are announced.
    Sinks are stored sealed: the secrets key is loaded as the collector loads it."""
    from shadowmap.collector.outbound import queue as outbound
    from shadowmap.collector.record import chain

    who = actor or f"cli:{getpass.getuser()}"

    def replace_sinks(db, wanted) -> None:
        clean = outbound.set_sinks(db, wanted)
        chain.append(db, "admin", "sinks", who, {"action": "set", "sinks": [  # never their secrets
            {"name": s["name"], "kind": s["kind"], "topics": s["topics"], "signed": "secret" in s} for s in clean]})

    async def work(store):
        if sinks_file is not None:
            try:
                wanted = json.loads(sinks_file.read_text("utf-8"))
                await store.write(lambda db: replace_sinks(db, wanted))
            except (ValueError, outbound.SinkError) as exc:
                raise click.ClickException(str(exc)) from None
        return await store.read(outbound.sinks)

    for sink in _with_store(db_path, work):
        click.echo(f"{sink['name']}: {sink['kind']} {sink['url']} topics={','.join(sink['topics'])}"
                   f"{' signed' if sink.get('secret') else ''}")


@record.command("dead-letters")
@db_option
@click.option("--retry", is_flag=True, help="Queue every dead letter again.")
def dead_letters_command(db_path: Path, retry: bool) -> None:
    """List outbound messages that failed every attempt (or queue them again)."""
    from shadowmap.collector.outbound import queue as outbound

    async def work(store):
        if retry:
            return await store.write(lambda db: outbound.retry_dead(db))
        return await store.read(outbound.dead_letters)

    result = _with_store(db_path, work)
    if retry:
        click.echo(f"queued {result} message(s) again")
        return
    for letter in result:
        click.echo(f"#{letter['id']} {letter['sink']} {letter['topic']} attempts={letter['attempts']} "
                   f"created={letter['created_at']} error={letter['last_error']}")
