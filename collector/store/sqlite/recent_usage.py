"""Who used which tools lately, from the usage rollup: the evidence the register's findings
are raised on at once when the register changes (instead of waiting for the next event)."""
from __future__ import annotations

import sqlite_utils


def tools_since(db: sqlite_utils.Database, day: str) -> dict[str, list[tuple[str, str, int, str, str]]]:
    """tool_id -> [(device_id, user, events, first day, last day)] for use on or after ``day``."""
    used: dict[str, list[tuple[str, str, int, str, str]]] = {}
    for tool_id, device_id, user, events, first, last in db.execute(
            "SELECT tool_id, device_id, user, sum(events), min(day), max(day) FROM usage_daily"
            " WHERE day >= ? AND data_class = '' GROUP BY tool_id, device_id, user", (day,)):
        used.setdefault(tool_id, []).append((device_id, user, int(events), first, last))
    return used
