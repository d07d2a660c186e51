"""Shared rules for the secret recognizers: entropy, placeholders, checksums, and the
``TokenRecognizer`` base that turns them into class data.

A recognizer here is declared, not programmed: prefix/pattern, keywords, ``min_entropy``
and ``min_distinct`` on the random part, and at most a one-line ``check`` for a format's
own validator (a CRC, a JSON header, a base64 payload).
"""
from __future__ import annotations

import base64
import binascii
import json
import math
from collections import Counter
from typing import ClassVar

import regex as re

from shadowmap.detectors.recognizers.base import SecretRecognizer

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

# Seen in documentation, templates and masked logs; a random token of the lengths we match
# contains one of them with negligible probability (< 1e-4). The words and runs first, the
# template characters second: a value someone chose (a password) may hold a brace.
_STAND_IN_MARKS = r"example|xxxx|your|placeholder|redacted|dummy|changeme|sample|\*\*\*|\.\.\."
# Keyboard runs: a hand-typed test value, or a weak password. Only a vendor's own format is
# evidence enough to report a value holding one (detect-secrets' fixtures are written so).
_KEYBOARD_RUNS = r"0123456789|123456789|abcdefgh|ABCDEFGH|qwerty"
_PLACEHOLDER_WORDS = _STAND_IN_MARKS + "|" + _KEYBOARD_RUNS
_PLACEHOLDER_MARKERS = re.compile(_PLACEHOLDER_WORDS + r"|[<>{}]|\$\{", re.IGNORECASE)
_STAND_IN_MARKERS = re.compile(_STAND_IN_MARKS + r"|[<>{}]|\$\{", re.IGNORECASE)
PLACEHOLDER_WORDS = re.compile(_PLACEHOLDER_WORDS, re.IGNORECASE)
_STAND_IN_ONLY = re.compile(_STAND_IN_MARKS, re.IGNORECASE)
# 40 lower-case hex under a credential name is GitHub's classic and Enterprise token format
# (detect-secrets' GheDetector: github_enterprise.py takes it under key, pwd, password, pass,
# token, oauth, cred(s), credentials, auth), so such a value is judged as a vendor format is.
HEX40_TOKEN = re.compile(r"^[0-9a-f]{40}$")
# Entropy floors where the alphabet caps entropy: digits carry at most log2(10) = 3.3 bits per
# character and hex 4, so a gate set for mixed alphabets turns random values away. Measured by
# drawing random values (tests/detectors/secrets/test_formats.py, test_assignments.py): at 2.8
# bits, 26 % of 18-digit and 38 % of 16-digit ids; at 3.5, 90 % of 16-character and 54 % of
# 24-character hex. At 2.4 (digits) and 3.0 (hex, detect-secrets' hex limit) few are lost.
_DIGITS, _HEX = re.compile(r"^[0-9]+$"), re.compile(r"^(?:[0-9a-f]+|[0-9A-F]+)$")
DIGITS_ENTROPY, HEX_ENTROPY = 2.4, 3.0


def stand_in_marked(value: str) -> bool:
    """A published stand-in in ``value``; a keyboard run counts unless the value has a
    token format of its own (40 hex)."""
    words = _STAND_IN_ONLY if HEX40_TOKEN.match(value) else PLACEHOLDER_WORDS
    return words.search(value) is not None


def entropy_floor(value: str, min_entropy: float) -> float:
    """``min_entropy``, lowered for a value whose alphabet caps its entropy (digits, hex)."""
    if _DIGITS.match(value):
        return min(min_entropy, DIGITS_ENTROPY)
    return min(min_entropy, HEX_ENTROPY) if _HEX.match(value) else min_entropy


def shannon_entropy(value: str) -> float:
    """Bits per character of ``value``'s own character distribution."""
    if not value:
        return 0.0
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in Counter(value).values())


