"""The alert filters of the console and the API, read from a query string."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from shadowmap.collector.alerts.findings import BY_ID, SEVERITIES
from shadowmap.collector.alerts.raising import STATUSES
from shadowmap.collector.store.sqlite.alert_reads import AlertFilter


class FilterError(ValueError):
    """A bad alert filter; the message names the parameter."""


def parse_filters(query: Mapping[str, str]) -> AlertFilter:
    """An AlertFilter from a query string mapping; FilterError names the bad parameter."""
    values = {name: query.get(name, "").strip() for name in
              ("severity", "finding", "tool", "team", "status", "date_from", "date_to", "assignee")}
    allowed = {"severity": ("", *SEVERITIES), "finding": ("", *BY_ID), "status": ("", "active", *STATUSES)}
    for name, choices in allowed.items():
        if values[name] not in choices:
            raise FilterError(f"{name} must be one of {', '.join(c for c in choices if c)}")
    for name in ("date_from", "date_to"):
        if values[name] and not _is_date(values[name]):
            raise FilterError(f"{name} must be YYYY-MM-DD")
    for name in ("tool", "team", "assignee"):
        if len(values[name]) > 256:
            raise FilterError(f"{name} is too long")
    return AlertFilter(**values)


def _is_date(value: str) -> bool:
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return len(value) == 10
