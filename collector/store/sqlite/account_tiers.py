"""Which accounts AI tools were signed in with (the agents' ai_account.observed events): per
tool, user and account tier, the sign-ins seen and the distinct accounts (keyed hashes), in
a time window. Read by the inventory (accounts by tier per tool) and the weekly report's SSO
coverage section. Portable SQL (SQLite and PostgreSQL); the events_type_ts index bounds it."""
from __future__ import annotations

from typing import Any

import sqlite_utils

ACCOUNT_EVENT = "ai_account.observed"


def by_tool_user_tier(db: sqlite_utils.Database, since: str, until: str | None = None) -> list[dict[str, Any]]:
    """(tool_id, user, tier, sign_ins, accounts) of the sign-ins seen from ``since`` (to before
    ``until``), accounts being the distinct keyed hashes (a sign-in read from a domain only has none)."""
    window, params = "ts >= ?", [ACCOUNT_EVENT, since]
    if until is not None:
        window += " AND ts < ?"
        params.append(until)
    return [dict(row) for row in db.query(
        "SELECT tool_id, user, tier, count(*) AS sign_ins, count(DISTINCT account_hash) AS accounts FROM ("
        " SELECT user, json_extract(body, '$.data.tool_id') AS tool_id, json_extract(body, '$.data.tier') AS tier,"
        " json_extract(body, '$.data.account_hash') AS account_hash"
        f" FROM events WHERE type = ? AND {window}) AS signed"
        " WHERE tool_id IS NOT NULL GROUP BY tool_id, user, tier ORDER BY tool_id, user, tier", params)]
