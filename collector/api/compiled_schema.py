"""A fast path for event validation at ingest rates, run by jsonschema-rs (Rust).

jsonschema (Python) costs ~1 ms per event, far from the collector's ingest budget;
jsonschema-rs checks the bundled events.v1 schema (so it cannot drift from the contract)
natively in draft 2020-12, in about 2 µs. One rule is kept: the fast check may be stricter
than `schema.validate_event`, never looser. An event it accepts is valid; anything it
refuses is re-checked by `schema.validate_event`, which stays the authority and produces
the error message. The two implementations differ where a schema leaves room for it, so the
schema is first checked and, where needed, rewritten here:
  - only keywords reviewed to mean the same in both are allowed; any other keyword makes
    compilation fail, and ingest falls back to jsonschema;
  - const/enum must be strings (Python's 1 == True == 1.0 would make them looser);
  - uniqueItems only over strings (Python counts 1 and 1.0 as equal, Rust does not);
  - patterns only in a small regex dialect read alike by Python's `re` and the Rust engine;
    `\\d` becomes `[0-9]` (Python's `\\d` also takes other scripts' digits: stricter here);
  - $refs must be local (nothing is fetched); formats are not asserted (as in
    schema.validate_event)."""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import jsonschema_rs

Check = Callable[[Any], bool]

ANNOTATIONS = {"$schema", "$id", "title", "description", "format", "$comment", "default", "examples"}
REVIEWED_KEYWORDS = {
    "type", "const", "enum", "pattern", "minLength", "maxLength", "minimum", "maximum", "exclusiveMinimum",
    "exclusiveMaximum", "multipleOf", "items", "minItems", "maxItems", "uniqueItems", "contains", "required",
    "properties", "additionalProperties", "patternProperties", "propertyNames", "minProperties",
    "maxProperties", "allOf", "anyOf", "oneOf", "not", "if", "then", "else", "$ref", "$defs",
}
SCHEMA_VALUED = {"additionalProperties", "items", "contains", "propertyNames", "not", "if", "then", "else"}
SCHEMA_LISTS = {"allOf", "anyOf", "oneOf"}
SCHEMA_MAPS = {"properties", "patternProperties", "$defs"}

# The regex dialect both engines read alike: ASCII literals, escaped punctuation, \d, classes,
# groups (plain or (?:...)), alternation, greedy quantifiers, ^ and $ as anchors.
PATTERN_TOKEN = re.compile(r"\\d|\\[!-/:-@\[-`{-~]|\(\?:|\((?!\?)|[A-Za-z0-9 !\"#%&',\-/:;<=>@_`~]|[)|^$.*+?]"
                           r"|\{[0-9]+(?:,[0-9]*)?\}|\[\^?(?:\\d|\\[!-/:-@\[-`{-~]|[ -Z_-~])+\]")
# inside a class, Rust reads these as set operations (Python as literal characters)
CLASS_SET_OPERATORS = ("&&", "--", "~~")


class UnsupportedSchema(ValueError):
    """The schema uses a keyword or form this fast path cannot check faithfully."""


def _pattern(pattern: Any) -> str:
    """The pattern in the shared dialect, with \\d spelled [0-9]; UnsupportedSchema otherwise."""
    if not isinstance(pattern, str):
        raise UnsupportedSchema(f"pattern {pattern!r:.60}")
    out, position = [], 0
    while position < len(pattern):
        token = PATTERN_TOKEN.match(pattern, position)
        if token is None:
            raise UnsupportedSchema(f"pattern {pattern!r:.80} (at {position})")
        text = token.group()
        if text.startswith("["):
            if any(operator in text for operator in CLASS_SET_OPERATORS):
                raise UnsupportedSchema(f"pattern {pattern!r:.80} (class set operator)")
            text = text.replace("\\d", "0-9")
        elif text == "\\d":
            text = "[0-9]"
        out.append(text)
        position = token.end()
    return "".join(out)


def _is_string_schema(node: Any, defs: dict) -> bool:
    if isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#/$defs/"):
        node = defs.get(node["$ref"][len("#/$defs/"):])
    if not isinstance(node, dict):
        return False
    values = node.get("enum", [node["const"]] if "const" in node else None)
    return node.get("type") == "string" or (isinstance(values, list) and all(isinstance(v, str) for v in values))


def _rewrite(node: Any, defs: dict) -> Any:
    if isinstance(node, bool):
        return node
    if not isinstance(node, dict):
        raise UnsupportedSchema(f"schema node {node!r:.60}")
    out: dict[str, Any] = {}
    for keyword, value in node.items():
        if keyword in ANNOTATIONS:
            continue
        if keyword not in REVIEWED_KEYWORDS:
            raise UnsupportedSchema(f"keyword {keyword}")
        out[keyword] = _rewrite_keyword(node, keyword, value, defs)
    return out


def _rewrite_keyword(node: dict, keyword: str, value: Any, defs: dict) -> Any:
    """One reviewed keyword's value, rewritten (subschemas, patterns) or checked."""
    if keyword in SCHEMA_VALUED:
        if keyword == "items" and isinstance(value, list):
            raise UnsupportedSchema("array-form items")
        return _rewrite(value, defs)
    if keyword in SCHEMA_LISTS:
        return [_rewrite(item, defs) for item in value]
    if keyword in SCHEMA_MAPS:
        rewritten = {name: _rewrite(item, defs) for name, item in value.items()}
        return {_pattern(name): item for name, item in rewritten.items()} if keyword == "patternProperties" else rewritten
    if keyword in ("const", "enum"):
        if not all(isinstance(item, str) for item in (value if keyword == "enum" else [value])):
            raise UnsupportedSchema(f"non-string {keyword}")
    elif keyword == "$ref":
        if not isinstance(value, str) or not value.startswith("#/"):
            raise UnsupportedSchema(f"$ref {value!r:.80}")
    elif keyword == "pattern":
        return _pattern(value)
    elif keyword == "uniqueItems" and value is not False and not _is_string_schema(node.get("items"), defs):
        raise UnsupportedSchema("uniqueItems over items that may not be strings")
    return value


def _refuse_retrieval(uri: str) -> Any:
    raise UnsupportedSchema(f"remote $ref {uri:.80}")  # unreachable: only local $refs pass _rewrite


def compile_schema(root: dict) -> Check:
    """A function event -> bool that never accepts what ``root`` refuses."""
    defs = root.get("$defs", {}) if isinstance(root, dict) else {}
    rewritten = _rewrite(root, defs if isinstance(defs, dict) else {})
    if not isinstance(rewritten, dict):
        raise UnsupportedSchema("the root must be an object schema")
    try:
        validator = jsonschema_rs.Draft202012Validator(rewritten, validate_formats=False,
                                                       retriever=_refuse_retrieval)
    except (ValueError, jsonschema_rs.ValidationError, jsonschema_rs.ReferencingError) as exc:
        raise UnsupportedSchema(str(exc)[:200]) from None
    is_valid = validator.is_valid

    def check(event: Any) -> bool:
        try:
            return is_valid(event)
        except Exception:  # not convertible (a lone surrogate, a huge int): schema.validate_event decides
            return False

    return check
