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

from dataclasses import dataclass

# Limit kinds, as data: the caller may show or log them; the text is for people.
TEXT_CAPPED = "text_capped"          # characters past MAX_SCAN_CHARS were not scanned
NER_BUDGET = "ner_budget"            # prose past the name model's budget was not read for names
PHONE_BUDGET = "phone_budget"        # phone-number candidates past the budget were not validated
TABLE_LINES = "table_lines"          # lines past bulk_records.MAX_LINES were not examined for tables
LIMIT_KINDS = (TEXT_CAPPED, NER_BUDGET, PHONE_BUDGET, TABLE_LINES)  # = paste.scanned's scan_limits enum


@dataclass(frozen=True)
class ScanLimit:
    kind: str
    detail: str


class ScanResult(list):
    """The findings (a list of ``Finding``, sorted by start), plus ``limits``: the parts of
    the work a budget cut short, empty when the scan was complete."""

    def __init__(self, findings=(), limits: tuple[ScanLimit, ...] = ()):
        super().__init__(findings)
        self.limits = tuple(limits)

    @property
    def complete(self) -> bool:
        return not self.limits
