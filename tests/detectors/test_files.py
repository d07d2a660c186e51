"""Text out of files (shadowmap.detectors.files): each format from a real file written by
its own library, findings named by sheet/page/slide/member, the bounds (zip bombs, nesting,
rows, characters, time) stated, damaged and disguised files handled."""
from __future__ import annotations

import io
import os
import time

import pytest
from support.file_samples import customer, docx, pdf, pptx, xlsx, zip_bomb, zip_of

from shadowmap.detectors.files import FileBounds, read_file, sniff

EMAIL = "maria.garcia0@acme-mail.com"


def places_of(file_text, engine, entity_type: str) -> set[str | None]:
    return {file_text.place_of(f.start) for f in engine.scan(file_text.text) if f.entity_type == entity_type}


# ---- XLSX --------------------------------------------------------------------------------------
def test_xlsx_rows_are_read_and_findings_name_their_sheet(engine):
    got = read_file(xlsx(50))
    assert got.format == "xlsx" and got.complete, got.bounds_hit
    assert customer(3)[2] in got.text and "Quarterly plan" in got.text
    assert places_of(got, engine, "EMAIL_ADDRESS") == {"sheet 'Customers'"}
    assert got.place_of(got.text.index("Quarterly plan")) == "sheet 'Notes'"


def test_xlsx_row_bound_is_stated_with_the_sheet():
    got = read_file(xlsx(500), FileBounds(max_rows=101))
    # the Notes sheet's one row counts too: 100 rows of Customers (its header and 99 records)
    assert got.bounds_hit == ["read the first 100 rows of 'Customers' (a file is read to at most 101 rows "
                              "and 400,000 cells)"]
    assert customer(98)[2] in got.text and customer(99)[2] not in got.text
    assert not got.complete and got.read


def test_xlsx_without_personal_data_gives_no_findings(engine):
    from openpyxl import Workbook
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["SKU", "Qty", "Price"])
    for i in range(30):
        sheet.append([f"SKU-{4111 + i}", i, 19.99])     # near misses: numbers, not cards or phones
    out = io.BytesIO()
    workbook.save(out)
    got = read_file(out.getvalue())
    assert got.format == "xlsx" and "SKU-4115" in got.text
    assert list(engine.scan(got.text)) == []


# ---- DOCX, PPTX, PDF ---------------------------------------------------------------------------
def test_docx_paragraphs_and_tables(engine):
    data = docx(["Contract between Acme and the customer.", f"Contact: {EMAIL}"],
                table=[("Name", "Phone"), ("Maria Garcia", "(415) 555-0199")])
    got = read_file(data)
    assert got.format == "docx" and got.complete
    assert places_of(got, engine, "EMAIL_ADDRESS") == {"body"}
    assert places_of(got, engine, "PHONE_NUMBER") == {"table 1"}


def test_docx_near_miss_has_no_findings(engine):
    got = read_file(docx(["Invoice 2024-0415-555 for 12 units, reference AB-1234-5678."]))
    assert got.read and "Invoice 2024-0415-555" in got.text
    assert list(engine.scan(got.text)) == []


def test_pptx_findings_name_the_slide_and_notes(engine):
    got = read_file(pptx(["Roadmap for Q3", f"Escalations go to {EMAIL}"], notes="call (415) 555-0142 first"))
    assert got.format == "pptx" and got.complete
    assert places_of(got, engine, "EMAIL_ADDRESS") == {"slide 2"}
    assert places_of(got, engine, "PHONE_NUMBER") == {"notes of slide 2"}


def test_pdf_pages_are_read_by_pypdf_and_named(engine):
    got = read_file(pdf([["Terms of service", "nothing personal"], ["Customer contact:", EMAIL]]))
    assert got.format == "pdf" and got.complete, (got.error, got.bounds_hit)
    assert places_of(got, engine, "EMAIL_ADDRESS") == {"page 2"}


def test_pdf_page_bound_is_stated():
    got = read_file(pdf([["page one"], ["page two"], ["page three"]]), FileBounds(max_pages=2))
    assert got.bounds_hit == ["read the first 2 of 3 pages"]
    assert "page two" in got.text and "page three" not in got.text


# ---- CSV, JSON, plain text ---------------------------------------------------------------------
def test_csv_and_json_are_sniffed_and_read(engine):
    rows = "\n".join(",".join(customer(i)) for i in range(10))
    csv_file = read_file(("id,name,email,phone,address\n" + rows + "\n").encode())
    assert csv_file.format == "csv" and customer(4)[2] in csv_file.text
    json_file = read_file(b'{"customer": {"email": "%s", "plan": "pro"}}' % EMAIL.encode())
    assert json_file.format == "json"
    assert any(f.entity_type == "EMAIL_ADDRESS" for f in engine.scan(json_file.text))


