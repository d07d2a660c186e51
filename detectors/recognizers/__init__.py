"""Registry of shadowmap's own recognizers: every concrete SecretRecognizer subclass
defined in a module of this package is found and instantiated; adding a recognizer is
adding a module."""
from __future__ import annotations

import importlib
import pkgutil

from shadowmap.detectors.recognizers.base import SecretRecognizer


def _import_all_modules() -> None:
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")


def _concrete_subclasses(cls: type[SecretRecognizer]) -> list[type[SecretRecognizer]]:
    found: list[type[SecretRecognizer]] = []
    for sub in cls.__subclasses__():
        if sub.entity_type and sub.patterns:
            found.append(sub)
        found.extend(_concrete_subclasses(sub))
    return found


def secret_recognizer_classes() -> list[type[SecretRecognizer]]:
    """Sorted by entity type so the registry order is stable."""
    _import_all_modules()
    classes = sorted(_concrete_subclasses(SecretRecognizer), key=lambda c: c.entity_type)
    types = [c.entity_type for c in classes]
    duplicates = {t for t in types if types.count(t) > 1}
    if duplicates:
        raise RuntimeError(f"two recognizers declare the same entity type: {sorted(duplicates)}")
    return classes


def build_secret_recognizers() -> list[SecretRecognizer]:
    return [cls() for cls in secret_recognizer_classes()]
