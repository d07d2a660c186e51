"""XLSX workbooks through openpyxl in read-only mode: rows are streamed sheet by sheet (the
workbook is never loaded whole), each row one tab-separated line, and each finding can name
its sheet."""
from __future__ import annotations

import io

from openpyxl import load_workbook

from shadowmap.detectors.files.bounds import BoundHit
from shadowmap.detectors.files.result import CELL_SEPARATOR, TextSink, clean_cell

_TIME_CHECK_ROWS = 500


def read_xlsx(data: bytes, sink: TextSink) -> None:
    budget = sink.budget
    workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
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
