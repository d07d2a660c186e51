"""What to set up next: the first-run steps, one list for the overview's checklist and for
the next steps an empty page gives (the sessions, inventory, unknown tools, reports,
exception requests and alerts pages), each step ticked once the store shows it done."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import sqlite_utils
from aiohttp import web

from shadowmap.collector.alerts.retention import POLICY_SETTING
from shadowmap.collector.record.retention import RETENTION_SETTING
from shadowmap.collector.state import STORE
from shadowmap.collector.store.sqlite import overview

EXTENSION_EVENT_TYPES = ("paste.scanned", "paste.override")  # only the browser extension sends these


class Step(NamedTuple):
    key: str    # a fact of overview.first_run_facts
    text: str   # what to do
    href: str   # where


STEPS = (
    Step("device", "Enroll a device: install the agent with the enroll secret", "/admin#enroll"),
    Step("extension", "Load the browser extension on an enrolled laptop", "/admin#extension"),
    Step("teams", "Import teams (CSV of user or device, team)", "/admin#teams"),
    Step("register", "Fill the sub-processor register", "/register"),
    Step("retention", "Set retention: the company's policy and the record's", "/register#retention-policy"),
    Step("github", "Connect GitHub: point a webhook at the collector", "/admin#code-review-webhooks"),
)
KEYS = tuple(step.key for step in STEPS)


def checklist(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    """Reader fn: every step, in order, with whether it is done."""
    done = overview.first_run_facts(db, (POLICY_SETTING, RETENTION_SETTING), EXTENSION_EVENT_TYPES)
    return [{**step._asdict(), "done": done[step.key]} for step in STEPS]


async def still_to_do(request: web.Request, keys: Sequence[str] = KEYS) -> list[dict[str, Any]]:
    """The steps among ``keys`` not done yet, in the checklist's order (for an empty page)."""
    unknown = set(keys) - set(KEYS)
    if unknown:
        raise ValueError(f"no such first-run steps: {sorted(unknown)}")
    steps = await request.app[STORE].read(checklist)
    return [step for step in steps if step["key"] in keys and not step["done"]]
