"""The organisation's own detectors, declared as data (schema/org_detectors.v1.json):
internal domain suffixes and identifier formats. Import-light (yaml + jsonschema).

They come from a YAML file (DetectorSettings.org_config) or from the collector, where an
admin sets them and the policy carries them to every agent (policy.v1.json org_detectors):
both are read by ``parse_org_config``, which also refuses a pattern that can backtrack
catastrophically (pattern_guard.py), since it would run on every paste."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import jsonschema
import regex as re
import yaml

from shadowmap import contract
from shadowmap.detectors.pattern_guard import UnsafePattern, check_pattern


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
    return parse_org_config(data, str(path))


def parse_org_config(data: object, where: str = "org detectors") -> OrgConfig:
    """The config in ``data`` (a document of schema/org_detectors.v1.json), checked against
    the schema, every pattern compiled and guarded; OrgConfigError names what is wrong."""
    try:
        jsonschema.validate(data, contract.load("org_detectors.v1.json"))
    except jsonschema.ValidationError as exc:
        at = "/".join(str(p) for p in exc.absolute_path) or "(top)"
        raise OrgConfigError(f"{where}: {at}: {exc.message}") from None
    if not isinstance(data, dict):   # the schema's top level is an object: for the type checker
        raise OrgConfigError(f"{where}: not an object")
    identifiers = []
    for item in data.get("identifiers", []):
        ident = OrgIdentifier(**{**item, "context": tuple(item.get("context", ()))})
        try:
            check_pattern(ident.pattern, 0 if ident.case_sensitive else re.IGNORECASE)
        except re.error as exc:
            raise OrgConfigError(f"{where}: {ident.entity_type}: bad pattern: {exc}") from None
        except UnsafePattern as exc:
            raise OrgConfigError(f"{where}: {ident.entity_type}: unsafe pattern: {exc}") from None
        identifiers.append(ident)
    types = [i.entity_type for i in identifiers]
    if len(set(types)) != len(types):
        raise OrgConfigError(f"{where}: an entity_type is declared twice")
    return OrgConfig(tuple(d.lower() for d in data.get("internal_domains", [])), tuple(identifiers))
