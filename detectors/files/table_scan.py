"""The scan of a text holding tables read from files (a workbook's sheets), column by column.

A sheet of customers is mostly cells of a few kinds: a column of emails, one of phones, one
of names. Scanned as text, every cell goes through every recognizer and each of its tens of
thousands of findings through the engine's result handling: most of the time of a 5 MB
workbook's read and scan (bench/files.py). Here each long table's columns are typed once
from a sample the engine scans (column_types.py); then every cell of a typed column is
checked with that type's cheap check (cell_checks.py: a pattern on the whole cell and the
recognizer's validator), and a cell that passes is a finding at once. Everything else
(free-text columns, untyped cells, cells no check passes, the text around the tables) is
scanned by the engine in one pass, on a copy of the text in which the passed cells are
filled with U+FFFD: offsets, lines and the table's shape stay as they were, so its findings
and limits are the ones it gives there. The bulk-records finding is then made from all the
personal data found, checked or not, as the engine makes it.

Words inside a passed cell are not in the engine's copy, and a word can be the context
that makes a weak match beside it a finding ("mccall@..." before a bare number says phone):
a row where the engine reads a number such a word could lift keeps all its cells (see
_CONTEXT_NUMBER). Findings the engine would make inside a passed cell besides its own (an
organisation's pattern inside an email) are not looked for past the sample. Tables shorter
than the sample, and texts past the scan's cap, are scanned as text.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from operator import attrgetter

from shadowmap.detectors.engine import BULK_SCORE
from shadowmap.detectors.files.column_types import (
    BULK_RECORDS,
    SAMPLE_LINES,
    ColumnCheck,
    ColumnTypes,
    Scanner,
    type_columns,
)
from shadowmap.detectors.files.result import CELL_SEPARATOR
from shadowmap.detectors.recognizers.bulk_records import Run, bulk_records, find_runs
from shadowmap.detectors.scan_result import Finding, ScanResult
from shadowmap.detectors.settings import MAX_SCAN_CHARS

FILL = "\ufffd"     # what a passed cell becomes in the engine's copy (no recognizer matches it)
# When findings overlap, the stronger class wins (the engine's rule, engine.py).
_CLASS_RANK = {"secret": 3, "production": 2, "payment": 1, "pii": 0}
_PERSONAL = ("pii", "payment")
_SPAN = attrgetter("start", "end")
# A word can make a finding of a number beside it: "call" (in "mccall@...") before a bare
# run of digits makes it a phone, "cc" or "visa" before a Luhn-valid one a card. Such
# numbers have 9 digits or more, one separator at most between two; a row holding one in
# a cell the engine reads is not filled, so the engine reads it whole, with its words.
_CONTEXT_NUMBER = re.compile(r"[0-9](?:[ .\-()]?[0-9]){8}")


def _column_runs(text: str, runs: list[Run], tables: Sequence[tuple[int, int]]) -> list[Run]:
    """The tab-separated runs inside a table part of ``text``, longer than the sample."""
    return [run for run in runs
            if run.kind == "table" and run.delimiter == CELL_SEPARATOR and len(run.lines) > SAMPLE_LINES
            and any(start <= run.start and run.end <= end for start, end in tables)]


def _check_row(cells: list[str], at: int, by_column: list[tuple[ColumnCheck, ...]]) -> list[Finding] | None:
    """The findings of one row's passed cells (filled in ``cells``, which starts at offset
    ``at``), or None when the row must be read whole: a cell left to the engine holds a
    number that a word in a passed cell could make a finding (see _CONTEXT_NUMBER)."""
    found = []
    for column, value in enumerate(cells):
        if not value:
            at += 1
            continue
        for check in by_column[column] if column < len(by_column) else ():
            score = check.scores.get(check.check(value))      # None: not passed, or a shape the sample lacked
            if score is not None:
                found.append(Finding(check.entity_type, at, at + len(value), score,
                                     check.data_class, check.reason, check.severity))
                cells[column] = FILL * len(value)
                break
        else:
            if len(value) >= 9 and _CONTEXT_NUMBER.search(value):
                return None
        at += len(value) + 1
    return found


def _check_cells(text: str, run: Run, columns: ColumnTypes, found: list[Finding], pieces: list[str],
                 copied: int) -> int:
    """Check ``run``'s cells in its typed ``columns``: the passed cells of a row are added to
    ``found`` and filled in the engine's copy of the row (``pieces``, written up to
    ``copied``); a row _check_row refuses is left as it is, for the engine to read whole."""
    by_column = [columns.get(column, ()) for column in range(max(columns) + 1)]
    for line_start, line_end in run.lines:
        cells = text[line_start:line_end].split(CELL_SEPARATOR)
        row = _check_row(cells, line_start, by_column)
        if row:
            found.extend(row)
            pieces.append(text[copied:line_start])
            pieces.append(CELL_SEPARATOR.join(cells))
            copied = line_end
    return copied


def _rank(finding: Finding) -> tuple[int, float, int]:
    return _CLASS_RANK.get(finding.data_class, 0), finding.score, finding.end - finding.start


def _merge(engine_found: Iterable[Finding], typed: list[Finding]) -> list[Finding]:
    """Both sets, without overlaps between them (the engine's findings do not overlap each
    other, nor do the cells): where they do, the stronger is kept."""
    merged = sorted([*typed, *engine_found], key=_SPAN)        # two sorted runs: a linear merge
    kept: list[Finding] = []
    for finding in merged:
        if kept and finding.start < kept[-1].end:
            if _rank(finding) > _rank(kept[-1]):
                kept[-1] = finding
            continue
        kept.append(finding)
    return kept


def scan_tables(engine: Scanner, text: str, tables: Sequence[tuple[int, int]]) -> ScanResult:
    """``engine.scan(text)``, with the long tables among ``tables`` ((start, end) of the parts
    of ``text`` read from files as tab-separated rows) read column by column."""
    if not tables or len(text) > MAX_SCAN_CHARS:
        return engine.scan(text)
    runs = find_runs(text)
    typed: list[Finding] = []
    pieces: list[str] = []
    copied = 0
    for run in _column_runs(text, runs, tables):
        columns = type_columns(engine, text, run)
        if columns:
            copied = _check_cells(text, run, columns, typed, pieces, copied)
    if not typed:
        return engine.scan(text)
    pieces.append(text[copied:])
    rest = engine.scan("".join(pieces))
    findings = _merge((f for f in rest if f.entity_type != BULK_RECORDS), typed)
    personal = [(f.start, f.end, f.entity_type) for f in findings if f.data_class in _PERSONAL]
    bulk = [Finding(BULK_RECORDS, b.start, b.end, BULK_SCORE, engine.data_class_of(BULK_RECORDS), b.reason,
                    engine.severity_of(BULK_RECORDS)) for b in bulk_records(runs, personal)]
    if bulk:
        findings = sorted(findings + bulk, key=lambda f: (f.start, -f.end))
    return ScanResult(findings, rest.limits)
