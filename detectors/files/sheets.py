"""XLSX workbooks through openpyxl in read-only mode: rows are streamed sheet by sheet (the
workbook is never loaded whole), each row one tab-separated line, and each finding can name
its sheet.

openpyxl reads the whole of two things when it opens a workbook: the shared-string table
(a 5 MB sheet of customers holds ~600,000 strings) and, for a sheet without a <dimension>
element (openpyxl's own write-only mode writes none), every row, to size the sheet; both
take seconds before the first row. Here the string table is read lazily, as far as the rows
read so far refer to it (writers number strings in order of first use), and sheets are not
sized (rows are read until they end), so the bounds on rows and time bound all the work.
"""
from __future__ import annotations

import io
from collections.abc import Iterator
from typing import IO, Any

from openpyxl.cell.text import Text
from openpyxl.reader.excel import ExcelReader
from openpyxl.worksheet._read_only import ReadOnlyWorksheet
from openpyxl.xml.constants import SHARED_STRINGS, SHEET_MAIN_NS
from openpyxl.xml.functions import iterparse

from shadowmap.detectors.files.bounds import BoundHit
from shadowmap.detectors.files.result import CELL_SEPARATOR, TextSink, clean_cell

_TIME_CHECK_ROWS = 500
_STRING_TAG = f"{{{SHEET_MAIN_NS}}}si"


class LazySharedStrings:
    """The shared-string table, parsed only up to the highest index asked for."""

    def __init__(self, source: IO[bytes]):
        self._source = source
        self._strings: list[str] = []
        self._parsed: Iterator[str] | None = self._parse()

    def _parse(self) -> Iterator[str]:
        for _, node in iterparse(self._source):
            if node.tag == _STRING_TAG:
                text = Text.from_tree(node).content.replace("x005F_", "")
                node.clear()
                yield text

    def __getitem__(self, index: int) -> str:
        while index >= len(self._strings) and self._parsed is not None:
            try:
                self._strings.append(next(self._parsed))
            except StopIteration:
                self._parsed = None
        return self._strings[index]

    def __len__(self) -> int:
        return len(self._strings)


class _UnsizedSheet(ReadOnlyWorksheet):
    def _get_size(self) -> None:
        """Not sized: rows are streamed until they end."""


class _LazyReader(ExcelReader):
    def read_strings(self) -> None:
        part = self.package.find(SHARED_STRINGS)
        strings: LazySharedStrings | list[str] = []
        if part is not None:
            strings = LazySharedStrings(self.archive.open(part.PartName[1:]))
        self.shared_strings = strings

    def read_worksheets(self) -> None:
        """Worksheets only (chartsheets hold no cells), as unsized read-only sheets."""
        for sheet, rel in self.parser.find_sheets():
            if rel.target not in self.valid_files or "chartsheet" in rel.Type:
                continue
            worksheet = _UnsizedSheet(self.wb, sheet.name, rel.target, self.shared_strings)
            worksheet.sheet_state = sheet.state
            self.wb._sheets.append(worksheet)


def _open(data: bytes) -> Any:
    reader = _LazyReader(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
    reader.read()
    return reader.wb


def read_xlsx(data: bytes, sink: TextSink) -> None:
    budget = sink.budget
    workbook = _open(data)
    try:
        for sheet in workbook.worksheets:
            title = sheet.title
            sink.at(f"sheet '{title}'")
            rows_here = 0
            for rows_here, row in enumerate(sheet.iter_rows(values_only=True)):
                if budget.rows >= budget.bounds.max_rows or budget.cells >= budget.bounds.max_cells:
                    raise BoundHit(f"read the first {rows_here:,} rows of '{title}' (a file is read to at most "
                                   f"{budget.bounds.max_rows:,} rows and {budget.bounds.max_cells:,} cells)")
                if rows_here % _TIME_CHECK_ROWS == 0:
                    budget.check_time(f"row {rows_here + 1:,} of '{title}'")
                cells = [clean_cell(value) for value in row]
                while cells and not cells[-1]:
                    cells.pop()
                budget.rows += 1
                budget.cells += len(cells)
                if cells:
                    sink.line(CELL_SEPARATOR.join(cells), f"row {rows_here + 1:,} of '{title}'")
    finally:
        workbook.close()
