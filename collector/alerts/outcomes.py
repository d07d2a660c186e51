"""What became of each paste-like event, and the severity that follows from it.

An event's outcome is worked out at the collector from what the laptop already reports:
the policy's action on the paste.scanned event, and for a warning the user's decision (the
paste.override event that answers it by id). Nothing else is trusted for it, so a laptop
cannot claim a friendlier outcome than its own verdict. The names are the contract's
(enums.PASTE_OUTCOMES); data that reached the tool outranks data that was stopped."""
from __future__ import annotations

from collections.abc import Mapping

from shadowmap.contract import enums

ALLOWED, SENT_AFTER_WARNING, REDACTED, CANCELLED, BLOCKED, AWAITING = enums.PASTE_OUTCOMES
REACHED = frozenset(enums.REACHED_PASTE_OUTCOMES)
PASTE_EVENT = "paste.scanned"
DECISION_EVENT = "paste.override"

# the policy's action on a paste -> its outcome (a warning waits for the user's decision)
ACTION_OUTCOMES = {"allow": ALLOWED, "redact": REDACTED, "block": BLOCKED, "warn": AWAITING}
# the user's decision on a warning -> its outcome
DECISION_OUTCOMES = {"send_anyway": SENT_AFTER_WARNING, "cancel": CANCELLED}


def scan_outcome(data: Mapping) -> str | None:
    """The outcome of a paste.scanned event's data before any decision; None for a bad action."""
    action = data.get("action")
    return ACTION_OUTCOMES.get(action) if isinstance(action, str) else None


def merged(*counts: Mapping[str, int]) -> dict[str, int]:
    """Outcome counts added up, in the contract's order, zeros left out."""
    total = {outcome: sum(c.get(outcome, 0) for c in counts) for outcome in enums.PASTE_OUTCOMES}
    return {outcome: n for outcome, n in total.items() if n > 0}


def decide(outcomes: Mapping[str, int], decision: str) -> dict[str, int] | None:
    """The counts after one warning awaiting a decision got it; None when none was awaiting
    (a decision without its warning changes nothing)."""
    decided = DECISION_OUTCOMES.get(decision)
    if decided is None or outcomes.get(AWAITING, 0) < 1:
        return None
    return merged(outcomes, {AWAITING: -1, decided: 1})


def reached(outcomes: Mapping[str, int], count: int) -> int:
    """How many of an alert's ``count`` events put their data in front of the tool. Evidence
    without a paste outcome (a secret in an AI tool's config, which the tool reads) counts as
    reached."""
    with_outcome = sum(outcomes.values())
    return sum(n for outcome, n in outcomes.items() if outcome in REACHED) + max(0, count - with_outcome)


def judged_severity(severity: str, stopped_severity: str | None, outcomes: Mapping[str, int], count: int) -> str:
    """A leak finding's severity when some of its data reached the tool, else its severity
    for data that was stopped (stopped_severity None: the finding is not about pastes)."""
    if stopped_severity is None or reached(outcomes, count) > 0:
        return severity
    return stopped_severity
