"""How the console writes values for people: times relative and to the minute (never
microseconds), lists and booleans as words (never Python's repr), entity types as names.
Registered as Jinja filters by pages.setup_templates."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

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


def ago(value: str | None, now: datetime | None = None) -> str:
    """How long before now: "just now", "5 min ago", "3 h ago", "2 days ago", else the date."""
    parsed = parse_ts(value or "")
    if parsed is None:
        return value or ""
    seconds = ((now or datetime.now(UTC)) - parsed).total_seconds()
    if seconds < 0:
        return when(value)  # a laptop's clock ahead of ours: say the time, not "in 5 min"
    for limit, unit, size in ((60, "", 0), (3600, "min", 60), (86400, "h", 3600), (86400 * 30, "days", 86400)):
        if seconds < limit:
            if not size:
                return "just now"
            n = int(seconds // size)
            return f"{n} {'day' if unit == 'days' and n == 1 else unit} ago"
    return parsed.astimezone(UTC).strftime("%Y-%m-%d")


def time_tag(value: str | None) -> Markup:
    """<time> with the relative time as text and the exact time as its title."""
    return Markup(
        f'<time datetime="{escape(value or "")}" title="{escape(when(value))}">{escape(ago(value))}</time>')


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


FILTERS = {"when": when, "ago": ago, "time_tag": time_tag, "as_text": as_text, "entity_name": entity_name}
