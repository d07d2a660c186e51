"""A fast path for event validation at ingest rates.

jsonschema costs ~1 ms per event, far from the collector's ingest budget. This compiles
the bundled events.v1 schema itself (so it cannot drift from the contract) into plain
Python checks for the keywords that schema uses. It may be stricter than the schema,
never looser: an event it accepts is valid; anything it refuses is re-checked by
`schema.validate_event`, which stays the authority and produces the error message.
Any keyword it does not know makes compilation fail, and ingest falls back to jsonschema."""
from __future__ import annotations

import re
from typing import Any, Callable

Check = Callable[[Any], bool]

# Keywords that only annotate: they never change validity (format is not asserted by
# schema.validate_event, which validates with format_checker=None).
ANNOTATIONS = {"$schema", "$id", "title", "description", "$defs", "format", "$comment"}
JSON_TYPES: dict[str, Check] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


class UnsupportedSchema(ValueError):
    """The schema uses a keyword this compiler does not handle."""


def compile_schema(root: dict) -> Check:
    return _Compiler(root).compile(root)


def _all_of(checks: list[Check]) -> Check:
    if len(checks) == 1:
        return checks[0]

    def all_of(v: Any) -> bool:
        for check in checks:
            if not check(v):
                return False
        return True
    return all_of


def _any_of(checks: list[Check]) -> Check:
    if len(checks) == 1:
        return checks[0]

    def any_of(v: Any) -> bool:
        for check in checks:
            if check(v):
                return True
        return False
    return any_of


def _scalar_equal(a: Any, b: Any) -> bool:
    # Stricter than JSON equality (1 == 1.0 but type must match exactly): safe by design.
    return type(a) is type(b) and a == b


class _Compiler:
    def __init__(self, root: dict) -> None:
        self.root = root
        self.cache: dict[str, Check] = {}

    def compile(self, node: Any) -> Check:
        if node is True or node == {}:
            return lambda v: True
        if node is False:
            return lambda v: False
        if not isinstance(node, dict):
            raise UnsupportedSchema(f"schema node {node!r}")
        checks: list[Check] = []
        for keyword, value in node.items():
            if keyword in ANNOTATIONS or keyword in ("then", "properties", "additionalProperties"):
                continue
            method = getattr(self, "_kw_" + keyword.replace("$", "dollar_"), None)
            if method is None:
                raise UnsupportedSchema(f"keyword {keyword}")
            checks.append(method(value, node))
        if "properties" in node or "additionalProperties" in node:
            checks.append(self._properties(node))
        if "then" in node and "if" not in node:
            raise UnsupportedSchema("then without if")
        return _all_of(checks)

    def _kw_dollar_ref(self, ref: str, node: dict) -> Check:
        if not ref.startswith("#/"):
            raise UnsupportedSchema(f"$ref {ref}")
        if ref not in self.cache:
            target: Any = self.root
            for part in ref[2:].split("/"):
                target = target[part]
            self.cache[ref] = self.compile(target)
        return self.cache[ref]

    def _kw_type(self, value: str | list[str], node: dict) -> Check:
        checks = [JSON_TYPES[name] for name in ([value] if isinstance(value, str) else value)]
        return _any_of(checks)

    def _kw_const(self, value: Any, node: dict) -> Check:
        if isinstance(value, (dict, list)):
            raise UnsupportedSchema("non-scalar const")
        return lambda v: _scalar_equal(v, value)

    def _kw_enum(self, values: list, node: dict) -> Check:
        if any(isinstance(value, (dict, list)) for value in values):
            raise UnsupportedSchema("non-scalar enum")
        allowed = {(type(value), value) for value in values}
        return lambda v: isinstance(v, (str, int, float, bool, type(None))) and (type(v), v) in allowed

    def _kw_pattern(self, pattern: str, node: dict) -> Check:
        regex = re.compile(pattern)
        return lambda v: not isinstance(v, str) or regex.search(v) is not None

    def _kw_minLength(self, n: int, node: dict) -> Check:
        return lambda v: not isinstance(v, str) or len(v) >= n

    def _kw_maxLength(self, n: int, node: dict) -> Check:
        return lambda v: not isinstance(v, str) or len(v) <= n

    def _kw_minimum(self, n: float, node: dict) -> Check:
        return lambda v: not JSON_TYPES["number"](v) or v >= n

    def _kw_maximum(self, n: float, node: dict) -> Check:
        return lambda v: not JSON_TYPES["number"](v) or v <= n

    def _kw_maxItems(self, n: int, node: dict) -> Check:
        return lambda v: not isinstance(v, list) or len(v) <= n

    def _kw_uniqueItems(self, flag: bool, node: dict) -> Check:
        def unique(v: Any) -> bool:
            if not flag or not isinstance(v, list):
                return True
            # Scalars only on the fast path; anything else goes to jsonschema.
            if not all(isinstance(item, (str, int, float)) and not isinstance(item, bool) for item in v):
                return False
            return len({(type(item), item) for item in v}) == len(v)
        return unique

    def _kw_items(self, schema: Any, node: dict) -> Check:
        check = self.compile(schema)
        return lambda v: not isinstance(v, list) or all(check(item) for item in v)

    def _kw_required(self, names: list[str], node: dict) -> Check:
        return lambda v: not isinstance(v, dict) or all(name in v for name in names)

    def _kw_allOf(self, schemas: list, node: dict) -> Check:
        return _all_of([self.compile(schema) for schema in schemas])

    def _kw_anyOf(self, schemas: list, node: dict) -> Check:
        return _any_of([self.compile(schema) for schema in schemas])

    def _kw_if(self, condition: Any, node: dict) -> Check:
        if "else" in node:
            raise UnsupportedSchema("else")
        test, then = self.compile(condition), self.compile(node.get("then", True))
        return lambda v: not test(v) or then(v)

    def _properties(self, node: dict) -> Check:
        properties = {name: self.compile(schema) for name, schema in node.get("properties", {}).items()}
        additional = node.get("additionalProperties", True)
        if additional not in (True, False):
            raise UnsupportedSchema("additionalProperties schema")

        def check(v: Any) -> bool:
            if not isinstance(v, dict):
                return True
            for name, value in v.items():
                prop = properties.get(name)
                if prop is None:
                    if additional is False:
                        return False
                elif not prop(value):
                    return False
            return True
        return check
