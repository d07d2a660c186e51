"""Keyed hashes of matched values and the event-ready summary of findings.

A leaked value is never sent; its HMAC under the organisation's key is, so the same secret
pasted on two laptops correlates without anyone (the collector included) learning it.
Import-light: no Presidio here.
"""
from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

from shadowmap.detectors.scan_result import Finding
from shadowmap.detectors.severity import RANK as _SEVERITY_RANK

MAX_HASHES = 50           # events.v1 finding.hashes maxItems
MAX_REASON_CHARS = 200    # events.v1 finding.reason maxLength


class FindingLike(Protocol):
    """What is read of a finding (shadowmap.detectors.engine.Finding, frozen: read-only here)."""
    @property
    def entity_type(self) -> str: ...
    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...
    @property
    def score(self) -> float: ...
    @property
    def data_class(self) -> str: ...
    @property
    def reason(self) -> str: ...


# The engine's scan as its callers hold it, and summarize below: the agent's paste path and
# config scans take these
Scan = Callable[[str], Sequence[Finding]]
Summarize = Callable[[Sequence[FindingLike], str, bytes], list[dict[str, Any]]]


def keyed_hash(org_key: bytes, value: str) -> str:
    """HMAC-SHA256 (hex) of the stripped value under the org key."""
    if not isinstance(org_key, (bytes, bytearray)) or not org_key:
        raise ValueError("org_key must be non-empty bytes")
    return hmac.new(bytes(org_key), value.strip().encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()


def summarize(findings: Iterable[FindingLike], text: str, org_key: bytes) -> list[dict[str, Any]]:
    """One events.v1 ``finding`` dict per entity type, in order of first appearance:
    count, max score, distinct keyed hashes (at most 50), data class, reason, and the
    highest severity (when findings carry one; see shadowmap.detectors.severity). The matched
    values themselves are read from ``text`` only to hash them."""
    summary: dict[str, dict[str, Any]] = {}
    for finding in findings:
        item = summary.get(finding.entity_type)
        if item is None:
            item = summary[finding.entity_type] = {
                "entity_type": finding.entity_type,
                "data_class": finding.data_class,
                "count": 0,
                "score": 0.0,
                "hashes": [],
                "reason": (finding.reason or finding.entity_type)[:MAX_REASON_CHARS],
            }
        severity = getattr(finding, "severity", None)
        if severity in _SEVERITY_RANK and _SEVERITY_RANK[severity] > _SEVERITY_RANK.get(item.get("severity", ""), -1):
            item["severity"] = severity
        item["count"] += 1
        item["score"] = max(item["score"], round(min(max(float(finding.score), 0.0), 1.0), 4))
        if len(item["hashes"]) < MAX_HASHES:
            digest = keyed_hash(org_key, text[finding.start:finding.end])
            if digest not in item["hashes"]:
                item["hashes"].append(digest)
    return list(summary.values())
