"""Agent Trace (an open RFC for recording which code AI wrote; version 0.1.0), for Python: the
trace record's schema (agent_trace.v0.1.0.json, written from the published specification, its
source in the file's $comment) and the spec's facts shadowmap reads from it. The JSON file is the
one declaration; this module only reads it. Stdlib at import (jsonschema inside validate)."""
from __future__ import annotations

from typing import Any

from shadowmap.contract import ContractError, load

SCHEMA_FILE = "agent_trace.v0.1.0.json"
SCHEMA: dict[str, Any] = load(SCHEMA_FILE)
_SPEC: dict[str, Any] = SCHEMA["x-spec"]

VERSION: str = _SPEC["version"]
MIME_TYPE: str = _SPEC["mime_type"]
STORE_PATH: str = _SPEC["store_path"]            # where the reference implementation keeps records (JSON Lines)
CONTRIBUTOR_TYPES: tuple[str, ...] = tuple(SCHEMA["$defs"]["contributor"]["properties"]["type"]["enum"])
VCS_TYPES: tuple[str, ...] = tuple(SCHEMA["$defs"]["vcs"]["properties"]["type"]["enum"])
MODEL_ID_MAX: int = SCHEMA["$defs"]["contributor"]["properties"]["model_id"]["maxLength"]
_PROVIDERS: dict[str, str] = dict(_SPEC["model_id_providers"])


def model_id(model: str) -> str:
    """A model name in the models.dev convention (provider/model-name) the spec asks for: names
    that already carry a provider are kept, known prefixes get theirs, others stay as they are."""
    name = model.strip()
    if "/" not in name:
        for prefix, provider in _PROVIDERS.items():
            if name.startswith(prefix):
                name = f"{provider}/{name}"
                break
    return name[:MODEL_ID_MAX]


def validate(record: object) -> None:
    """Raise ContractError unless ``record`` is a valid Agent Trace record (formats checked too)."""
    import jsonschema  # here: the contract is stdlib-only at import

    cls = jsonschema.validators.validator_for(SCHEMA)
    error = jsonschema.exceptions.best_match(cls(SCHEMA, format_checker=cls.FORMAT_CHECKER).iter_errors(record))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "(top level)"
        raise ContractError(f"agent trace {where}: {error.message[:300]}")
