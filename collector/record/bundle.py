"""Export a span of the record as a bundle an auditor can check offline, and check one.

A bundle is a zip with: ``entries.jsonl`` (one entry per line, seq order, each with its
detail unless retention purged it), ``checkpoints.json`` (signed retention checkpoints from
the span's first entry on: a later one is what allowed a purge inside the span),
``public_key.pem``, ``manifest.json`` (span, anchor = the entry_hash the first entry chains
from, head = the last entry_hash, count, sha256 of the two files above, key fingerprint) and
``manifest.sig`` (Ed25519 over manifest.json's exact bytes).

Verifying needs a trusted key (a pinned fingerprint or a trusted-keys file): anyone can make
a bundle that verifies under its own key. A missing detail is accepted only as retention's
(chain.PurgeRules). Published chain heads (anchors.py), kept where the collector cannot
rewrite them, catch a tail rewritten and re-signed with the collector's own key."""
from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from shadowmap.collector.private_files import open_private
from shadowmap.collector.record import chain, keys
from shadowmap.collector.record.chain import utc_now
from shadowmap.collector.store.sqlite import record as record_store

if TYPE_CHECKING:
    import sqlite_utils
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

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
    checkpoints = record_store.checkpoints(db, first, chain.head(db)[0])
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


def verify(path: Path, pinned_fingerprint: str | None = None, trusted: Iterable[str] = (),
           published: Iterable[dict] | None = None, min_retention_days: int = 0) -> Verdict:
    """Check a bundle offline; name the first entry that breaks the chain. The signing key
    must be ``pinned_fingerprint`` or one of ``trusted`` (fingerprints); ``published``: chain
    heads published outside the collector (anchors.read_anchors), each of which the bundle
    must agree with; ``min_retention_days``: the shortest retention an auditor accepts."""
    try:
        verdict = _verify(Path(path), pinned_fingerprint, {f.lower() for f in trusted}, min_retention_days)
        if verdict.ok and published is not None:
            verdict = _check_published(Path(path), verdict, published)
        return verdict
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        return Verdict(False, 0, None, f"malformed bundle: {type(exc).__name__}: {str(exc)[:100]}")


def _check_published(path: Path, verdict: Verdict, published: Iterable[dict]) -> Verdict:
    """Every published head inside the bundle's span must be the bundle's entry at that seq."""
    with zipfile.ZipFile(path) as bundle:
        hashes = {int(entry["seq"]): entry["entry_hash"]
                  for entry in map(json.loads, bundle.read("entries.jsonl").decode("utf-8").splitlines())}
    for head in published:
        seq = int(head["seq"])
        if seq in hashes and hashes[seq] != head["entry_hash"]:
            return Verdict(False, verdict.checked, seq, f"differs from the chain head published at {head.get('published_at')}"
                                                          " (the record was rewritten after it was published)")
    return verdict


def _verify(path: Path, pinned_fingerprint: str | None, trusted: set[str], min_retention_days: int) -> Verdict:
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
    untrusted = _key_problem(keys.fingerprint(public), pinned_fingerprint, trusted)
    if untrusted:
        return Verdict(False, 0, None, untrusted)
    if not keys.signature_valid(public, files["manifest.json"], files["manifest.sig"].decode("ascii", "replace")):
        return Verdict(False, 0, None, "the manifest signature is invalid")
    if hashlib.sha256(files["checkpoints.json"]).hexdigest() != manifest["checkpoints_sha256"]:
        return Verdict(False, 0, None, "checkpoints.json differs from the signed manifest")
    checkpoints = json.loads(files["checkpoints.json"])
    refused = _checkpoints_problem(public, checkpoints, min_retention_days)   # first: they vouch for purges
    if refused:
        return refused
    in_span = [checkpoint for checkpoint in checkpoints if checkpoint["seq"] <= manifest["last_seq"]]
    hashes_at: dict[int, str | None] = {checkpoint["seq"]: None for checkpoint in in_span}
    verdict = _verify_entries(files["entries.jsonl"], manifest, hashes_at, chain.PurgeRules(checkpoints))
    if not verdict.ok:
        return verdict
    if hashlib.sha256(files["entries.jsonl"]).hexdigest() != manifest["entries_sha256"]:
        return Verdict(False, verdict.checked, None, "entries.jsonl differs from the signed manifest")
    for checkpoint in in_span:
        if hashes_at.get(checkpoint["seq"]) != checkpoint["entry_hash"]:
            return Verdict(False, verdict.checked, checkpoint["seq"], "the entry differs from its signed checkpoint")
    return verdict


def _checkpoints_problem(public: Ed25519PublicKey, checkpoints: list[dict], min_retention_days: int) -> Verdict | None:
    for checkpoint in checkpoints:
        if not keys.signature_valid(public, checkpoint_payload(checkpoint), checkpoint["signature"]):
            return Verdict(False, 0, checkpoint["seq"], "the retention checkpoint's signature is invalid")
        problem = _retention_problem(checkpoint, min_retention_days)
        if problem:
            return Verdict(False, 0, checkpoint["seq"], problem)
    return None


def _key_problem(fingerprint: str, pinned: str | None, trusted: set[str]) -> str | None:
    if not pinned and not trusted:
        return ("no trusted key: pin the signing key (--key-sha256) or give a trusted-keys file;"
                " a bundle re-signed with any key would verify otherwise")
    if pinned and fingerprint != pinned.lower():
        return "the bundle is signed by a key other than the pinned one"
    if not pinned and fingerprint not in trusted:
        return "the bundle is signed by a key that is not in the trusted keys"
    return None


def _retention_problem(checkpoint: dict, min_retention_days: int) -> str | None:
    """A retention checkpoint may only purge what is older than the retention it was made
    under, and at least the auditor's minimum."""
    if checkpoint.get("reason") != "retention" or not checkpoint.get("purged_before"):
        return None
    kept = chain.moment(checkpoint["created_at"]) - chain.moment(checkpoint["purged_before"])
    if kept.total_seconds() < 0:
        return "the retention checkpoint purged events received after it was made"
    if kept.days < min_retention_days:
        return f"the retention checkpoint kept events {kept.days} days, under the {min_retention_days} required"
    return None


def _verify_entries(data: bytes, manifest: dict, hashes_at: dict[int, str | None], rules: chain.PurgeRules) -> Verdict:
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
            if problem is None and (entry["detail"] is None or entry["purged"]):
                problem = rules.why_missing(entry)
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
