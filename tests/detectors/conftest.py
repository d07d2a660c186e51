"""The REAL engine (verified spaCy model + Presidio + our recognizers), loaded once."""
from __future__ import annotations

from collections.abc import Callable

import pytest

from shadowmap.detectors.engine import DetectorSettings, ScanEngine


@pytest.fixture(scope="session")
def engine() -> ScanEngine:
    return ScanEngine(DetectorSettings())


@pytest.fixture(scope="session")
def spans(engine: ScanEngine) -> Callable[[str, str], list[str]]:
    """The matched substrings of one entity type (tests only: the engine never returns values)."""
    def found(text: str, entity_type: str) -> list[str]:
        return [text[f.start:f.end] for f in engine.scan(text) if f.entity_type == entity_type]
    return found
