"""The agent's own footprint guard, in the manner of osquery's watchdog: it measures the
agent's CPU (percent of one core over a window) and RSS; over budget it lengthens the
discovery intervals (doubling, up to MAX_THROTTLE) and sheds optional work; back under
budget for a few windows it recovers step by step. The heartbeat reports all of it."""
from __future__ import annotations

import threading
import time

import psutil

MAX_THROTTLE = 16.0
RECOVER_AFTER = 3               # windows under budget before stepping back
# optional work, shed in this order while over budget
OPTIONAL_WORK = ("browser_extensions", "network_connections", "workspace_roots")


class FootprintGuard:
    def __init__(self, cpu_budget_percent: float, rss_budget_mb: float,
                 process: psutil.Process | None = None):
        self.cpu_budget = cpu_budget_percent
        self.rss_budget = rss_budget_mb
        self.process = process or psutil.Process()
        self.throttle = 1.0
        self.shed: list[str] = []
        self.over_budget_count = 0
        self.cpu_percent = 0.0
        self.rss_mb = 0.0
        self._under = 0
        self._lock = threading.Lock()
        self._last = self._cpu_seconds(), time.monotonic()

    def _cpu_seconds(self) -> float:
        times = self.process.cpu_times()
        return times.user + times.system

    def sample(self) -> tuple[float, float]:
        """CPU % of one core since the last sample, and RSS in MB."""
        cpu, now = self._cpu_seconds(), time.monotonic()
        last_cpu, last_now = self._last
        self._last = cpu, now
        elapsed = max(now - last_now, 1e-6)
        self.cpu_percent = round(100.0 * (cpu - last_cpu) / elapsed, 3)
        self.rss_mb = round(self.process.memory_info().rss / (1024 * 1024), 1)
        return self.cpu_percent, self.rss_mb

    def check(self) -> bool:
        """Sample and adjust; True when over budget."""
        cpu, rss = self.sample()
        over = cpu > self.cpu_budget or rss > self.rss_budget
        with self._lock:
            if over:
                self.over_budget_count += 1
                self._under = 0
                self.throttle = min(MAX_THROTTLE, self.throttle * 2)
                pending = [w for w in OPTIONAL_WORK if w not in self.shed]
                if pending:
                    self.shed.append(pending[0])
            else:
                self._under += 1
                if self._under >= RECOVER_AFTER and (self.throttle > 1 or self.shed):
                    self._under = 0
                    self.throttle = max(1.0, self.throttle / 2)
                    if self.shed:
                        self.shed.pop()
        return over

    def sheds(self, work: str) -> bool:
        return work in self.shed

    def report(self) -> dict:
        with self._lock:
            return {"cpu_percent": max(0.0, self.cpu_percent), "rss_mb": max(0.0, self.rss_mb),
                    "throttle": self.throttle, "shed": list(self.shed),
                    "over_budget_count": self.over_budget_count}
