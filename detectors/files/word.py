"""DOCX documents through python-docx: paragraphs, then tables (a row per line, cells
tab-separated), then headers and footers."""
from __future__ import annotations

import io

from docx import Document

from shadowmap.detectors.files.bounds import BoundHit
from shadowmap.detectors.files.result import CELL_SEPARATOR, TextSink, clean_cell


def read_docx(data: bytes, sink: TextSink) -> None:
    budget = sink.budget
    document = Document(io.BytesIO(data))
    sink.at("body")
    for number, paragraph in enumerate(document.paragraphs, 1):
        if number % 200 == 0:
            budget.check_time(f"paragraph {number:,}")
        if paragraph.text:
            sink.line(paragraph.text, f"paragraph {number:,}")
    for number, table in enumerate(document.tables, 1):
        sink.at(f"table {number}")
        budget.check_time(f"table {number}")
        for row in table.rows:
            cells = [clean_cell(cell.text) for cell in row.cells]
            budget.cells += len(cells)
            if budget.cells > budget.bounds.max_cells:
                raise BoundHit(f"stopped in table {number}: at most {budget.bounds.max_cells:,} cells a file")
            sink.line(CELL_SEPARATOR.join(cells), f"table {number}")
    for number, section in enumerate(document.sections, 1):
        for part, label in ((section.header, "header"), (section.footer, "footer")):
            lines = [p.text for p in part.paragraphs if p.text]
            if lines:
                sink.at(f"{label} of section {number}")
                for line in lines:
                    sink.line(line, f"{label} of section {number}")
