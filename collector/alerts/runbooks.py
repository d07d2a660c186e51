"""The runbook of each finding, as data (runbooks.yaml beside this file): its goal and the
responder's steps, shown on the alert page."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

RUNBOOKS_FILE = Path(__file__).with_name("runbooks.yaml")


@dataclass(frozen=True)
class Runbook:
    goal: str
    steps: tuple[str, ...]


@cache
def runbooks() -> dict[str, Runbook]:
    """finding id -> its runbook."""
    data = yaml.safe_load(RUNBOOKS_FILE.read_text(encoding="utf-8"))
    return {finding: Runbook(str(entry["goal"]), tuple(str(step) for step in entry["steps"]))
            for finding, entry in data.items()}


def runbook(finding_id: str) -> Runbook | None:
    return runbooks().get(finding_id)
