"""UTC timestamps as the collector stores them: ISO 8601 with microseconds and a Z, so
strings sort by time."""
from __future__ import annotations

import re
from datetime import UTC, date, datetime
from functools import lru_cache


def utc_now() -> str:
    return iso_utc(datetime.now(UTC))


def iso_utc(moment: datetime) -> str:
    """An aware datetime as the collector stores it."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


# What agents send: UTC with a Z and at most microseconds. Such a stamp is normalised by
# padding its fraction; any other form goes through datetime (ingest normalises every event).
CANONICAL_UTC = re.compile(
    r"[0-9]{4}-(?:0[1-9]|1[0-2])-[0-3][0-9]T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.([0-9]{1,6}))?Z")


@lru_cache(maxsize=4096)
def _is_real_day(day: str) -> bool:
    try:
        date.fromisoformat(day)
    except ValueError:
        return False
    return True


def normalise_ts(value: str) -> str:
    """An RFC 3339 timestamp (already schema-checked) as UTC with a Z and microseconds, so
    strings sort by time. Raises ValueError (or OverflowError) for a date that does not exist."""
    canonical = CANONICAL_UTC.fullmatch(value)
    if canonical is not None and _is_real_day(value[:10]):
        return f"{value[:19]}.{canonical.group(1) or '':0<6}Z"
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
