"""The contracts both ends validate against: events (agent before spooling, collector on
ingest) and the AI acceptable-use policy. One definition each, as JSON Schema files here."""
from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

import jsonschema

EVENT_SCHEMA_ID = "shadowmap.event/1"


class ContractError(ValueError):
    """An object does not satisfy a contract; the message names the offending field."""


@lru_cache(maxsize=None)
def load(name: str) -> dict:
    """Load a bundled schema by file name (e.g. ``events.v1.json``)."""
    return json.loads(resources.files(__name__).joinpath(name).read_text("utf-8"))


@lru_cache(maxsize=None)
def _validator(name: str) -> jsonschema.protocols.Validator:
    schema = load(name)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=None)


def _check(name: str, obj: object) -> None:
    error = jsonschema.exceptions.best_match(_validator(name).iter_errors(obj))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "(top level)"
        raise ContractError(f"{where}: {error.message[:300]}")


def validate_event(event: object) -> None:
    """Raise ContractError unless ``event`` is a valid version-1 event."""
    _check("events.v1.json", event)


def validate_policy(policy: object) -> None:
    """Raise ContractError unless ``policy`` is a valid version-1 policy."""
    _check("policy.v1.json", policy)
