"""The organisation's detectors from the policy (policy.v1.json org_detectors, set by an
admin in the collector's console): when a pulled policy brings a new version, the engine's
org recognizers are swapped at run time, without a restart. The scan in progress finishes
with the set it started with (ScanEngine.use_org_config). A version that fails the checks
(schema, patterns, the catastrophic-backtracking guard) is refused and the current set kept.
A policy without org_detectors leaves the engine's set alone (the local file's, if any)."""
from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Protocol, runtime_checkable

from shadowmap.detectors.org_config import OrgConfig, OrgConfigError, parse_org_config

log = logging.getLogger(__name__)


@runtime_checkable
class OrgSwappable(Protocol):
    """An engine whose org recognizers can be replaced while it runs."""

    def use_org_config(self, org: OrgConfig) -> None: ...


class OrgDetectorSync:
    """Applies the policy's org detectors to the engine, once per distinct version."""

    def __init__(self, engine: OrgSwappable):
        self._engine = engine
        self._seen: str | None = None    # the canonical JSON of the last document looked at
        self.applied: OrgConfig | None = None

    def apply(self, policy: Mapping) -> bool:
        """True when the policy brought a new set and the engine now uses it."""
        document = policy.get("org_detectors")
        if not isinstance(document, dict):
            return False
        canonical = json.dumps(document, sort_keys=True)
        if canonical == self._seen:
            return False
        self._seen = canonical           # a refused version is reported once, not at every refresh
        try:
            org = parse_org_config(document, "the policy's org_detectors")
            self._engine.use_org_config(org)
        except (OrgConfigError, ValueError) as exc:
            log.error("kept the current org detectors: %s", exc)
            return False
        self.applied = org
        log.info("org detectors updated: %d identifier formats, %d internal domains",
                 len(org.identifiers), len(org.internal_domains))
        return True
