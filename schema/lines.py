"""The one rule for hashing a line of code, so that the agent (lines an AI coding session wrote)
and CI (lines a pull request adds) hash alike and the collector can match them without either
sending code. Matching is by content, not by commit, so squash and rebase do not lose it.

A line is normalised by trimming surrounding whitespace; blank lines and lines shorter than
MIN_CHARS after trimming (a lone brace, `end`, `*/`) are not hashed, since they say nothing
about who wrote them. The hash is HMAC-SHA256 under the line key, truncated to 128 bits: the
line key is derived from the organisation's key for this purpose only, so CI can be given it
without being given the key that protects the other hashes.

Standard library only: the contract is imported by the native host too."""
from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Iterator

MIN_CHARS = 4
HASH_HEX_CHARS = 32
_LINE_KEY_LABEL = b"shadowmap line provenance v1"


def line_key(org_key: bytes) -> bytes:
    """The key lines are hashed under, derived from the organisation's key."""
    if not org_key:
        raise ValueError("org_key must be non-empty bytes")
    return hmac.new(bytes(org_key), _LINE_KEY_LABEL, hashlib.sha256).digest()


def normalise(line: str) -> str | None:
    """The line as it is hashed, or None when it is not hashed at all."""
    text = line.strip()
    return text if len(text) >= MIN_CHARS else None


def line_hash(key: bytes, line: str) -> str | None:
    text = normalise(line)
    if text is None:
        return None
    return hmac.new(key, text.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()[:HASH_HEX_CHARS]


def hashes(key: bytes, lines: Iterable[str]) -> Iterator[str]:
    """The hashes of the lines that are hashed, in order."""
    for line in lines:
        digest = line_hash(key, line)
        if digest is not None:
            yield digest
