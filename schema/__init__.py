"""The contracts both ends validate against: events (agent before spooling, collector on
ingest) and the AI acceptable-use policy. One definition each, as JSON Schema files here.

Events: `events.v1.json` is the envelope and the shared `$defs`; each event type's `data`
is one file `events/<type>.json`. Adding a type is adding a file: `event_schema()`
assembles the whole contract from them, so no list of types is kept anywhere else.

Enumerations shared by two ends (severities, data classes, actions, channels...) live once
in `enums.v1.json` (read from Python as `shadowmap.contract.enums`); the other schemas
refer to them as `enums.v1.json#/$defs/<name>`, and `load()` inlines those references as
local ones, so every document it returns is self-contained (nothing to fetch or resolve).

The native host <-> agent messages are `ipc.v1.json` (validate_ipc_request/_reply); the
facts of the laptop install (host name, extension ids, agent addresses, browser places,
shared limits) are `host.v1.json`, read as `shadowmap.contract.host`. The package is
stdlib-only at import: the native host loads it without site-packages (jsonschema is
imported inside the functions that validate).
"""
from __future__ import annotations

import copy
import json
import os
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import jsonschema

EVENT_SCHEMA_ID = "shadowmap.event/1"
IPC_REPLY = "ipc.v1.json#/$defs/reply"


class ContractError(ValueError):
    """An object does not satisfy a contract; the message names the offending field."""


ENUMS_FILE = "enums.v1.json"
ENUMS_REF = ENUMS_FILE + "#/$defs/"


# The files are read from this package's folder with plain open(): the native host reads
# the contract on every start, and importlib.resources' readers would cost it ~15 ms.
_HERE = os.path.dirname(os.path.abspath(__file__))


def read_json(name: str) -> dict[str, Any]:
    """A bundled JSON file as it is on disk (``events/x.json`` for a file in a subfolder)."""
    with open(os.path.join(_HERE, *name.split("/")), encoding="utf-8") as fh:
        document: dict[str, Any] = json.load(fh)
    return document


_read = read_json


def _enum_refs(node: object, found: set[str]) -> None:
    """Point every reference into enums.v1.json at the document's own $defs; collect the names."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(ENUMS_REF):
            found.add(ref[len(ENUMS_REF):])
            node["$ref"] = "#/$defs/" + ref[len(ENUMS_REF):]
        for value in node.values():
            _enum_refs(value, found)
    elif isinstance(node, list):
        for item in node:
            _enum_refs(item, found)


def _inline_enums(document: dict[str, Any]) -> dict[str, Any]:
    names: set[str] = set()
    _enum_refs(document, names)
    if names:
        enums = _read(ENUMS_FILE)["$defs"]
        defs = document.setdefault("$defs", {})
        for name in sorted(names):
            if name not in enums:
                raise ContractError(f"{ENUMS_REF}{name}: no such enumeration")
            if defs.setdefault(name, enums[name]) != enums[name]:
                raise ContractError(f"$defs/{name} is declared in {ENUMS_FILE}; do not redefine it")
    return document


@cache
def load(name: str) -> dict[str, Any]:
    """Load a bundled schema by relative file name (e.g. ``policy.v1.json``), with the shared
    enumerations it refers to copied into its ``$defs``."""
    return _inline_enums(_read(name))


def event_types() -> list[str]:
    names = os.listdir(os.path.join(_HERE, "events"))
    return sorted(name[: -len(".json")] for name in names if name.endswith(".json"))


@cache
def _event_schema() -> dict[str, Any]:
    assembled = _read("events.v1.json")
    types = event_types()
    assembled["properties"]["type"] = {"enum": types}
    assembled["allOf"] = []
    for name in types:
        key = "event_" + name.replace(".", "_")
        assembled["$defs"][key] = _read(f"events/{name}.json")
        assembled["allOf"].append({
            "if": {"properties": {"type": {"const": name}}},
            "then": {"properties": {"data": {"$ref": f"#/$defs/{key}"}}},
        })
    return _inline_enums(assembled)


def event_schema() -> dict[str, Any]:
    """The whole event contract as one JSON Schema document (a fresh copy)."""
    return copy.deepcopy(_event_schema())


@cache
def _validator(name: str) -> jsonschema.protocols.Validator:
    import jsonschema  # here, not at the top: the native host reads this package without it

    if name == "events":
        document = _event_schema()
    elif name == IPC_REPLY:
        document = {**load(IPC_SCHEMA), "$ref": "#/$defs/reply"}
        for keyword in ("type", "required", "properties", "allOf"):
            document.pop(keyword)
    else:
        document = load(name)
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


def default_policy() -> dict[str, Any]:
    """The policy a new collector starts with and an agent applies until it has pulled one:
    block secrets and card data everywhere, warn on personal and production data; while the
    agent is down, the extension's offline default (host.v1.json) applies."""
    from shadowmap.contract.host import AGENT_UNAVAILABLE_DEFAULT

    policy = copy.deepcopy(load("policy.default.json"))
    policy.setdefault("on_agent_unavailable", AGENT_UNAVAILABLE_DEFAULT)
    return policy


IPC_SCHEMA = "ipc.v1.json"


def ipc_schema() -> dict[str, Any]:
    """The native host <-> agent contract (requests; the replies are its $defs/reply), a copy."""
    return copy.deepcopy(load(IPC_SCHEMA))


def ipc_request_types() -> tuple[str, ...]:
    return tuple(load(IPC_SCHEMA)["$defs"]["request_type"]["enum"])


def validate_ipc_request(message: object) -> None:
    """Raise ContractError unless ``message`` is a valid request to the agent (ipc.v1.json)."""
    _check(IPC_SCHEMA, message)


def validate_ipc_reply(reply: object) -> None:
    """Raise ContractError unless ``reply`` is a valid answer to a request (ipc.v1.json $defs/reply)."""
    _check(IPC_REPLY, reply)


def validate_policy(policy: object) -> None:
    """Raise ContractError unless ``policy`` is a valid version-1 policy."""
    _check("policy.v1.json", policy)
