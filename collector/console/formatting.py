"""How the console writes values for people: times relative and to the minute (never
microseconds), exact times in the signed-in account's time zone (its abbreviation and offset
said; UTC until the account picks one), lists and booleans as words (never Python's repr),
entity types as names. Registered as Jinja filters by pages.setup_templates."""
from __future__ import annotations

import functools
import zoneinfo
from collections.abc import Mapping
from datetime import UTC, datetime, tzinfo

import jinja2
from markupsafe import Markup, escape

from shadowmap.collector.alerts.summary import entity_name


def parse_ts(value: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (ValueError, AttributeError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def when(value: str | None) -> str:
    """A stored timestamp to the minute, in UTC: 2026-03-01 10:00 UTC."""
    parsed = parse_ts(value or "")
    return parsed.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if parsed else (value or "")


def ago(value: str | None, now: datetime | None = None, time_zone: str = "UTC") -> str:
    """How long before now: "just now", "5 min ago", "3 h ago", "2 days ago", else the date
    (in ``time_zone``)."""
    parsed = parse_ts(value or "")
    if parsed is None:
        return value or ""
    seconds = ((now or datetime.now(UTC)) - parsed).total_seconds()
    if seconds < 0:
        return exact(value, time_zone)  # a laptop's clock ahead of ours: say the time, not "in 5 min"
    for limit, unit, size in ((60, "", 0), (3600, "min", 60), (86400, "h", 3600), (86400 * 30, "days", 86400)):
        if seconds < limit:
            if not size:
                return "just now"
            n = int(seconds // size)
            return f"{n} {'day' if unit == 'days' and n == 1 else unit} ago"
    return parsed.astimezone(_zone(time_zone)).strftime("%Y-%m-%d")


MAX_TIME_ZONE = 64


@functools.cache
def time_zones() -> tuple[str, ...]:
    """The IANA time zone names this machine knows (the system's zoneinfo or the tzdata package), sorted."""
    return tuple(sorted(zoneinfo.available_timezones()))


def valid_time_zone(name: str) -> bool:
    """An IANA name zoneinfo opens ("Europe/Berlin"); never a path, an abbreviation it lacks or an offset."""
    return 0 < len(name) <= MAX_TIME_ZONE and name in time_zones()


@functools.lru_cache(maxsize=1024)   # the zones accounts chose (checked when chosen)
def _zone(name: str) -> tzinfo:
    if name == "UTC" or not valid_time_zone(name):   # a name this machine lost: UTC, said as such
        return UTC
    return zoneinfo.ZoneInfo(name)


def exact(value: str | None, time_zone: str = "UTC") -> str:
    """A stored timestamp to the minute in ``time_zone``, its abbreviation and offset said:
    2026-03-01 11:00 CET (UTC+01:00); in UTC as `when` writes it."""
    parsed = parse_ts(value or "")
    zone = _zone(time_zone)
    if parsed is None or zone is UTC:
        return when(value)
    local = parsed.astimezone(zone)
    offset = local.strftime("%z")                     # +0100
    offset = f"UTC{offset[:3]}:{offset[3:]}"
    abbreviation = local.strftime("%Z")
    if not abbreviation or abbreviation[0] in "+-":    # zones with no letters for it (America/Sao_Paulo: -03)
        return f"{local:%Y-%m-%d %H:%M} {offset}"
    return f"{local:%Y-%m-%d %H:%M} {abbreviation} ({offset})"


def short_local(value: str | None, time_zone: str = "UTC") -> str:
    """A stored timestamp as a narrow column can hold it, in ``time_zone``: 7 Dec 09:03 EST
    (the offset where the zone has no letters: 7 Dec 15:48 UTC+05:45)."""
    parsed = parse_ts(value or "")
    if parsed is None:
        return value or ""
    local = parsed.astimezone(_zone(time_zone))
    abbreviation = local.strftime("%Z")
    if not abbreviation or abbreviation[0] in "+-":
        offset = local.strftime("%z")
        abbreviation = f"UTC{offset[:3]}:{offset[3:]}"
    return f"{local.day} {local:%b %H:%M} {abbreviation}"


def time_tag(value: str | None, time_zone: str = "UTC") -> Markup:
    """<time> with the relative time as text, the exact time in ``time_zone`` as its title and
    the machine-readable UTC time as its datetime."""
    return Markup(f'<time datetime="{escape(value or "")}" title="{escape(exact(value, time_zone))}">'
                  f'{escape(ago(value, time_zone=time_zone))}</time>')


def _account_zone(context: jinja2.runtime.Context) -> str:
    zone = context.get("time_zone")                   # render() puts the signed-in account's there
    return zone if isinstance(zone, str) else "UTC"


@jinja2.pass_context
def _time_tag_filter(context: jinja2.runtime.Context, value: str | None) -> Markup:
    return time_tag(value, _account_zone(context))


@jinja2.pass_context
def _short_local_filter(context: jinja2.runtime.Context, value: str | None) -> str:
    return short_local(value, _account_zone(context))


@jinja2.pass_context
def _when_filter(context: jinja2.runtime.Context, value: str | None) -> str:
    return exact(value, _account_zone(context))


def as_text(value: object) -> str:
    """A fact for people: lists joined, booleans yes/no, mappings as "name: value"."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple, set, frozenset)):
        return ", ".join(as_text(item) for item in value)
    if isinstance(value, Mapping):
        return "; ".join(f"{str(name).replace('_', ' ')}: {as_text(item)}" for name, item in value.items())
    return str(value)


FILTERS = {"when": _when_filter, "short_local": _short_local_filter, "ago": ago, "time_tag": _time_tag_filter,
           "as_text": as_text, "entity_name": entity_name}
