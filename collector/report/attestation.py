"""The report's attestation: when it was generated, the record's chain head at that moment
(sequence and entry hash) and an Ed25519 signature by the record's key over the report's
canonical JSON, so a printed or exported report can be tied to the record and checked
(`verify`) by whoever holds the record's public key."""
from __future__ import annotations

import copy
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from shadowmap.collector.record import keys
from shadowmap.collector.record.chain import canonical

ALGORITHM = "Ed25519 over the canonical JSON of the report without attestation.signature"


def _payload(report: dict[str, Any]) -> bytes:
    unsigned = copy.deepcopy(report)
    unsigned.get("attestation", {}).pop("signature", None)
    return canonical(unsigned).encode("utf-8")


def sign(report: dict[str, Any], key: Ed25519PrivateKey | None) -> dict[str, Any]:
    """Add the signature (and the key's fingerprint) to ``report["attestation"]``; without a
    key the report says it is unsigned."""
    attestation = report["attestation"]
    if key is None:
        attestation.update({"key_sha256": None, "algorithm": None, "signature": None})
        return report
    attestation.update({"key_sha256": keys.fingerprint(key), "algorithm": ALGORITHM})
    attestation["signature"] = keys.sign(key, _payload(report))
    return report


def verify(report: dict[str, Any], public: Ed25519PublicKey) -> bool:
    signature = report.get("attestation", {}).get("signature")
    return bool(signature) and keys.signature_valid(public, _payload(report), signature)
