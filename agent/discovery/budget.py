"""A daily cap on sightings of tools outside the catalog: processes and listeners whose names
or ports look like AI are reported so the collector can score them, but a laptop full of
look-alikes must not flood it. Catalogued tools are never capped."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from shadowmap.agent.discovery import Observation

MAX_UNKNOWN_PER_DAY = 50


class UnknownBudget:
    def __init__(self, cap: int = MAX_UNKNOWN_PER_DAY) -> None:
        self.cap = cap
        self.day: str | None = None
        self.admitted: set[tuple] = set()
        self.dropped = 0

    def admit(self, observations: Iterable[Observation], now: datetime | None = None) -> list[Observation]:
        """The observations to report: every catalogued one, and uncatalogued ones until the
        day's cap (one already admitted today stays admitted)."""
        today = (now or datetime.now(UTC)).date().isoformat()
        if today != self.day:
            self.day, self.admitted, self.dropped = today, set(), 0
        kept = []
        for observation in observations:
            if observation.data.get("tool_id") is not None or observation.key in self.admitted:
                kept.append(observation)
            elif len(self.admitted) < self.cap:
                self.admitted.add(observation.key)
                kept.append(observation)
            else:
                self.dropped += 1
        return kept

    def limitation(self) -> str | None:
        if not self.dropped:
            return None
        return f"uncatalogued AI-looking tools capped at {self.cap} a day ({self.dropped} sightings not sent)"
