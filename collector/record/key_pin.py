"""Which key signs this database's record: the first collector node to start on a database
stores the fingerprint of its record signing key in `org_settings`; any later node must have
the same key. A node started with a key of its own (on PostgreSQL, one made next to its own
working folder) then refuses to start. Otherwise it would sign checkpoints and anchors that
the auditors' pinned fingerprint does not verify.

A database from before the pin has none stored. Its newest retention checkpoint (signed
hourly by whichever node ran retention) then says which key signed the record.

Changing the key on purpose is `rotate` (`shadowmap collector record rotate-key`): it moves
the pin and records the change in the chain. The pin catches a misconfigured node. It does
not stop an attacker: whoever can write the database can move it."""
from __future__ import annotations

from typing import TYPE_CHECKING

from shadowmap.collector.record import chain, keys
from shadowmap.collector.record.bundle import checkpoint_payload
from shadowmap.collector.store.sqlite import org
from shadowmap.collector.store.sqlite import record as record_store

if TYPE_CHECKING:
    import sqlite_utils
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

SETTING = "record_key_sha256"


class KeyMismatch(Exception):
    """The database's record is signed with another key than the one given."""


def pin(db: sqlite_utils.Database, key: Ed25519PrivateKey) -> str:
    """Writer fn, at a node's start: the fingerprint the record is signed with, stored now
    if the database has none yet; KeyMismatch when it is not ``key``'s."""
    record_store.lock_chain(db)  # two nodes starting a new database at once: the second sees the first's pin
    given = check(db, key)
    if org.setting(db, SETTING) is None:
        org.set_setting(db, SETTING, given)
    return given


def check(db: sqlite_utils.Database, key: Ed25519PrivateKey) -> str:
    """``key``'s fingerprint, when it is the one the record is signed with (the pin, or with
    none stored the newest checkpoint's signer, or a record never signed); else KeyMismatch.
    The record commands that sign (export, anchor, purge) check their --key with it."""
    given = keys.fingerprint(key)
    pinned = org.setting(db, SETTING)
    if pinned is None:
        newest = _newest_checkpoint(db)
        if newest is not None and not keys.signature_valid(key.public_key(), checkpoint_payload(newest),
                                                           newest["signature"]):
            raise KeyMismatch(f"the newest retention checkpoint of the record (entry {newest['seq']}) was signed "
                              f"by another key than this one (sha256 {given})")
    elif pinned != given:
        raise KeyMismatch(f"the record in this database is signed by the key with sha256 {pinned}, "
                          f"not by this one (sha256 {given})")
    return given


def rotate(db: sqlite_utils.Database, key: Ed25519PrivateKey, actor: str) -> tuple[str | None, str]:
    """Writer fn: ``key`` signs the record from now on; the change is an entry of the chain.
    Returns the fingerprints (before, after); before is None when nothing was pinned."""
    record_store.lock_chain(db)
    before, after = org.setting(db, SETTING), keys.fingerprint(key)
    if before != after:
        org.set_setting(db, SETTING, after)
        chain.append(db, "admin", "record-key", actor, {"action": "rotate", "from": before, "to": after})
    return before, after


def _newest_checkpoint(db: sqlite_utils.Database) -> dict | None:
    # read once per database, when its first node of this version starts; a few thousand rows at most a year
    found = record_store.checkpoints(db, 0, chain.head(db)[0])
    return found[-1] if found else None
