"""Secret types declared as data: detectors/data/secret_formats.yaml holds one entry per
vendor format (its shape, the words or prefixes that find it, the source of the format),
and this module turns each entry into a recognizer class the registry finds like any other.

Two kinds of format:
- a *token* identifies itself by a fixed prefix or marker (``AGE-SECRET-KEY-1``, ``dop_v1_``):
  the value alone is the finding, with word boundaries around it;
- a *named* value is only known by the vendor word beside it (``algoliaToken = "…"``): the
  word, the rest of its identifier in any naming style (snake, camel, kebab, upper, quoted
  keys), an assignment in any of the usual syntaxes, then a value of the vendor's shape.

Both are gated like the hand-written recognizers: the value must look random (entropy,
distinct characters) and carry no placeholder marker.
"""
from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, ClassVar

import regex as re
import yaml

from shadowmap.detectors.recognizers.base import SecretRecognizer
from shadowmap.detectors.recognizers.secrets.rules import entropy_floor, is_placeholder, shannon_entropy

FORMATS_FILE = Path(__file__).resolve().parents[2] / "data" / "secret_formats.yaml"
TOKEN_SCORE = 0.9
# Above the generic assignment recognizers (0.7 / 0.75): the vendor's name wins an overlap.
NAMED_SCORE = 0.8
_KINDS = ("token", "named")
# Bits per character a value must reach by default. A token's prefix already says what it
# is (19 random hex characters can score 2.8); a named value has only its vendor word.
DEFAULT_ENTROPY = {"token": 2.5, "named": 2.8}
_FIELDS = {"id", "entity_type", "reason", "kind", "keywords", "value", "source", "min_entropy"}
_REQUIRED = _FIELDS - {"min_entropy"}
_ENTITY_TYPE = re.compile(r"^[A-Z][A-Z0-9_]{2,60}$")
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# What may follow the vendor word before the value, covering the syntaxes of config files
# and code: the rest of the identifier (algoliaToken, ALGOLIA_API_KEY, algolia-key,
# config.algolia.key); a closing quote, plain or escaped (JSON inside a string); up to two
# words of a type, attribute or label (Go's ``string``, XML's ``value``, "airtable token 1");
# the operator (= := ::= ?= += .= => : , ( and > for an XML element, and " - " before a quoted
# value as in notes: "twilio token - '…'"); a YAML block scalar or a line break; an opening quote.
# Or, as in notes and prose, only a blank ("aha.io <key>", "Your API2CART key is <key>"):
# TruffleHog finds a value near its vendor word with no operator at all. There the word must
# end where it is written ("discordant" is not "discord"), and the value must still have the
# vendor's exact shape.
_IDENTIFIER_REST = r"[\w.\-]{0,30}?"
_CLOSE_QUOTE = r"(?:\\?[\"'`])?"
_TYPE_WORD = r"(?:[ \t]{1,3}[A-Za-z][A-Za-z0-9]{0,11}){0,2}"
_OPERATOR = r"[ \t]{0,3}(?:=>|:{1,3}=|[.+?]?=(?!=)|:|,|\(|>|-(?=[ \t]{1,3}[\"'`]))"
_NAME_THEN_OPERATOR = rf"{_IDENTIFIER_REST}{_CLOSE_QUOTE}{_TYPE_WORD}{_OPERATOR}"
_WORD_THEN_BLANK = rf"(?![A-Za-z])(?:[.\-_][\w.\-]{{0,29}}?)?{_TYPE_WORD}[ \t](?=[ \t]{{0,2}}[^\s=:])"
_BEFORE_VALUE = r"[ \t]{0,5}(?:[|>][\-+]?[ \t]*\r?\n[ \t]{0,12}|\r?\n[ \t]{0,12})?(?:\\?[\"'`])?"
# The value ends at a quote, blank, separator, tag, a slash (a key/id pair) or the line's end.
_VALUE_END = r"(?=\\?[\"'`\s;,)<\\/]|$)"


class FormatRecognizer(SecretRecognizer):
    """One entry of secret_formats.yaml; subclasses are made from the data below."""

    format_id: ClassVar[str] = ""
    source: ClassVar[str] = ""
    fixed_prefixes: ClassVar[tuple[str, ...]] = ()
    min_entropy: ClassVar[float] = 3.0
    min_distinct: ClassVar[int] = 6

    def is_valid(self, value: str) -> bool:
        random_part = value
        for prefix in self.fixed_prefixes:
            if value.startswith(prefix):
                random_part = value[len(prefix):]
                break
        return (not is_placeholder(random_part, self.min_distinct, keyboard_runs=False)
                and shannon_entropy(random_part) >= entropy_floor(random_part, self.min_entropy))


def _longest_first(words: list[str]) -> str:
    """The words as a regex alternation, longest first (an alternation takes the first that matches)."""
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


