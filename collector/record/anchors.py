"""Publishing the record's chain head where the collector cannot take it back.

Whoever owns the database and the signing key can rewrite the chain's tail and sign it
again: the chain and the signature still hold. What they cannot rewrite is a head already
published elsewhere: every few minutes the collector publishes (seq, entry_hash) of the
head to the outbound sinks subscribed to the "anchor" topic (a SIEM keeps it) and appends
it as one JSON line to an anchor file the auditor keeps (opened O_APPEND; make it
append-only with `chattr +a`, or on a host or share the collector's owner cannot write but
append to). `record verify --anchors FILE` then refuses a bundle whose entry at a published
seq has another hash.

Stdlib-light: the verifier reads anchor files on an auditor's laptop."""
from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from shadowmap.collector.record import chain, keys

if TYPE_CHECKING:
    import sqlite_utils
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

ANCHOR_FILE_ENV = "SHADOWMAP_RECORD_ANCHOR_FILE"
FORMAT = "shadowmap.record-anchor/1"
ANCHOR_FILE_MODE = 0o644       # heads are hashes, not data about people: auditors may read them


def named_anchor_file(given: Path | None) -> Path | None:
    """The anchor file the caller names, else $SHADOWMAP_RECORD_ANCHOR_FILE's, else none (the
    collector and the `record anchor` command alike)."""
    return given or (Path(os.environ[ANCHOR_FILE_ENV]) if os.environ.get(ANCHOR_FILE_ENV) else None)


def payload(head: dict) -> bytes:
    """What an anchor's signature covers."""
    return chain.canonical({name: head[name] for name in ("format", "seq", "entry_hash", "published_at")}).encode()


def current_head(db: sqlite_utils.Database, key: Ed25519PrivateKey) -> dict:
    """Reader fn: the chain head as a signed anchor."""
    seq, entry_hash = chain.head(db)
    head = {"format": FORMAT, "seq": seq, "entry_hash": entry_hash, "published_at": chain.utc_now(),
            "key_sha256": keys.fingerprint(key)}
    head["signature"] = keys.sign(key, payload(head))
    return head


def append_to_file(path: Path, head: dict) -> None:
    """Append one anchor line; the file is only ever opened for appending."""
    line = (json.dumps(head, sort_keys=True, separators=(",", ":")) + "\n").encode()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, ANCHOR_FILE_MODE)
    try:
        os.write(fd, line)
        os.fsync(fd)
    finally:
        os.close(fd)


def enqueue(db: sqlite_utils.Database, head: dict) -> int:
    """Writer fn: queue the head for every sink subscribed to the "anchor" topic."""
    from shadowmap.collector.outbound import queue as outbound

    return outbound.enqueue(db, "anchor", head)


def read_anchors(path: Path) -> list[dict]:
    """The published heads in an anchor file (or a JSON list exported from a SIEM)."""
    text = Path(path).read_text("utf-8")
    if text.lstrip().startswith("["):
        heads = json.loads(text)
    else:
        heads = [json.loads(line) for line in text.splitlines() if line.strip()]
    return [head for head in _checked(heads)]


def _checked(heads: object) -> Iterator[dict]:
    if not isinstance(heads, list):
        raise ValueError("an anchor file holds one JSON object per line, or a JSON list")
    for head in heads:
        if not isinstance(head, dict) or not isinstance(head.get("seq"), int) or not isinstance(head.get("entry_hash"), str):
            raise ValueError("every anchor needs an integer seq and an entry_hash")
        yield head
