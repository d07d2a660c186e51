"""The shared enumerations (schema/enums.v1.json) as ordered tuples, for Python.

The JSON file is the one declaration; this module only reads it (stdlib only: the native
host imports the contract without site-packages). Each tuple keeps the file's order:
severities most severe first, actions least strict first, alert statuses active first.
"""
from __future__ import annotations

from typing import Any

from shadowmap.contract import ENUMS_FILE, read_json

_DEFS: dict[str, Any] = read_json(ENUMS_FILE)["$defs"]


def names() -> tuple[str, ...]:
    """The names of every shared enumeration (the `$defs` keys of enums.v1.json)."""
    return tuple(_DEFS)


def values(name: str) -> tuple[str, ...]:
    """The members of one enumeration, in declared order; KeyError for an unknown name."""
    return tuple(str(member) for member in _DEFS[name]["enum"])


def _rank(members: tuple[str, ...]) -> dict[str, int]:
    return {member: rank for rank, member in enumerate(members)}


SEVERITIES = values("severity")                  # critical, high, medium, low, info
FINDING_SEVERITIES = values("finding_severity")  # critical, high, medium, low
# higher is more severe: info 0 ... critical 4
SEVERITY_RANK = _rank(tuple(reversed(SEVERITIES)))
DATA_CLASSES = values("data_class")
ACTIONS = values("action")                       # allow, warn, redact, block
ACTION_RANK = _rank(ACTIONS)                     # higher is stricter
CHANNELS = values("channel")
AGENT_UNAVAILABLE_MODES = values("agent_unavailable_mode")
UNKNOWN_TOOL_MODES = values("unknown_tool_mode")
OVERRIDE_DECISIONS = values("override_decision")
PASTE_OUTCOMES = values("paste_outcome")         # reached the tool first, then stopped, then undecided
REACHED_PASTE_OUTCOMES = values("reached_paste_outcome")
SCAN_LIMITS = values("scan_limit")
ALERT_STATUSES = values("alert_status")
ACTIVE_ALERT_STATUSES = values("active_alert_status")
CLOSED_ALERT_STATUSES = tuple(s for s in ALERT_STATUSES if s not in ACTIVE_ALERT_STATUSES)
BROWSERS = values("browser")
OBSERVATION_CHANGES = values("observation_change")
AGENT_RISKS = values("agent_risk")
EXTENSION_STATES = values("extension_state")
RETIRE_REASONS = values("retire_reason")
ACCOUNT_TIERS = values("account_tier")           # corporate, personal, unknown
ACCOUNT_DOMAIN_CLASSES = values("account_domain_class")
ACCOUNT_SOURCES = values("account_source")

__all__ = [
    "ACCOUNT_DOMAIN_CLASSES", "ACCOUNT_SOURCES", "ACCOUNT_TIERS", "ACTIONS", "ACTION_RANK", "ACTIVE_ALERT_STATUSES", "AGENT_RISKS", "AGENT_UNAVAILABLE_MODES", "ALERT_STATUSES", "BROWSERS",
    "CHANNELS", "CLOSED_ALERT_STATUSES", "DATA_CLASSES", "EXTENSION_STATES", "FINDING_SEVERITIES", "OBSERVATION_CHANGES",
    "OVERRIDE_DECISIONS", "PASTE_OUTCOMES", "REACHED_PASTE_OUTCOMES", "RETIRE_REASONS", "SCAN_LIMITS", "SEVERITIES", "SEVERITY_RANK", "UNKNOWN_TOOL_MODES", "names", "values",
]