def is_placeholder(value: str, min_distinct: int = 6, keyboard_runs: bool = True) -> bool:
    """A mask, a template marker or a documented example rather than a random value; with
    ``keyboard_runs`` False, a value in a vendor's exact format may hold a keyboard run."""
    markers = _PLACEHOLDER_MARKERS if keyboard_runs else _STAND_IN_MARKERS
    return len(set(value)) < min_distinct or markers.search(value) is not None


def base62_crc32(data: str) -> str:
    """CRC32 of ``data`` as 6 base62 digits: the checksum GitHub and npm append to tokens."""
    n = binascii.crc32(data.encode("ascii"))
    digits = []
    for _ in range(6):
        n, r = divmod(n, 62)
        digits.append(BASE62[r])
    return "".join(reversed(digits))


def has_github_checksum(token: str) -> bool:
    """``<prefix>_<30 random><6 base62 CRC32 of the random part>`` (ghp_, gho_, npm_ ...)."""
    body = token.split("_", 1)[1]
    return len(body) == 36 and base62_crc32(body[:30]) == body[30:]


def b64decode_loose(data: str) -> bytes | None:
    """Standard or URL-safe base64 with or without padding; None when it is not base64."""
    data = data.replace("-", "+").replace("_", "/")
    try:
        return base64.b64decode(data + "=" * (-len(data) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None


def b64_json(data: str) -> dict | None:
    """The JSON object a base64 segment encodes (JWT headers, Sentry and 1Password tokens)."""
    raw = b64decode_loose(data)
    if raw is None:
        return None
    try:
        value = json.loads(raw)
    except (UnicodeDecodeError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def cases(*words: str) -> tuple[str, ...]:
    """Keywords are case-sensitive substrings: the spellings seen in config and code."""
    return tuple(dict.fromkeys(v for w in words for v in (w, w.lower(), w.upper(), w.capitalize())))


def assigned(name: str, value: str) -> str:
    """A regex for ``<...name...> = value`` in env files, YAML, JSON, code and CLI flags:
    ``name`` (case-insensitive) within an identifier, an optional closing quote, then
    ``=``, ``:``, ``:=`` (``::=``, ``:::=``), ``?=``, ``+=``, ``.=``, ``=>`` or ``->``, an optional opening quote, and ``value`` as the
    group named ``value``."""
    return (
        rf"(?i:{name})[\w.\-]{{0,30}}[\"'`]?\s{{0,3}}(?::{{1,3}}=|[.+?]=|=>|->|[=:])\s{{0,3}}[\"'`]?"
        rf"(?P<value>{value})"
    )


def passed_to(client: str, value: str) -> str:
    """A regex for an SDK client built with its key inline, ``Mistral(api_key="...")``,
    ``cohere.ClientV2(api_key='...')``: ``value`` is the group named ``value``."""
    return (
        rf"(?i:{client})[\w.]{{0,30}}\([^)\r\n]{{0,80}}?(?i:api_?key|token|auth_?token)\s{{0,2}}[=:]\s{{0,2}}"
        rf"[\"'](?P<value>{value})[\"']"
    )


class TokenRecognizer(SecretRecognizer):
    """A secret with a recognisable shape. ``prefix_chars`` characters of the value are
    fixed (not random); the rest must look random: at least ``min_distinct`` distinct
    characters, ``min_entropy`` bits per character, and no placeholder marker."""

    prefix_chars: ClassVar[int] = 0
    min_distinct: ClassVar[int] = 8
    min_entropy: ClassVar[float] = 3.0
    score: ClassVar[float] = 0.95

    def is_valid(self, value: str) -> bool:
        random_part = value[self.prefix_chars:]
        return (
            not is_placeholder(random_part, self.min_distinct)
            and shannon_entropy(random_part) >= self.min_entropy
            and self.check(value)
        )

    def check(self, value: str) -> bool:
        """The format's own validator (checksum, decodable payload); none by default."""
        return True
