"""Discovery: sources that look at the laptop (processes, sockets, browser profiles, AI tool
configs and workspaces) and publish ``Observation``s; ``tracker.Tracker`` turns them into
events on change plus a daily summary. Sources know nothing of the spool or the uploader."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Observation:
    """One thing seen. ``key`` names it across passes; a new ``fingerprint`` for the same key
    is a change. ``data`` is the event's data without the change/first/last-seen fields."""
    event_type: str
    key: tuple
    fingerprint: str
    user: str
    data: dict[str, Any] = field(hash=False, compare=False)
    daily: bool = True          # re-reported once a day while still present
