"""Export a span of the record as a bundle an auditor can check offline, and check one.

A bundle is a zip with: ``entries.jsonl`` (one entry per line, seq order, each with its
detail unless retention purged it), ``checkpoints.json`` (signed retention checkpoints in
the span), ``public_key.pem``, ``manifest.json`` (span, anchor = the entry_hash the first
entry chains from, head = the last entry_hash, count, sha256 of the two files above, key
fingerprint) and ``manifest.sig`` (Ed25519 over manifest.json's exact bytes)."""
from __future__ import annotations

import hashlib
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from shadowmap.collector.private_files import open_private
from shadowmap.collector.record import chain, keys
from shadowmap.collector.record.chain import utc_now
from shadowmap.collector.store.sqlite import record as record_store

if TYPE_CHECKING:
    import sqlite_utils
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

FORMAT = "shadowmap.record-bundle/1"
ENTRY_FIELDS = ("seq", "ts", "kind", "subject", "actor", "detail_hash", "entry_hash", "detail", "purged")


@dataclass
class ExportSummary:
    path: Path
    first_seq: int
    last_seq: int
    count: int
    head_hash: str


@dataclass
class Verdict:
    ok: bool
    checked: int
    broken_seq: int | None = None
    reason: str = "ok"

    def describe(self) -> str:
        if self.ok:
            return f"OK: {self.checked} entries verified"
        where = f"entry {self.broken_seq}" if self.broken_seq is not None else "bundle"
        return f"BROKEN at {where}: {self.reason}"


def export(db: sqlite_utils.Database, start: str, end: str, out: Path, key: Ed25519PrivateKey) -> ExportSummary:
    """Reader fn: write the bundle for entries with start <= ts < end (UTC ISO strings)."""
    first, last = chain.span(db, start, end)
    anchor = chain.hash_before(db, first)
    lines: list[str] = []
    head_hash = anchor
    for entry in chain.entries(db, first, last):
        lines.append(chain.canonical({name: entry[name] for name in ENTRY_FIELDS}))
        head_hash = entry["entry_hash"]
    entries_bytes = ("\n".join(lines) + "\n").encode() if lines else b""
    checkpoints = record_store.checkpoints(db, first, last)
    checkpoints_bytes = chain.canonical(checkpoints).encode()
    manifest = {
        "format": FORMAT, "created_at": utc_now(), "from": start, "to": end,
        "first_seq": first, "last_seq": last, "count": len(lines), "anchor_hash": anchor, "head_hash": head_hash,
        "entries_sha256": hashlib.sha256(entries_bytes).hexdigest(),
        "checkpoints_sha256": hashlib.sha256(checkpoints_bytes).hexdigest(),
        "public_key_sha256": keys.fingerprint(key),
    }
    manifest_bytes = json.dumps(manifest, indent=2, sort_keys=True).encode()
    out = Path(out)
    partial = out.with_name(out.name + ".partial")
    with open_private(partial) as raw, zipfile.ZipFile(raw, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        bundle.writestr("entries.jsonl", entries_bytes)
        bundle.writestr("checkpoints.json", checkpoints_bytes)
        bundle.writestr("public_key.pem", keys.public_pem(key))
        bundle.writestr("manifest.json", manifest_bytes)
        bundle.writestr("manifest.sig", keys.sign(key, manifest_bytes))
    partial.replace(out)
    return ExportSummary(out, first, last, len(lines), head_hash)


def checkpoint_payload(checkpoint: dict) -> bytes:
    """What a checkpoint's signature covers."""
    return chain.canonical({name: checkpoint[name] for name in
                            ("seq", "entry_hash", "created_at", "reason", "purged_before", "purged_events")}).encode()


def verify(path: Path, pinned_fingerprint: str | None = None) -> Verdict:
    """Check a bundle offline; name the first entry that breaks the chain."""
    try:
        return _verify(Path(path), pinned_fingerprint)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        return Verdict(False, 0, None, f"malformed bundle: {type(exc).__name__}: {str(exc)[:100]}")


def _verify(path: Path, pinned_fingerprint: str | None) -> Verdict:
    try:
        with zipfile.ZipFile(path) as bundle:
            files = {name: bundle.read(name) for name in
                     ("entries.jsonl", "checkpoints.json", "public_key.pem", "manifest.json", "manifest.sig")}
    except (OSError, zipfile.BadZipFile, KeyError) as exc:
        return Verdict(False, 0, None, f"not a readable bundle: {exc}")
    try:
        public = keys.load_public_pem(files["public_key.pem"])
        manifest = json.loads(files["manifest.json"])
    except ValueError as exc:
        return Verdict(False, 0, None, f"bad public key or manifest: {exc}")
    if pinned_fingerprint and keys.fingerprint(public) != pinned_fingerprint.lower():
        return Verdict(False, 0, None, "the bundle is signed by a key other than the pinned one")
    if not keys.signature_valid(public, files["manifest.json"], files["manifest.sig"].decode("ascii", "replace")):
        return Verdict(False, 0, None, "the manifest signature is invalid")
    if hashlib.sha256(files["checkpoints.json"]).hexdigest() != manifest["checkpoints_sha256"]:
        return Verdict(False, 0, None, "checkpoints.json differs from the signed manifest")
    checkpoints = json.loads(files["checkpoints.json"])
    hashes_at: dict[int, str | None] = {checkpoint["seq"]: None for checkpoint in checkpoints}
    verdict = _verify_entries(files["entries.jsonl"], manifest, hashes_at)
    if not verdict.ok:
        return verdict
    if hashlib.sha256(files["entries.jsonl"]).hexdigest() != manifest["entries_sha256"]:
        return Verdict(False, verdict.checked, None, "entries.jsonl differs from the signed manifest")
    for checkpoint in checkpoints:
        if not keys.signature_valid(public, checkpoint_payload(checkpoint), checkpoint["signature"]):
            return Verdict(False, verdict.checked, checkpoint["seq"], "the retention checkpoint's signature is invalid")
        if hashes_at.get(checkpoint["seq"]) != checkpoint["entry_hash"]:
            return Verdict(False, verdict.checked, checkpoint["seq"], "the entry differs from its signed checkpoint")
    return verdict


def _verify_entries(data: bytes, manifest: dict, hashes_at: dict[int, str | None]) -> Verdict:
    prev, seq, checked = manifest["anchor_hash"], manifest["first_seq"] - 1, 0
    for line in data.decode("utf-8", "replace").splitlines():
        seq += 1
        try:
            entry = json.loads(line)
            if not isinstance(entry, dict) or any(name not in entry for name in ENTRY_FIELDS):
                raise ValueError("fields missing")
        except ValueError:
            return Verdict(False, checked, seq, "the entry is not a well-formed record entry")
        if entry["seq"] != seq:
            return Verdict(False, checked, seq, f"expected entry {seq} here, found {entry['seq']!r}")
        try:
            problem = chain.check_entry(entry, prev)
        except (TypeError, AttributeError):
            problem = "the entry's fields have the wrong types"
        if problem:
            return Verdict(False, checked, seq, problem)
        prev, checked = entry["entry_hash"], checked + 1
        if seq in hashes_at:
            hashes_at[seq] = prev
    if checked != manifest["count"] or prev != manifest["head_hash"]:
        return Verdict(False, checked, seq + 1 if checked < manifest["count"] else None,
                       "entries are missing from the end of the bundle" if checked < manifest["count"]
                       else "the last entry is not the signed head of the chain")
    return Verdict(True, checked)
