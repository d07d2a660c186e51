"""Turns observations into events: one when something is first seen or changes, and a daily
summary while it stays present; never one per poll. First/last-seen times persist in
``discovery.json`` in the state dir so a restart does not report everything as new."""
from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from shadowmap.agent.discovery import Observation

log = logging.getLogger(__name__)

FORGET_AFTER = timedelta(days=30)     # an item unseen this long is forgotten
MAX_ITEMS = 20_000
SAVE_EVERY_SECONDS = 600.0
# which event types carry the change kind, and first/last-seen times (their contracts)
CHANGE_FIELD = {"ai_tool.observed", "mcp_server.observed", "browser_extension.observed",
                "ai_agent.repo_activity"}
SEEN_FIELDS = {"ai_tool.observed", "ai_agent.repo_activity"}

Emit = Callable[[str, str, dict], None]        # (event type, user, data)
Clock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


class Tracker:
    def __init__(self, path: Path | None, emit: Emit, clock: Clock = _utc_now):
        self.path = path
        self.emit = emit
        self.clock = clock
        self._lock = threading.Lock()
        self._items: dict[str, dict] = self._load()
        self._dirty = False
        self._saved_at = clock()

    def _load(self) -> dict[str, dict]:
        if self.path is None:
            return {}
        try:
            data = json.loads(self.path.read_text("utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def save(self, force: bool = False) -> None:
        now = self.clock()
        if self.path is None or not (force or (self._dirty and now - self._saved_at
                                                > timedelta(seconds=SAVE_EVERY_SECONDS))):
            return
        with self._lock:
            body = json.dumps(self._items, separators=(",", ":"))
            self._dirty = False
        tmp = self.path.with_suffix(".tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(body)
            os.replace(tmp, self.path)
            self._saved_at = now
        except OSError as exc:
            log.warning("cannot save discovery state to %s: %s", self.path, exc)

    def observe(self, observations: Iterable[Observation]) -> list[dict]:
        """Record one pass of a source; returns the events emitted (type, user, data)."""
        now = self.clock()
        today = now.strftime("%Y-%m-%d")
        sent: list[dict] = []
        with self._lock:
            for obs in observations:
                key = json.dumps(obs.key, default=str)
                item = self._items.get(key)
                if item is None:
                    change = "new"
                    item = self._items[key] = {"first": _stamp(now), "fp": obs.fingerprint, "day": today}
                elif item.get("fp") != obs.fingerprint:
                    change = "changed"
                    item.update(fp=obs.fingerprint, day=today)
                elif obs.daily and item.get("day") != today:
                    change = "daily"
                    item["day"] = today
                else:
                    change = None
                item["last"] = _stamp(now)
                self._dirty = True
                if change is None:
                    continue
                data = dict(obs.data)
                if obs.event_type in CHANGE_FIELD:
                    data["change"] = change
                if obs.event_type in SEEN_FIELDS:
                    data.update(first_seen=item["first"], last_seen=item["last"])
                sent.append({"type": obs.event_type, "user": obs.user, "data": data, "key": key})
            self._forget(now)
        emitted = []
        for event in sent:
            key = event.pop("key")
            try:
                self.emit(event["type"], event["user"], event["data"])
                emitted.append(event)
            except Exception:            # not spooled: forget it so the next pass retries
                log.exception("cannot record a %s event", event["type"])
                with self._lock:
                    self._items.pop(key, None)
        return emitted

    def _forget(self, now: datetime) -> None:
        horizon = _stamp(now - FORGET_AFTER)
        stale = [k for k, v in self._items.items() if v.get("last", "") < horizon]
        for key in stale:
            del self._items[key]
        if len(self._items) > MAX_ITEMS:          # keep the most recently seen
            keep = sorted(self._items.items(), key=lambda kv: kv[1].get("last", ""))[-MAX_ITEMS:]
            self._items = dict(keep)
