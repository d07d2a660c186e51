"""The finding "AI tool used with a personal account": raised from the agent's
``ai_account.observed`` events whose tier is personal (agent/accounts.py classifies the account on
the laptop; the email never reaches the collector, only its keyed hash). One alert per tool x
user; its facts name the tool, the hashed accounts and the devices."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

ACCOUNT_EVENT = "ai_account.observed"
MAX_ACCOUNTS = 20  # hashed accounts kept on an alert's facts


def is_personal(event: dict) -> bool:
    return event["type"] == ACCOUNT_EVENT and event["data"].get("tier") == "personal"


def personal_sign_ins(events: Iterable[tuple[dict, str]]) -> list[tuple[list[tuple[dict, str]], dict]]:
    """The personal-account events (given as (event, normalised ts)) grouped by tool and user,
    each group with the alert's facts."""
    groups: defaultdict[tuple[str, str], list[tuple[dict, str]]] = defaultdict(list)
    for item in events:
        if is_personal(item[0]):
            groups[(item[0]["data"]["tool_id"] or "", item[0]["user"])].append(item)
    found = []
    for items in groups.values():
        data = items[0][0]["data"]
        hashes = list(dict.fromkeys(e["data"]["account_hash"] for e, _ in items if e["data"].get("account_hash")))
        classes = sorted({e["data"]["domain_class"] for e, _ in items})
        facts = {"reason": f"{data['tool_id']} signed in with a personal account ({', '.join(classes)} domain)",
                 "tool": data["tool_id"], "account_hashes": hashes[:MAX_ACCOUNTS],
                 "devices": sorted({e["device_id"] for e, _ in items}),
                 "sources": sorted({e["data"]["source"] for e, _ in items})}
        found.append((items, facts))
    return found
