"""Console sign-in throttling: failures are counted per username and per client address.
After a few in a row each further attempt must wait (doubling, up to a ceiling); after
`login_lockout_after` the username or address is locked out for `login_lockout_seconds`,
right password or not. Attempts refused while throttled count as failures too, so a fast
guesser locks itself out sooner. Every failed sign-in is logged; those whose password was
checked, and every lockout, are also entries of the record ("console login failed",
"console lockout"), and every lockout raises an alert for the security team
(collector/alerts/console_lockouts.py)."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlite_utils
from aiohttp import web

from shadowmap.collector import record
from shadowmap.collector.alerts import console_lockouts
from shadowmap.collector.state import CONFIG, STORE
from shadowmap.collector.store.sqlite import login_throttle as stored
from shadowmap.collector.timestamps import utc_now

log = logging.getLogger(__name__)

FREE_FAILURES = 3  # typos: no wait before the 4th attempt


@dataclass(frozen=True)
class Refusal:
    message: str
    retry_after: int  # seconds


def _keys(username: str, address: str) -> list[str]:
    return [f"user:{username}", f"addr:{address}"]


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


def _parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def _wait(failures: int, backoff_max: float) -> float:
    return 0.0 if failures < FREE_FAILURES else min(float(2 ** (failures - FREE_FAILURES)), backoff_max)


async def refusal(app: web.Application, username: str, address: str) -> Refusal | None:
    """Why this attempt may not even be checked now (locked out, or too soon), or None."""
    config = app[CONFIG]
    now = datetime.now(UTC)
    rows = await app[STORE].read(stored.states, _keys(username, address))
    longest, locked = 0.0, False
    for row in rows:
        if row["locked_until"] and _parse(row["locked_until"]) > now:
            locked = True
            longest = max(longest, (_parse(row["locked_until"]) - now).total_seconds())
            continue
        ready = _parse(row["last_failed_at"]) + timedelta(seconds=_wait(row["failures"], config.login_backoff_max_seconds))
        if ready > now:
            longest = max(longest, (ready - now).total_seconds())
    if longest <= 0:
        return None
    seconds = max(1, int(longest + 0.999))
    if locked:
        return Refusal(f"Too many failed sign-ins: locked for {seconds} s.", seconds)
    return Refusal(f"Too many failed sign-ins: wait {seconds} s before trying again.", seconds)


def _record_failure(db: sqlite_utils.Database, username: str, address: str, checked: bool,
                    lockout_after: int, lockout_seconds: int) -> list[str]:
    """Writer fn: count the failure for both keys, lock those at the threshold, and record a
    checked failure and any new lockout. Returns the keys locked now."""
    now = utc_now()
    until = _iso(datetime.now(UTC) + timedelta(seconds=lockout_seconds))
    newly_locked = []
    for key in _keys(username, address):
        failures = stored.add_failure(db, key, now)
        if failures == lockout_after:
            stored.lock(db, key, until)
            newly_locked.append(key.split(":", 1)[0])
        elif failures > lockout_after:
            stored.lock(db, key, until)  # still trying while locked: the lockout starts again
    if checked:
        record.append(db, "note", "console login failed", f"addr:{address}", {"username": username})
    if newly_locked:
        record.append(db, "note", "console lockout", "system",
                      {"username": username, "address": address, "locked": newly_locked, "until": until})
        console_lockouts.raise_lockout(db, username, address, newly_locked, until)
    return newly_locked


async def failed(app: web.Application, username: str, address: str, checked: bool) -> None:
    """A failed attempt: ``checked`` when the password was verified (and wrong), else it was
    refused while throttled."""
    config = app[CONFIG]
    locked = await app[STORE].write(_record_failure, username, address, checked,
                                    config.login_lockout_after, config.login_lockout_seconds)
    log.warning("failed login for %r from %s (%s)", username, address,
                "wrong username or password" if checked else "refused while throttled")
    if locked:
        log.warning("console lockout of %s for %r from %s for %d s", " and ".join(locked), username, address,
                    config.login_lockout_seconds)


async def succeeded(app: web.Application, username: str) -> None:
    await app[STORE].write(stored.clear, f"user:{username}")
