"""Tuning built-in recognizers without code: a YAML file in the shape of Presidio's
recognizer registry configuration (``recognizers:`` entries of ``type: predefined``) that
switches a recognizer off, or sets its score or its context words.

    recognizers:
      - name: CreditCardRecognizer      # a recognizer's name (its class), or:
        enabled: false
      - entity: ABA_ROUTING_NUMBER      # every recognizer of an entity type
        score: 0.4
        context: [routing, aba, transit]

Validated when loaded: an unknown key, a name or entity no recognizer has, a score outside
[0, 1] or a context that is not a list of words is a RecognizerConfigError naming the entry.
Import-light (yaml only); the engine applies it (``ScanEngine``).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

_ENTRY_KEYS = {"name", "entity", "supported_entity", "type", "enabled", "score", "context", "supported_languages",
               "supported_language"}


class RecognizerConfigError(ValueError):
    """The recognizer configuration file is unreadable or invalid."""


@dataclass(frozen=True)
class RecognizerOverride:
    """What one entry changes; ``name`` or ``entity`` selects the recognizers."""

    name: str | None = None
    entity: str | None = None
    enabled: bool = True
    score: float | None = None
    context: tuple[str, ...] | None = None

    def selects(self, names: set[str], entities: list[str]) -> bool:
        """``names``: the recognizer's name and its classes' names (Presidio's names select
        our subclasses of its recognizers: "UsSsnRecognizer" selects WindowedUsSsnRecognizer)."""
        return self.name in names or (self.entity is not None and self.entity in entities)


def _entry(raw: Any, position: int) -> RecognizerOverride:
    where = f"recognizers[{position}]"
    if not isinstance(raw, dict):
        raise RecognizerConfigError(f"{where}: a mapping is expected")
    unknown = raw.keys() - _ENTRY_KEYS
    if unknown:
        raise RecognizerConfigError(f"{where}: unknown keys {sorted(unknown)}")
    if raw.get("type", "predefined") != "predefined":
        raise RecognizerConfigError(f"{where}: only built-in (type: predefined) recognizers can be tuned here")
    name, entity = raw.get("name"), raw.get("entity", raw.get("supported_entity"))
    if not (isinstance(name, str) and name) and not (isinstance(entity, str) and entity):
        raise RecognizerConfigError(f"{where}: needs a name or an entity")
    enabled = raw.get("enabled", True)
    if not isinstance(enabled, bool):
        raise RecognizerConfigError(f"{where}: enabled must be true or false")
    score = raw.get("score")
    if score is not None and (isinstance(score, bool) or not isinstance(score, (int, float)) or not 0 <= score <= 1):
        raise RecognizerConfigError(f"{where}: score must be a number within [0, 1]")
    context = raw.get("context")
    if context is not None and (not isinstance(context, list) or not all(isinstance(w, str) and w for w in context)):
        raise RecognizerConfigError(f"{where}: context must be a list of words")
    return RecognizerOverride(name=name if isinstance(name, str) else None,
                              entity=entity if isinstance(entity, str) else None, enabled=enabled,
                              score=None if score is None else float(score),
                              context=None if context is None else tuple(w.lower() for w in context))


def load_recognizer_config(path: str | Path | None) -> tuple[RecognizerOverride, ...]:
    """The overrides in the file at ``path``; none for None."""
    if path is None:
        return ()
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise RecognizerConfigError(f"{path}: {error}") from None
    if data is None:
        return ()
    if not isinstance(data, dict) or not isinstance(data.get("recognizers", []), list):
        raise RecognizerConfigError(f"{path}: a mapping with a 'recognizers' list is expected")
    unknown = data.keys() - {"recognizers", "supported_languages", "global_regex_flags"}
    if unknown:
        raise RecognizerConfigError(f"{path}: unknown keys {sorted(unknown)}")
    return tuple(_entry(raw, n) for n, raw in enumerate(data.get("recognizers") or []))


def _names(recognizer: Any) -> set[str]:
    return {recognizer.name, *(cls.__name__ for cls in type(recognizer).__mro__)}


def apply_overrides(recognizers: list[Any], overrides: tuple[RecognizerOverride, ...]) -> tuple[list[Any], dict[str, float]]:
    """The recognizers left enabled, with their context words replaced where an entry
    says so, and the score each overridden recognizer's results get (by recognizer id).
    Entries apply in file order; a later one wins. RecognizerConfigError when an entry
    selects no recognizer."""
    for n, override in enumerate(overrides):
        if not any(override.selects(_names(r), r.supported_entities) for r in recognizers):
            raise RecognizerConfigError(f"recognizers[{n}]: no recognizer named {override.name!r} "
                                        f"or for entity {override.entity!r}")
    kept, scores = [], {}
    for recognizer in recognizers:
        enabled = True
        for override in overrides:
            if not override.selects(_names(recognizer), recognizer.supported_entities):
                continue
            enabled = override.enabled
            if override.score is not None:
                scores[recognizer.id] = override.score
            if override.context is not None:
                recognizer.context = list(override.context)
        if enabled:
            kept.append(recognizer)
    return kept, scores
