"""The alert filters of the console and the API, read from a query string."""
from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from datetime import date

from shadowmap.collector.alerts.findings import BY_ID, SEVERITIES
from shadowmap.collector.alerts.raising import STATUSES
from shadowmap.collector.store.sqlite.alert_reads import AlertFilter
from shadowmap.detectors.catalog import load_catalog

FIELDS = ("severity", "finding", "tool", "team", "status", "date_from", "date_to", "assignee", "user", "text", "device")
TEXT_FIELDS = ("tool", "team", "assignee", "user", "text")  # typed (or picked) text, matched in the store
ANY_STATUS = "any"  # the console's status for "every status" (its default is active)
MAX_TEXT = 256
MAX_DEVICE_ID = 64  # what enrollment hands out is a UUID; anything longer names no device


class FilterError(ValueError):
    """A bad alert filter; the message names the parameter."""


def parse_filters(query: Mapping[str, str]) -> AlertFilter:
    """An AlertFilter from a query string mapping; FilterError names the (first) bad parameter."""
    filters, errors = read_filters(query)
    if errors:
        raise FilterError(next(iter(errors.values())))
    return filters


def read_filters(query: Mapping[str, str], default_status: str = "") -> tuple[AlertFilter, dict[str, str]]:
    """The filters a query string asks for, and parameter -> what is wrong with it for those
    that are bad (left out of the filter: the caller shows the error, not every alert)."""
    values = {name: query.get(name, "").strip() for name in FIELDS}
    if "status" not in query:
        values["status"] = default_status
    if values["status"] == ANY_STATUS:
        values["status"] = ""
    errors: dict[str, str] = {}
    allowed = {"severity": ("", *SEVERITIES), "finding": ("", *BY_ID), "status": ("", "active", *STATUSES)}
    for name, choices in allowed.items():
        if values[name] not in choices:
            errors[name] = f"{name} must be one of {', '.join(c for c in choices if c)}"
    for name in ("date_from", "date_to"):
        if values[name] and not _is_date(values[name]):
            errors[name] = f"{name} must be YYYY-MM-DD"
    for name in TEXT_FIELDS:
        if len(values[name]) > MAX_TEXT:
            errors[name] = f"{name} is too long (at most {MAX_TEXT} characters)"
        elif has_control_characters(values[name]):
            errors[name] = f"{name} cannot hold control characters"
    if len(values["device"]) > MAX_DEVICE_ID or not values["device"].isprintable():
        errors["device"] = "device must be a device id (as the device pages link it)"
    for name in errors:
        values[name] = ""
    filters = AlertFilter(
        severity=values["severity"], finding=values["finding"], tool=values["tool"], team=values["team"],
        status=values["status"], date_from=values["date_from"], date_to=values["date_to"],
        assignee=values["assignee"], user=values["user"], text=values["text"], device=values["device"],
        tool_ids=tools_named(values["tool"]), text_tool_ids=tools_named(values["text"]))
    return filters, errors


def has_control_characters(text: str) -> bool:
    """Whether text holds a control character (Unicode's Cc: C0, DEL, C1). Nobody searches for
    one, and PostgreSQL refuses a NUL in a string: a filter holding one is a bad value, never
    sent to the store."""
    return any(unicodedata.category(ch) == "Cc" for ch in text)


def tools_named(text: str) -> tuple[str, ...]:
    """The catalog's tools whose name or id holds this text, any case ("ChatGPT" finds chatgpt)."""
    folded = text.casefold()
    if not folded:
        return ()
    return tuple(tool.id for tool in load_catalog().tools if folded in tool.name.casefold() or folded in tool.id)


def tool_name(tool_id: str | None, domain: str | None) -> str:
    """What the console calls a tool: its catalog name, else its id, else its domain."""
    tool = load_catalog().by_id(tool_id) if tool_id else None
    return tool.name if tool else (tool_id or domain or "unknown tool")


def _is_date(value: str) -> bool:
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return len(value) == 10
