"""SSO coverage: how many of each AI tool's users sign in with a corporate account, from the
agents' ai_account.observed events (agent/accounts.py classifies each sign-in on the laptop).
A user counts as personal on a tool when any sign-in of the window was personal, corporate
when every one was corporate, and unknown otherwise (no org domains configured, or only a
domain the org did not claim). The share is corporate users over users whose tier is known.
Used by the inventory (accounts by tier per tool) and the weekly report's SSO coverage
section, with the trend against the previous week and the control it evidences."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from shadowmap.collector.report.controls import CONTROLS
from shadowmap.contract.enums import ACCOUNT_TIERS


def user_tiers(rows: Iterable[dict[str, Any]]) -> dict[str, dict[str, str]]:
    """tool -> user -> the user's tier on it (personal beats corporate beats unknown)."""
    seen: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for row in rows:
        seen[row["tool_id"]][row["user"]].add(row["tier"])
    return {tool: {user: ("personal" if "personal" in tiers else "corporate" if "corporate" in tiers else "unknown")
                   for user, tiers in users.items()}
            for tool, users in seen.items()}


def tool_tiers(rows: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """tool -> {users: {tier: n}, accounts: {tier: distinct accounts}, corporate_share (0..1 or None)}."""
    rows = list(rows)
    accounts: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(ACCOUNT_TIERS, 0))
    for row in rows:
        accounts[row["tool_id"]][row["tier"]] += int(row["accounts"])
    result = {}
    for tool, users in user_tiers(rows).items():
        counts = dict.fromkeys(ACCOUNT_TIERS, 0)
        for tier in users.values():
            counts[tier] += 1
        known = counts["corporate"] + counts["personal"]
        result[tool] = {"users": counts, "accounts": accounts[tool],
                        "corporate_share": counts["corporate"] / known if known else None}
    return result


def section(this_week: Iterable[dict[str, Any]], last_week: Iterable[dict[str, Any]],
            tool_name: Callable[[str], str]) -> dict[str, Any]:
    """The weekly report's SSO coverage: per tool (most users first), users by tier, the share
    on corporate accounts this week and last, the change in percentage points; the overall
    share; and the controls the section evidences."""
    now, before = tool_tiers(this_week), tool_tiers(last_week)
    tools = []
    for tool, figures in now.items():
        share, previous = figures["corporate_share"], (before.get(tool) or {}).get("corporate_share")
        tools.append({"tool_id": tool, "tool": tool_name(tool), "users": figures["users"],
                      "accounts": figures["accounts"],
                      "corporate_share": _percent(share), "last_week_share": _percent(previous),
                      "change_points": (round((share - previous) * 100, 1)
                                        if share is not None and previous is not None else None)})
    tools.sort(key=lambda t: (-sum(t["users"].values()), t["tool"].casefold()))
    return {"tools": tools, "overall": _overall(now), "overall_last_week": _overall(before),
            "personal_users": sum(t["users"]["personal"] for t in tools),
            "controls": CONTROLS["sso_coverage"][1],
            "statement": _statement(tools, _overall(now), _overall(before))}


def _percent(share: float | None) -> float | None:
    return round(share * 100, 1) if share is not None else None


def _overall(tiers: dict[str, dict[str, Any]]) -> float | None:
    """Corporate users over users of known tier, summed over tools (a user on two tools counts twice)."""
    corporate = sum(t["users"]["corporate"] for t in tiers.values())
    known = corporate + sum(t["users"]["personal"] for t in tiers.values())
    return round(corporate / known * 100, 1) if known else None


def _statement(tools: list[dict[str, Any]], overall: float | None, previous: float | None) -> str:
    if overall is None:
        return "No sign-in on a catalogued AI tool was classified this week: SSO coverage is not known."
    trend = "" if previous is None else f" ({overall - previous:+.1f} points on last week's {previous:.1f} %)"
    personal = [t["tool"] for t in tools if t["users"]["personal"]]
    tail = f"; personal accounts on {', '.join(personal[:5])}" if personal else "; no personal account seen"
    return f"{overall:.1f} % of AI-tool users with a known account signed in with a corporate account{trend}{tail}."
