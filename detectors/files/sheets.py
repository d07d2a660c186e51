"""XLSX workbooks: openpyxl reads the workbook's structure (its sheets, styles, date formats
and epoch), and the cells are streamed sheet by sheet straight from each sheet's XML
(sheet_cells.py), each row one tab-separated line, so each finding can name its sheet.

openpyxl reads the whole of two things when it opens a workbook: the shared-string table
(a 5 MB sheet of customers holds ~600,000 strings) and, for a sheet without a <dimension>
element (openpyxl's own write-only mode writes none), every row, to size the sheet; both
take seconds before the first row. Here the string table is read lazily, as far as the rows
read so far refer to it (writers number strings in order of first use), and sheets are not
sized (rows are read until they end), so the bounds on rows and time bound all the work.
Its per-cell objects cost ~1.3 s of CPU for the first megabyte of a sheet's text; the
expat reader gives the same values in a fraction of that (bench/files.py).
"""
from __future__ import annotations

import io
from typing import Any

from openpyxl.reader.excel import ExcelReader
from openpyxl.worksheet._read_only import ReadOnlyWorksheet
from openpyxl.xml.constants import SHARED_STRINGS

from shadowmap.detectors.files.bounds import BoundHit
from shadowmap.detectors.files.result import CELL_SEPARATOR, TextSink, clean_cell
from shadowmap.detectors.files.sheet_cells import SharedStrings, SheetRows


class _UnsizedSheet(ReadOnlyWorksheet):
    def _get_size(self) -> None:
        """Not sized: rows are streamed until they end."""


class _LazyReader(ExcelReader):
    def read_strings(self) -> None:
        part = self.package.find(SHARED_STRINGS)
        strings: SharedStrings | list[str] = []
        if part is not None:
            strings = SharedStrings(self.archive.open(part.PartName[1:]))
        self.shared_strings = strings

    def read_worksheets(self) -> None:
        """Worksheets only (chartsheets hold no cells), as unsized read-only sheets."""
        for sheet, rel in self.parser.find_sheets():
            if rel.target not in self.valid_files or "chartsheet" in rel.Type:
                continue
            worksheet = _UnsizedSheet(self.wb, sheet.name, rel.target, self.shared_strings)
            worksheet.sheet_state = sheet.state
            self.wb._sheets.append(worksheet)


def _open(data: bytes) -> tuple[Any, SharedStrings | list[str]]:
    reader = _LazyReader(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
    reader.read()
    return reader.wb, reader.shared_strings


def read_xlsx(data: bytes, sink: TextSink) -> None:
    budget = sink.budget
    workbook, strings = _open(data)
    try:
        cells = SheetRows(strings, workbook._date_formats, workbook._timedelta_formats, workbook.epoch)
        for sheet in workbook.worksheets:
            title = sheet.title
            sink.at(f"sheet '{title}'", table=True)
            with workbook._archive.open(sheet._worksheet_path) as source:
                # the CPU-time bound is checked after each chunk of XML parsed
                def check(row: int, title: str = title) -> None:
                    budget.check_time(f"row {row:,} of '{title}'")
                for row_number, row in cells.rows(source, check):
                    if budget.rows >= budget.bounds.max_rows or budget.cells >= budget.bounds.max_cells:
                        raise BoundHit(f"read the first {row_number - 1:,} rows of '{title}' (a file is read to at "
                                       f"most {budget.bounds.max_rows:,} rows and {budget.bounds.max_cells:,} cells)")
                    values = [clean_cell(value) for value in row]
                    while values and not values[-1]:
                        values.pop()
                    budget.rows += 1
                    budget.cells += len(values)
                    if values:
                        sink.line(CELL_SEPARATOR.join(values), f"row {row_number:,} of '{title}'")
    finally:
        workbook.close()
