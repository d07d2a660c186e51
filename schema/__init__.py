"""The contracts both ends validate against: events (agent before spooling, collector on
ingest) and the AI acceptable-use policy. One definition each, as JSON Schema files here.

Events: `events.v1.json` is the envelope and the shared `$defs`; each event type's `data`
is one file `events/<type>.json`. Adding a type is adding a file: `event_schema()`
assembles the whole contract from them, so no list of types is kept anywhere else.
"""
from __future__ import annotations

import copy
import json
from functools import cache, lru_cache
from importlib import resources
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import jsonschema

EVENT_SCHEMA_ID = "shadowmap.event/1"


class ContractError(ValueError):
    """An object does not satisfy a contract; the message names the offending field."""


@cache
def load(name: str) -> dict:
    """Load a bundled schema by relative file name (e.g. ``policy.v1.json``)."""
    return json.loads(resources.files(__name__).joinpath(name).read_text("utf-8"))


def event_types() -> list[str]:
    folder = resources.files(__name__).joinpath("events")
    return sorted(f.name[: -len(".json")] for f in folder.iterdir() if f.name.endswith(".json"))


@cache
def _event_schema() -> dict:
    assembled = copy.deepcopy(load("events.v1.json"))
    types = event_types()
    assembled["properties"]["type"] = {"enum": types}
    assembled["allOf"] = []
    for name in types:
        key = "event_" + name.replace(".", "_")
        assembled["$defs"][key] = load(f"events/{name}.json")
        assembled["allOf"].append({
            "if": {"properties": {"type": {"const": name}}},
            "then": {"properties": {"data": {"$ref": f"#/$defs/{key}"}}},
        })
    return assembled


def event_schema() -> dict:
    """The whole event contract as one JSON Schema document (a fresh copy)."""
    return copy.deepcopy(_event_schema())


@cache
def _validator(name: str) -> jsonschema.protocols.Validator:
    import jsonschema  # here, not at the top: the native host reads this package without it

    document = _event_schema() if name == "events" else load(name)
    cls = jsonschema.validators.validator_for(document)
    cls.check_schema(document)
    return cls(document, format_checker=None)


def _check(name: str, obj: object) -> None:
    import jsonschema

    error = jsonschema.exceptions.best_match(_validator(name).iter_errors(obj))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "(top level)"
        raise ContractError(f"{where}: {error.message[:300]}")


def validate_event(event: object) -> None:
    """Raise ContractError unless ``event`` is a valid version-1 event."""
    _check("events", event)


def default_policy() -> dict:
    """The policy a new collector starts with and an agent applies until it has pulled one:
    block secrets and card data everywhere, warn on personal and production data."""
    return copy.deepcopy(load("policy.default.json"))


def validate_policy(policy: object) -> None:
    """Raise ContractError unless ``policy`` is a valid version-1 policy."""
    _check("policy.v1.json", policy)
