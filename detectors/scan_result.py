"""What a scan found, and what it did not finish.

A scan's cost is bounded whatever the paste (see docs/detectors.md, "The 1 MB bound"):
the cheap recognizers that decide the verdict (secrets, production data, emails, cards,
IBANs, national ids, bulk records) always run over the whole scanned text; the costly
optional work stops at declared, count-based budgets (deterministic: the same text gets
the same answer on an idle or a loaded machine). When a budget or the scan cap cuts a
scan short, the result says which, so a caller never mistakes a bounded scan for a
complete one.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from shadowmap.contract.enums import SCAN_LIMITS

# Limit kinds, as data: the caller may show or log them; the text is for people. They are
# the contract's scan_limit values (schema/enums.v1.json; paste.scanned's scan_limits).
TEXT_CAPPED = "text_capped"          # characters past MAX_SCAN_CHARS were not scanned
NER_BUDGET = "ner_budget"            # prose past the name model's budget was not read for names
PHONE_BUDGET = "phone_budget"        # phone-number candidates past the budget were not validated
TABLE_LINES = "table_lines"          # lines past bulk_records.MAX_LINES were not examined for tables
LIMIT_KINDS = SCAN_LIMITS


@dataclass(frozen=True)
class Finding:
    """One match: its type, span in the scanned text, score, data class, the reason a
    person reads, and its severity (shadowmap.detectors.severity). Never the value."""
    entity_type: str
    start: int
    end: int
    score: float
    data_class: str
    reason: str
    severity: str = "medium"


@dataclass(frozen=True)
class ScanLimit:
    kind: str
    detail: str


class ScanResult(list[Finding]):
    """The findings (a list of ``Finding``, sorted by start), plus ``limits``: the parts of
    the work a budget cut short, empty when the scan was complete."""

    def __init__(self, findings: Iterable[Finding] = (), limits: Iterable[ScanLimit] = ()):
        super().__init__(findings)
        self.limits = tuple(limits)

    @property
    def complete(self) -> bool:
        return not self.limits
