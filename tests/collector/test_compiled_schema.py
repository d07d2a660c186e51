"""The compiled event check must never accept what contract.validate_event refuses, and must
accept ordinary valid events (or the fast path would be useless)."""
from __future__ import annotations

import copy
import random

import pytest

from shadowmap import contract
from shadowmap.collector.api.compiled_schema import UnsupportedSchema, compile_schema
from shadowmap.collector.api.ingest_parse import validate_event

CHECK = compile_schema(contract.event_schema())

# Replacement values tried at every position of a valid event.
ODD_VALUES = [None, True, False, 0, 1, 1.0, -1, 2.5, 10**7, "", "x", "A" * 300, "ZZ", [], [1], ["secret", "secret"],
              {}, {"a": 1}, "<script>", "2026-01-01", "not-a-uuid", "chatgpt", "CHATGPT", "pii", "block", "a\n"]


def jsonschema_accepts(event: object) -> bool:
    try:
        contract.validate_event(event)
    except contract.ContractError:
        return False
    return True


def paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from paths(value, prefix + (key,))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from paths(value, prefix + (index,))


def replaced(event, path, value):
    copied = copy.deepcopy(event)
    if not path:
        return value
    target = copied
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return copied


def removed(event, path):
    copied = copy.deepcopy(event)
    target = copied
    for step in path[:-1]:
        target = target[step]
    del target[path[-1]]
    return copied


def mutations(event):
    for path in paths(event):
        for value in ODD_VALUES:
            yield replaced(event, path, value)
        if path:
            yield removed(event, path)
            if isinstance(path[-1], str):  # an unexpected key beside this one
                yield replaced(event, path[:-1] + ("text",), "raw pasted text")


def valid_events(make) -> list[dict]:
    return [
        make.paste("dev-1"), make.heartbeat("dev-1"), make.observed("dev-1"),
        make.paste("dev-1", tool_id=None, action="warn",
                   findings=[make.finding("EMAIL_ADDRESS", "pii", 3), make.finding()]),
        make.observed("dev-1", data={"tool_id": "cursor", "source": "process", "process": "Cursor"}),
    ]


def test_accepts_valid_events(make):
    for event in valid_events(make):
        assert jsonschema_accepts(event)
        assert CHECK(event)


def test_never_looser_than_jsonschema(make):
    checked = 0
    for event in valid_events(make):
        for mutant in mutations(event):
            checked += 1
            if CHECK(mutant):
                assert jsonschema_accepts(mutant), mutant
            # stricter is allowed: whatever it refuses, jsonschema has the last word
    assert checked > 1000
    # and validate_event (fast path + fallback) agrees with jsonschema everywhere
    rng = random.Random(7)
    for event in valid_events(make):
        for mutant in rng.sample(list(mutations(event)), 60):
            try:
                validate_event(mutant)
                ours = True
            except contract.ContractError:
                ours = False
            assert ours == jsonschema_accepts(mutant)


def test_unknown_keywords_refuse_to_compile():
    # keywords not reviewed to mean the same in jsonschema-rs and jsonschema, and values the
    # two compare differently (Python: 1 == True == 1.0)
    for schema_node in ({"type": "array", "prefixItems": [{"type": "string"}]},
                        {"type": "object", "unevaluatedProperties": False},
                        {"type": "object", "dependentRequired": {"a": ["b"]}},
                        {"type": "array", "items": [{"type": "string"}]},
                        {"const": 1}, {"enum": ["a", True]}):
        with pytest.raises(UnsupportedSchema):
            compile_schema(schema_node)
    with pytest.raises(UnsupportedSchema):
        compile_schema({"$ref": "https://example.com/other.json"})


def test_ref_siblings_still_apply():
    # draft-07 ignores keywords beside $ref; 2020-12 applies them: the fast path must too
    check = compile_schema({"$defs": {"s": {"type": "string"}},
                            "type": "object", "properties": {"name": {"$ref": "#/$defs/s", "maxLength": 3}}})
    assert check({"name": "abc"})
    assert not check({"name": "abcd"})
    assert not check({"name": 5})


def test_patterns_outside_the_shared_regex_dialect_refuse_to_compile():
    # lookarounds, \w (Unicode-dependent), Rust's class set operators, Python's {,n}
    for pattern in ("(?=a)b", "\\w+", "[a&&b]", "[a--b]", "a{,3}", "(?i)abc", "[[:alpha:]]", "\\bword"):
        with pytest.raises(UnsupportedSchema):
            compile_schema({"type": "string", "pattern": pattern})


def test_digits_are_ascii_digits_in_the_fast_check():
    # Python's \d takes other scripts' digits; the fast check refuses them, jsonschema decides
    check = compile_schema({"type": "string", "pattern": "^\\d{2}$"})
    assert check("42")
    assert not check("\u0664\u0662")  # Arabic-Indic 42
    assert not check("42\n")  # Python's $ would allow the newline


def test_unique_items_only_over_strings():
    assert compile_schema({"type": "array", "uniqueItems": True, "items": {"type": "string"}})(["a", "b"])
    with pytest.raises(UnsupportedSchema):  # [1, 1.0]: one duplicate for Python, two items for Rust
        compile_schema({"type": "array", "uniqueItems": True})