def named_pattern(words: list[str], value: str) -> str:
    """The regex for a value named by one of ``words``: the word must start an identifier
    part, after a separator or at a camelCase hump ("prodAlgoliaKey"; not "betsy" or "BETSY"
    for "etsy"), any case; the value is the group named "value"."""
    alternation = _longest_first(words)
    return (rf"(?:(?<![A-Za-z])|(?<=[a-z])(?=[A-Z]))(?i:{alternation})(?:{_NAME_THEN_OPERATOR}|{_WORD_THEN_BLANK}){_BEFORE_VALUE}"
            rf"(?P<value>(?i:{value})){_VALUE_END}")


def flag_pattern(words: list[str], value: str) -> str:
    """The regex for a value passed as a long command-line option named by one of ``words``,
    separated by blanks: ``--softlayer-api-key "…"``, ``--algolia-key …``."""
    alternation = _longest_first(words)
    return (rf"(?<=--)(?i:{alternation})[\w\-]{{0,30}}[ \t]{{1,3}}(?:\\?[\"'`])?"
            rf"(?P<value>(?i:{value})){_VALUE_END}")


def token_pattern(value: str) -> str:
    return rf"(?<![\w])(?P<value>{value})(?![\w])"


class SecretFormatError(ValueError):
    """secret_formats.yaml is malformed: a field is missing or wrong, a regex does not compile."""


def _check(entry: Any, position: int) -> dict:
    if not isinstance(entry, dict):
        raise SecretFormatError(f"entry {position}: not a mapping")
    missing, unknown = _REQUIRED - entry.keys(), entry.keys() - _FIELDS
    if missing or unknown:
        raise SecretFormatError(f"entry {position} ({entry.get('id')}): missing {sorted(missing)}, unknown {sorted(unknown)}")
    if entry["kind"] not in _KINDS:
        raise SecretFormatError(f"{entry['id']}: kind must be one of {_KINDS}")
    if not _ENTITY_TYPE.match(str(entry["entity_type"])):
        raise SecretFormatError(f"{entry['id']}: entity_type {entry['entity_type']!r} is not UPPER_SNAKE")
    if not entry["keywords"] or not all(isinstance(k, str) and k for k in entry["keywords"]):
        raise SecretFormatError(f"{entry['id']}: keywords must be non-empty strings")
    if not str(entry["source"]).strip():
        raise SecretFormatError(f"{entry['id']}: a format needs its source")
    try:
        re.compile(entry["value"])
    except re.error as error:
        raise SecretFormatError(f"{entry['id']}: value is not a regex: {error}") from None
    return entry


def _class_name(entity_type: str) -> str:
    return "".join(part.capitalize() for part in entity_type.split("_")) + "FormatRecognizer"


def _make_class(entry: dict) -> type[FormatRecognizer]:
    named = entry["kind"] == "named"
    attributes = {
        "entity_type": entry["entity_type"],
        "reason": entry["reason"],
        "format_id": entry["id"],
        "source": entry["source"],
        "patterns": (((named_pattern(entry["keywords"], entry["value"]), NAMED_SCORE),
                      (flag_pattern(entry["keywords"], entry["value"]), NAMED_SCORE)) if named
                     else ((token_pattern(entry["value"]), TOKEN_SCORE),)),
        # A vendor word is found in any case ("launchDarklyKey"); a token's marker as written.
        "keywords": tuple(dict.fromkeys(k.lower() for k in entry["keywords"])) if named else tuple(entry["keywords"]),
        "keywords_fold_case": named,
        "fixed_prefixes": () if named else tuple(sorted(entry["keywords"], key=len, reverse=True)),
        "min_entropy": float(entry.get("min_entropy", DEFAULT_ENTROPY[entry["kind"]])),
        # A named match starts at the vendor word; a token at (or a little before) its marker.
        "reach_before": 8 if named else 64,
        "__module__": __name__,
    }
    return type(_class_name(entry["entity_type"]), (FormatRecognizer,), attributes)


@functools.cache
def format_classes(path: Path = FORMATS_FILE) -> tuple[type[FormatRecognizer], ...]:
    """One recognizer class per entry of the formats file, in file order."""
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER)
    if not isinstance(data, list):
        raise SecretFormatError(f"{path}: a list of formats is expected")
    entries = [_check(entry, n) for n, entry in enumerate(data)]
    types = [e["entity_type"] for e in entries]
    duplicates = sorted({t for t in types if types.count(t) > 1})
    if duplicates:
        raise SecretFormatError(f"{path}: entity types declared twice: {duplicates}")
    return tuple(_make_class(entry) for entry in entries)


# Made at import so the registry, which walks SecretRecognizer's subclasses, finds them.
FORMAT_CLASSES = format_classes()
