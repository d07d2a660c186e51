"""What a table's columns hold, decided once per table from its header and a sample of its
rows, so that the rest of each column can be checked cell by cell with one cheap check
(cell_checks.py) instead of the whole engine (table_scan.py).

The sample (the header and the first SAMPLE_LINES rows, as they stand in the text) is
scanned by the engine itself, as a table, so its header rules apply (a "name" column's
values are names, a "dob" column's dates are dates of birth). A column is then checked for
an entity type when, on its sampled cells, that type's check and the engine agree: at
least MIN_AGREEING cells the check passes are found whole by the engine as that type, with
one score per shape, and no cell the check passes is found otherwise or not at all. Names
and dates of birth, which the engine finds in a table by its header, are checked only in
a column the engine's header rule names. Otherwise the header's word is not trusted: a
"notes" column of emails is an email column, a "name" column of product names is not a
name column. A column may hold several types (emails and phones in one "contact" column);
cells no check passes are the engine's.
"""
from __future__ import annotations

import bisect
import dataclasses
from dataclasses import dataclass, field
from typing import Protocol

from shadowmap.detectors.files.cell_checks import CHECKS, CellCheck
from shadowmap.detectors.files.result import CELL_SEPARATOR
from shadowmap.detectors.recognizers.bulk_records import Run, person_cells
from shadowmap.detectors.scan_result import Finding, ScanResult

SAMPLE_LINES = 64       # rows of a table scanned whole to type its columns
MIN_AGREEING = 3        # sampled cells on which a check and the engine agree, at least
BULK_RECORDS = "BULK_RECORDS"
# Types the engine gives a cell for its column's header alone (bulk_records.person_cells):
# only a column that rule names is checked for them, never one whose values were named
# by a word beside them in the row.
_BY_HEADER = ("PERSON", "DATE_OF_BIRTH")


class Scanner(Protocol):
    """What the column scan needs of the engine (ScanEngine is one)."""

    def scan(self, text: str) -> ScanResult: ...

    def data_class_of(self, entity_type: str) -> str: ...

    def severity_of(self, entity_type: str) -> str: ...


@dataclass(frozen=True)
class ColumnCheck:
    """A column's check for one entity type, and what a cell that passes it becomes:
    ``scores`` maps the check's score for a shape to the engine's score for that shape in
    the sample (None, a cell that does not pass, is never a key); the labels are the engine's."""
    entity_type: str
    check: CellCheck
    scores: dict[float | None, float]
    data_class: str
    reason: str
    severity: str


# column index -> its checks, tried in order on each of its cells
ColumnTypes = dict[int, tuple[ColumnCheck, ...]]


@dataclass
class _Tally:
    agree: int = 0
    disagree: int = 0
    scores: dict[float | None, float] = field(default_factory=dict)
    example: Finding | None = None


def _sampled_cells(text: str, lines: tuple[tuple[int, int], ...]) -> list[tuple[int, int, int]]:
    """(start, end, column) of each non-empty cell of ``lines``, in text order."""
    cells = []
    for line_start, line_end in lines:
        at = line_start
        for column, value in enumerate(text[line_start:line_end].split(CELL_SEPARATOR)):
            if value:
                cells.append((at, at + len(value), column))
            at += len(value) + 1
    return cells


def _engine_verdicts(found: ScanResult, offset: int, cells: list[tuple[int, int, int]]) -> dict[int, Finding | None]:
    """Cell index -> the engine's one finding spanning exactly that cell, or None when the
    engine found something else in it (part of it, more than it, two things)."""
    starts = [cell[0] for cell in cells]
    verdicts: dict[int, Finding | None] = {}
    for finding in found:
        if finding.entity_type == BULK_RECORDS:
            continue
        start, end = finding.start + offset, finding.end + offset
        i = max(bisect.bisect_right(starts, start) - 1, 0)
        while i < len(cells) and cells[i][0] < end:
            cell_start, cell_end, _ = cells[i]
            if cell_end > start:
                exact = cell_start == start and cell_end == end and i not in verdicts
                verdicts[i] = finding if exact else None
            i += 1
    return verdicts


def _header_columns(text: str, run: Run, cells: list[tuple[int, int, int]]) -> dict[str, set[int]]:
    """The columns whose cells the engine's header rule names, per type in _BY_HEADER."""
    names, births = person_cells(text, [run])
    column_of = {(start, end): column for start, end, column in cells}
    return {"PERSON": {column_of[span] for span in names if span in column_of},
            "DATE_OF_BIRTH": {column_of[span] for span in births if span in column_of}}


def type_columns(engine: Scanner, text: str, run: Run) -> ColumnTypes:
    """The checks for ``run``'s columns (a tab-separated table of ``text``), from the engine's
    findings in its first SAMPLE_LINES rows; empty when no column can be checked."""
    lines = run.lines[:SAMPLE_LINES]
    if not lines:
        return {}
    found = engine.scan(text[run.start:lines[-1][1]])
    cells = _sampled_cells(text, lines)
    verdicts = _engine_verdicts(found, run.start, cells)
    by_header = _header_columns(text, dataclasses.replace(run, lines=lines), cells)
    tallies: dict[tuple[int, str], _Tally] = {}
    for index, (start, end, column) in enumerate(cells):
        value = text[start:end]
        for entity_type, check in CHECKS.items():
            score = check(value)
            if score is None or entity_type in _BY_HEADER and column not in by_header[entity_type]:
                continue
            tally = tallies.setdefault((column, entity_type), _Tally())
            finding = verdicts.get(index)
            if (finding is not None and finding.entity_type == entity_type
                    and tally.scores.setdefault(score, finding.score) == finding.score):
                tally.agree += 1
                tally.example = tally.example or finding
            else:
                tally.disagree += 1
    types: dict[int, list[ColumnCheck]] = {}
    for (column, entity_type), tally in tallies.items():
        if tally.agree >= MIN_AGREEING and not tally.disagree and tally.example is not None:
            example = tally.example
            types.setdefault(column, []).append(ColumnCheck(entity_type, CHECKS[entity_type], tally.scores,
                                                            example.data_class, example.reason, example.severity))
    order = list(CHECKS)
    return {column: tuple(sorted(checks, key=lambda c: order.index(c.entity_type)))
            for column, checks in sorted(types.items())}