# ---- ZIP: members, nesting, bombs --------------------------------------------------------------
def test_zip_members_are_read_and_named_recursively(engine):
    inner = zip_of({"export/customers.xlsx": xlsx(10)})
    got = read_file(zip_of({"readme.txt": b"quarterly export", "inner.zip": inner}))
    assert got.format == "zip" and got.complete, got.bounds_hit
    assert places_of(got, engine, "EMAIL_ADDRESS") == {
        "member 'inner.zip', member 'export/customers.xlsx', sheet 'Customers'"}
    assert got.place_of(got.text.index("quarterly export")) == "member 'readme.txt'"


def test_zip_nested_past_the_depth_is_not_opened():
    data = b"deep secret text"
    for level in range(4):
        data = zip_of({f"level{level}.zip" if level else "deep.txt": data})
    got = read_file(data, FileBounds(max_depth=2))
    assert "deep secret text" not in got.text
    assert got.bounds_hit == ["an archive nested more than 2 deep was not opened"]


def test_zip_bomb_is_refused_before_inflating():
    bomb = zip_bomb(64 << 20)
    assert len(bomb) < 1 << 20
    started = time.perf_counter()
    got = read_file(zip_of({"notes.txt": b"hello", "payload.zip": bomb}))
    assert time.perf_counter() - started < 1.0
    assert "hello" in got.text and not got.complete
    assert any("zip bomb" in note and "'zeros.txt'" in note for note in got.bounds_hit), got.bounds_hit


def test_zip_absolute_inflate_cap_holds_across_members():
    members = {f"part{i}.bin.txt": os.urandom(300_000).hex().encode()[:600_000] for i in range(4)}
    got = read_file(zip_of(members), FileBounds(max_inflated_bytes=1_000_000))
    assert not got.complete
    assert any("past 0 MiB inflated" in note or "inflated" in note for note in got.bounds_hit), got.bounds_hit
    assert sum(1 for p in got.places if p.startswith("member")) <= 1


def test_office_file_bomb_is_refused_before_the_library_opens_it():
    data = zip_of({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>",
                   "xl/worksheets/sheet1.xml": b" " * (64 << 20)})
    got = read_file(data)
    assert got.format == "xlsx" and not got.read
    assert "zip bomb" in (got.error or "")


# ---- damaged, disguised, unknown ---------------------------------------------------------------
@pytest.mark.parametrize("make", [lambda: xlsx(20), lambda: docx(["hello"]), lambda: pdf([["hello"]] * 3)])
def test_a_truncated_file_never_raises(make):
    data = make()
    got = read_file(data[: len(data) // 2])
    assert got.error is not None or got.bounds_hit, "a damaged file is never passed off as complete"


def test_the_format_comes_from_the_bytes_not_the_name():
    assert sniff(xlsx(1)) == "xlsx"
    assert sniff(docx(["x"])) == "docx"
    assert sniff(pptx(["x"])) == "pptx"
    assert sniff(pdf([["x"]])) == "pdf"
    assert sniff(b"just some notes, named report.pdf\n") == "text"
    assert sniff(zip_of({"a.txt": b"a"})) == "zip"
    assert sniff(b"\x89PNG\r\n\x1a\n" + bytes(40)) == "png"


def test_unknown_binary_is_reported_not_read():
    got = read_file(bytes(range(256)) * 10)
    assert got.format == "binary" and not got.read and got.text == ""


# ---- bounds: characters, time, input size ------------------------------------------------------
def test_character_and_time_bounds_are_stated():
    by_chars = read_file(xlsx(200), chars=2_000)
    assert len(by_chars.text) == 2_000
    assert any("at most 2,000 characters" in note or "characters" in note for note in by_chars.bounds_hit)
    by_time = read_file(xlsx(200), FileBounds(max_seconds=0.0))
    assert any("more than 0 s of CPU" in note for note in by_time.bounds_hit), by_time.bounds_hit
    # stopped before any text: not read at all (the policy's on_incomplete_file decides)
    assert not by_time.read and "nothing could be read" in (by_time.error or "")
    too_big = read_file(b"x" * 2048, FileBounds(max_input_bytes=1024))
    assert not too_big.read and "not read" in (too_big.error or "")
