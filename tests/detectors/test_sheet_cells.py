"""The worksheet reader (detectors/files/sheet_cells.py) gives the values openpyxl gives."""
from __future__ import annotations

import datetime
import io
import zipfile

import openpyxl
import pytest
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont

from shadowmap.detectors.files import read_file
from shadowmap.detectors.files.result import clean_cell


def _workbook(write_only: bool) -> bytes:
    book = openpyxl.Workbook(write_only=write_only)
    if write_only:
        customers = book.create_sheet("Customers")
        notes = book.create_sheet("Notes")
    else:
        customers = book.active
        customers.title = "Customers"
        notes = book.create_sheet("Notes")
    customers.append(["id", "name", "email", "born", "active", "balance", None, "note"])
    customers.append([7, "Jane Roe", "jane.roe@example.org", datetime.datetime(1984, 3, 9), True, 1234.5, None,
                      "tab\there"])
    customers.append([8, "Ann Lee", None, datetime.date(1990, 12, 1), False, -0.25, "", "line\nbreak"])
    customers.append([])                     # an empty row between records
    customers.append([None, None, "late@example.org"])
    customers.append([9, 1e21, "x", datetime.datetime(2024, 5, 6, 7, 8, 9), 3, 0.1 + 0.2])
    notes.append(["rich", CellRichText(["plain ", TextBlock(InlineFont(b=True), "bold"), " tail"])])
    notes.append(["unicode", "Zoë Ångström 東京"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _openpyxl_lines(data: bytes) -> list[str]:
    """The text as openpyxl's own read-only rows give it (the reader before sheet_cells.py)."""
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True, rich_text=False)
    lines = []
    for sheet in book.worksheets:
        for row in sheet.iter_rows(values_only=True):
            cells = [clean_cell(value) for value in row]
            while cells and not cells[-1]:
                cells.pop()
            if cells:
                lines.append("\t".join(cells))
    book.close()
    return lines


@pytest.mark.parametrize("write_only", [False, True], ids=["shared strings", "inline strings"])
def test_a_workbook_reads_as_openpyxl_reads_it(write_only):
    data = _workbook(write_only)
    got = read_file(data)
    assert got.complete, got.bounds_hit
    assert got.text.splitlines() == _openpyxl_lines(data)
    assert "1984-03-09 00:00:00" in got.text          # a date cell is a date, not its serial number
    assert "plain bold tail" in got.text
    assert got.place_of(got.text.index("Zoë")) == "sheet 'Notes'"


def _with_sheet_xml(data: bytes, sheet_xml: str) -> bytes:
    """The workbook with its first sheet's XML replaced."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            body = sheet_xml.encode() if info.filename == "xl/worksheets/sheet1.xml" else source.read(info)
            target.writestr(info, body)
    return out.getvalue()


def test_prefixed_namespaces_phonetic_runs_and_formulas_read_as_their_values():
    sheet = ('<x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><x:sheetData>'
             '<x:row r="2"><x:c r="B2" t="inlineStr"><x:is><x:r><x:t>山田</x:t></x:r>'
             '<x:rPh sb="0" eb="2"><x:t>ヤマダ</x:t></x:rPh></x:is></x:c>'
             '<x:c r="D2" t="str"><x:f>CONCAT("a","@b.org")</x:f><x:v>a@b.org</x:v></x:c>'
             '<x:c r="E2"><x:f>1+1</x:f><x:v>2</x:v></x:c></x:row>'
             '</x:sheetData></x:worksheet>')
    data = _with_sheet_xml(_workbook(write_only=True), sheet)
    got = read_file(data)
    assert got.text.splitlines()[0] == "\t山田\t\ta@b.org\t2"
    assert "ヤマダ" not in got.text and "CONCAT" not in got.text
