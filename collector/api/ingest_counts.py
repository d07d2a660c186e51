"""What ingest counts as it answers (read by /metrics): requests by HTTP status, events by
outcome (acked: accepted, whether new or not; duplicate: accepted but stored before;
rejected), refusals by reason, and the events acked over the last minute."""
from __future__ import annotations

import time
from collections import Counter, deque
from dataclasses import dataclass, field

from aiohttp import web

RATE_WINDOW_SECONDS = 60.0


def reject_reason(error: str) -> str:
    """The reason label of one rejected event, from its error text."""
    if error.startswith("device_id is not"):
        return "device_mismatch"
    if "nested too deeply" in error:
        return "too_deep"
    return "schema"


@dataclass
class IngestCounts:
    requests: Counter[str] = field(default_factory=Counter)  # HTTP status -> requests
    events: Counter[str] = field(default_factory=Counter)    # acked | duplicate | rejected -> events
    rejects: Counter[str] = field(default_factory=Counter)   # reason -> refused batches and events
    recent: deque[tuple[float, int]] = field(default_factory=deque)  # (monotonic time, events acked)
    lane: Counter[str] = field(default_factory=Counter)  # passes | batches | failed_passes | acked_before_pass (ingest_lane)

    def stored(self, acked: int, new: int, rejected: list[dict]) -> None:
        """A batch answered 200: ``acked`` events accepted, ``new`` of them stored for the first time."""
        self.requests["200"] += 1
        self.events["acked"] += acked
        self.events["duplicate"] += acked - new
        self.events["rejected"] += len(rejected)
        for item in rejected:
            self.rejects[reject_reason(str(item.get("error", "")))] += 1
        now = time.monotonic()
        self.recent.append((now, acked))
        while self.recent and self.recent[0][0] < now - RATE_WINDOW_SECONDS:
            self.recent.popleft()

    def refused(self, status: int, code: str) -> None:
        """A request refused as a whole (bad body, bad node key, rate limited ...)."""
        self.requests[str(status)] += 1
        self.rejects[code[:40]] += 1

    def events_per_second(self) -> float:
        now = time.monotonic()
        return sum(n for at, n in self.recent if at >= now - RATE_WINDOW_SECONDS) / RATE_WINDOW_SECONDS


INGEST_COUNTS = web.AppKey("ingest_counts", IngestCounts)
