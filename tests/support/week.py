"""ISO weeks' facts worked out from a collector's stored events, independently of the report.
The demo's week ends now, so early on a Monday this week holds almost nothing: tests that
look at the demo's data pick the week that holds most of it."""
from __future__ import annotations

import sqlite3
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta


@dataclass(frozen=True)
class Week:
    name: str        # "2026-W50"
    start: datetime  # its first instant, UTC
    end: datetime    # the first instant after it

    def holds(self, ts: str) -> bool:
        return self.start <= datetime.fromisoformat(ts.replace("Z", "+00:00")) < self.end


def iso_week(day: date) -> Week:
    year, week, _ = day.isocalendar()
    start = datetime.fromisocalendar(year, week, 1).replace(tzinfo=UTC)
    return Week(f"{year}-W{week:02d}", start, start + timedelta(days=7))


def this_week() -> Week:
    return iso_week(date.today())


def busiest_week(db: sqlite3.Connection) -> Week:
    """The week holding most of the stored events."""
    days = Counter(ts[:10] for (ts,) in db.execute("SELECT ts FROM events"))
    weeks = Counter[str]()
    for day, count in days.items():
        weeks[iso_week(date.fromisoformat(day)).name] += count
    name = weeks.most_common(1)[0][0]
    year, week = name.split("-W")
    return iso_week(date.fromisocalendar(int(year), int(week), 1))


def silent_hostnames(db: sqlite3.Connection, week: Week) -> list[str]:
    """Devices enrolled before ``week`` ended that sent no heartbeat in it, by hostname (the
    demo enrolls its laptops now and backdates their events)."""
    heard = {device_id for device_id, ts in db.execute("SELECT device_id, ts FROM events WHERE type = 'agent.heartbeat'")
             if week.holds(ts)}
    return sorted(hostname for device_id, hostname, enrolled in db.execute(
        "SELECT device_id, hostname, enrolled_at FROM devices") if enrolled < week.end.isoformat() and device_id not in heard)


def users_seen(db: sqlite3.Connection, event_type: str, week: Week) -> set[str]:
    """Users named by ``week``'s events of one type."""
    return {user for user, ts in db.execute("SELECT user, ts FROM events WHERE type = ?", (event_type,))
            if week.holds(ts)}
