"""The organisation's own detectors, declared as data (schema/org_detectors.v1.json):
internal domain suffixes and identifier formats. Import-light (yaml + jsonschema)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import jsonschema
import regex as re
import yaml

from shadowmap import contract


class OrgConfigError(ValueError):
    """The org detector file is unreadable, invalid, or has a bad regex."""


@dataclass(frozen=True)
class OrgIdentifier:
    entity_type: str
    pattern: str
    reason: str
    score: float = 0.6
    context: tuple[str, ...] = ()
    require_context: bool = False
    severity: str = "high"
    case_sensitive: bool = True


@dataclass(frozen=True)
class OrgConfig:
    internal_domains: tuple[str, ...] = ()
    identifiers: tuple[OrgIdentifier, ...] = ()


def load_org_config(path: str | Path | None) -> OrgConfig:
    """The config at ``path``; an empty one for None."""
    if path is None:
        return OrgConfig()
    try:
        data = yaml.safe_load(Path(path).read_text("utf-8"))
    except (OSError, yaml.YAMLError, UnicodeDecodeError) as exc:
        raise OrgConfigError(f"cannot read org detectors {path}: {exc}") from None
    try:
        jsonschema.validate(data, contract.load("org_detectors.v1.json"))
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "(top)"
        raise OrgConfigError(f"{path}: {where}: {exc.message}") from None
    identifiers = []
    for item in data.get("identifiers", []):
        ident = OrgIdentifier(**{**item, "context": tuple(item.get("context", ()))})
        try:
            re.compile(ident.pattern)
        except re.error as exc:
            raise OrgConfigError(f"{path}: {ident.entity_type}: bad pattern: {exc}") from None
        identifiers.append(ident)
    types = [i.entity_type for i in identifiers]
    if len(set(types)) != len(types):
        raise OrgConfigError(f"{path}: an entity_type is declared twice")
    return OrgConfig(tuple(d.lower() for d in data.get("internal_domains", [])), tuple(identifiers))
