"""Tables read column by column (detectors/files: cell_checks, column_types, table_scan): on
real workbooks written by openpyxl and read by read_file, the column-wise scan finds what
the engine finds reading the same text cell after cell, with the same spans, scores,
labels and bulk-records finding, also where a header lies, a column mixes kinds, or a cell
of a typed column is not what its column holds."""
from __future__ import annotations

import io
import random

import pytest
from faker import Faker
from support.file_samples import xlsx, zip_of

from shadowmap.detectors.files import read_file
from shadowmap.detectors.files.batch import FileScanner
from shadowmap.detectors.files.cell_checks import CHECKS
from shadowmap.detectors.files.column_types import SAMPLE_LINES, type_columns
from shadowmap.detectors.files.table_scan import _check_cells, scan_tables
from shadowmap.detectors.recognizers.bulk_records import find_runs
from shadowmap.detectors.scan_result import PHONE_BUDGET

ROWS = 300      # well past the sample, below the engine's phone budget (a text scan checks them all)
SECRET = "ghp_" + "R7x2Kq9LmZ4vB8nW1cY5tH3jD6fG0sPaE2uQ"     # a GitHub token's shape, random body


def workbook(header: list[str], rows: list[list[object]], title: str = "Customers") -> bytes:
    from openpyxl import Workbook
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title)
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def as_tuples(findings) -> set[tuple]:
    return {(f.entity_type, f.start, f.end, f.score, f.data_class, f.reason, f.severity) for f in findings}


def both_ways(engine, data: bytes):
    got = read_file(data)
    assert got.read and got.complete and got.tables, got.bounds_hit
    return got, engine.scan(got.text), scan_tables(engine, got.text, got.tables)


def column_types_of(engine, text: str) -> dict[str, set[str]]:
    (run,) = [r for r in find_runs(text) if r.kind == "table"]
    return {run.header[column]: {check.entity_type for check in checks}
            for column, checks in type_columns(engine, text, run).items()}


def customers(seed: int = 15) -> tuple[list[str], list[list[object]]]:
    """Faker's customers in two locales: their phones, addresses and names in all the shapes
    Faker writes (extensions, 001- prefixes, titles, flats), so some cells of every typed
    column fail its check and go to the engine. ``notes`` (the header lies) holds emails,
    ``contact`` mixes emails, phones and free text, ``comment`` is free text."""
    rng = random.Random(seed)
    fakes = [Faker("en_US"), Faker("en_GB")]
    for index, fake in enumerate(fakes):
        fake.seed_instance(seed + index)
    header = ["Customer ID", "Name", "Email", "Phone", "Address", "DOB", "Card", "notes", "contact", "comment"]
    rows: list[list[object]] = []
    for i in range(ROWS):
        fake = fakes[i % 2]
        contact = "ask for the billing team" if i % 9 == 4 else [fake.email(), fake.phone_number()][i % 2]
        comment = rng.choice(["renewal due", "VIP", "moved to the annual plan", f"wrote from {fake.email()} twice"])
        rows.append([f"C-{40_000 + i}", fake.name(), fake.email(), fake.phone_number() if i % 7 else None,
                     fake.address().replace("\n", ", "), fake.date_of_birth(minimum_age=18).isoformat(),
                     fake.credit_card_number(card_type=rng.choice(["visa16", "mastercard", "amex"])),
                     fake.email(), contact, comment])
    rows[SAMPLE_LINES + 40][8] = f"token {SECRET} for the import"       # past the sample, in the mixed column
    rows[SAMPLE_LINES + 50][2] = "maria@acme-mail.com; jo@northwind.io"  # two emails in an email column
    rows[SAMPLE_LINES + 60][7] = "Call Lucrezia, she handles the account"
    return header, rows


# ---- the checks, one cell at a time -------------------------------------------------------------
@pytest.mark.parametrize(("entity_type", "passes", "fails"), [
    ("EMAIL_ADDRESS", ["maria.garcia0@acme-mail.com", "j+tag@mail.example.co.uk"],
     [".maria@acme-mail.com", "maria.@acme-mail.com", "maria@host.invalidtld", "a@b.com, c@d.com",
      "write to maria@acme-mail.com", "maria@acme-mail"]),
    ("PHONE_NUMBER", ["(415) 555-0100", "415-555-0100", "+1 415 555 0100", "1-415-555-0100", "(415)555-0100",
                      "001-415-555-0100", "415-555-0100 x12", "415.555.0100 ext. 7"],
     ["415-555-0100 X12", "1 (415) 555-0100", "001 (415) 555-0100", "(115) 555-0100", "415-155-0100", "4155550100",
      "+44 20 7946 0958", "415-555-010"]),
    ("CREDIT_CARD", ["4111 1111 1111 1111", "5500-0000-0000-0004", "340000000000009"],
     ["4111 1111 1111 1112", "4111 1111 1111", "card 4111111111111111"]),
    ("STREET_ADDRESS", ["221B Baker Street", "1 Baker Street, London NW1 6XE", "10 Main St, Springfield, IL 62704"],
     ["1999 Main Street", "Baker Street", "12 Königstraße, 10115 Berlin", "221B Baker Street flat 3"]),
    ("DATE_OF_BIRTH", ["1985-03-01", "27/03/1985", "March 1, 1985"], ["2999-01-01", "31/02/1985", "1985"]),
    ("PERSON", ["Maria Garcia", "Zoë Núñez", "Jean-Luc Picard", "Mary Ann O'Neil"],
     ["Maria", "Dr. Maria Garcia", "Maria Garcia 2", "Maria  Garcia", "R2 D2"]),
])
def test_a_check_takes_a_whole_value_and_runs_its_validator(entity_type, passes, fails):
    check = CHECKS[entity_type]
    assert [value for value in passes if check(value) is None] == []
    assert [value for value in fails if check(value) is not None] == []


def test_what_a_check_passes_the_engine_finds_whole_as_that_type(engine):
    """Each check is narrower than its recognizer: every value the table above lets through
    is found, whole and as that type, by the engine in a table under a header that says so."""
    values = {"EMAIL_ADDRESS": ("Email", ["maria.garcia0@acme-mail.com", "j+tag@mail.example.co.uk"]),
              "PHONE_NUMBER": ("Phone", ["(415) 555-0100", "+1 415 555 0100", "1-415-555-0100", "(415)555-0100",
                                         "001-415-555-0100", "415-555-0100 x12", "415.555.0100 ext. 7"]),
              "CREDIT_CARD": ("Card", ["4111 1111 1111 1111", "5500-0000-0000-0004", "340000000000009"]),
              "STREET_ADDRESS": ("Address", ["221B Baker Street", "1 Baker Street, London NW1 6XE"]),
              "DATE_OF_BIRTH": ("DOB", ["1985-03-01", "27/03/1985"]),
              "PERSON": ("Name", ["Maria Garcia", "Zoë Núñez", "Jean-Luc Picard"])}
    for entity_type, (header, cells) in values.items():
        text = "\n".join([f"ID\t{header}\tPlan", *(f"{i}\t{cell}\tbasic" for i, cell in enumerate(cells * 3))])
        found = {(f.entity_type, text[f.start:f.end]) for f in engine.scan(text) if f.entity_type != "BULK_RECORDS"}
        assert found == {(entity_type, cell) for cell in cells}, entity_type


# ---- whole workbooks ----------------------------------------------------------------------------
def test_a_workbook_of_customers_gives_the_same_findings_column_by_column(engine):
    header, rows = customers()
    got, as_text, by_column = both_ways(engine, workbook(header, rows))
    assert as_text.limits == () and by_column.limits == ()
    assert as_tuples(by_column) == as_tuples(as_text)
    kinds = {f.entity_type for f in by_column}
    assert kinds >= {"PERSON", "EMAIL_ADDRESS", "PHONE_NUMBER", "STREET_ADDRESS", "DATE_OF_BIRTH", "CREDIT_CARD",
                     "GITHUB_PAT", "BULK_RECORDS"}, kinds
    # the columns were typed (else the comparison above proves nothing): the lying header and the mix too
    types = column_types_of(engine, got.text)
    assert types["name"] == {"PERSON"} and types["email"] == {"EMAIL_ADDRESS"} and types["dob"] == {"DATE_OF_BIRTH"}
    assert types["notes"] == {"EMAIL_ADDRESS"} and types["contact"] >= {"EMAIL_ADDRESS"}
    assert types["card"] == {"CREDIT_CARD"}
    assert "customer id" not in types and "comment" not in types
    (run,) = [r for r in find_runs(got.text) if r.kind == "table"]
    typed: list = []
    _check_cells(got.text, run, type_columns(engine, got.text, run), typed, [], 0)
    assert len(typed) > ROWS // 2, len(typed)      # rows read column by column, not only as text
    # the cells past the sample that are not what their column holds went to the engine
    text = got.text
    assert ("GITHUB_PAT", SECRET) in {(f.entity_type, text[f.start:f.end]) for f in by_column}
    emails = {text[f.start:f.end] for f in by_column if f.entity_type == "EMAIL_ADDRESS"}
    assert {"maria@acme-mail.com", "jo@northwind.io"} <= emails


def test_the_bench_sheet_finds_all_the_text_scan_finds_and_the_phones_past_its_budget(engine):
    """2,000 rows of the bench's customers: as text, phone validation stops at its budget
    (the result says so); column by column every phone cell is checked, the rest is equal."""
    got, as_text, by_column = both_ways(engine, xlsx(2000))
    assert [limit.kind for limit in as_text.limits] == [PHONE_BUDGET] and by_column.limits == ()
    phones = [f for f in by_column if f.entity_type == "PHONE_NUMBER"]
    assert len(phones) == 2000
    assert as_tuples(f for f in as_text if f.entity_type not in ("PHONE_NUMBER", "BULK_RECORDS")) == \
        as_tuples(f for f in by_column if f.entity_type not in ("PHONE_NUMBER", "BULK_RECORDS"))
    assert as_tuples(f for f in as_text if f.entity_type == "PHONE_NUMBER") < as_tuples(phones)
    ((bulk_text,), (bulk_columns,)) = ([f for f in r if f.entity_type == "BULK_RECORDS"] for r in (as_text, by_column))
    assert (bulk_text.start, bulk_text.end) == (bulk_columns.start, bulk_columns.end)
    assert bulk_columns.reason.startswith("2000 customer rows with names, emails and")
    assert {got.place_of(f.start) for f in by_column} == {"sheet 'Customers'"}


def test_a_name_shaped_column_under_another_header_is_not_taken_for_names(engine):
    products = ["Blue Widget", "Red Gadget", "Green Sprocket", "Silver Gizmo"]
    rows = [[f"P-{i}", products[i % 4], f"buyer{i}@acme-mail.com"] for i in range(ROWS)]
    got, as_text, by_column = both_ways(engine, workbook(["SKU", "Product", "Buyer"], rows, title="Orders"))
    assert column_types_of(engine, got.text) == {"buyer": {"EMAIL_ADDRESS"}}
    assert as_tuples(by_column) == as_tuples(as_text)
    assert "PERSON" not in {f.entity_type for f in by_column}


def test_dates_under_a_header_that_does_not_say_birth_are_not_taken_for_birth_dates(engine):
    """The date-of-birth check passes any plausible past date; the engine takes one for a
    birth date only under a header that says so: the sample disagrees, the column is the engine's."""
    rows = [[f"{i}", f"19{60 + i % 40}-0{1 + i % 9}-1{i % 10}", f"c{i}@acme-mail.com"] for i in range(ROWS)]
    got, as_text, by_column = both_ways(engine, workbook(["ID", "Signed up", "Email"], rows))
    assert column_types_of(engine, got.text) == {"email": {"EMAIL_ADDRESS"}}
    assert as_tuples(by_column) == as_tuples(as_text)
    assert "DATE_OF_BIRTH" not in {f.entity_type for f in by_column}


def test_short_tables_and_text_without_tables_are_scanned_as_text(engine):
    got = read_file(xlsx(SAMPLE_LINES - 1))
    assert as_tuples(scan_tables(engine, got.text, got.tables)) == as_tuples(engine.scan(got.text))
    text = "Maria Garcia, maria.garcia0@acme-mail.com, (415) 555-0100"
    assert as_tuples(scan_tables(engine, text, [])) == as_tuples(engine.scan(text))


def test_a_request_with_text_and_files_is_scanned_with_offsets_in_the_whole_text(engine):
    request = "Can you clean this up? Ask jo@northwind.io if unsure.\n"
    read = FileScanner().read([("one.xlsx", xlsx(200)), ("two.xlsx", xlsx(150, sheet="Leads"))], len(request),
                              1 << 20)
    whole = request + read.text
    found = read.scan(engine, request)
    assert as_tuples(found) == as_tuples(engine.scan(whole))
    assert ("EMAIL_ADDRESS", "jo@northwind.io") in {(f.entity_type, whole[f.start:f.end]) for f in found}
    read.locate(found)
    assert [facts.found_in for facts in read.facts] == [["sheet 'Customers'"], ["sheet 'Leads'"]]


def test_a_workbook_inside_an_archive_is_read_column_by_column_too(engine):
    got = read_file(zip_of({"notes.txt": b"quarterly numbers attached", "export/customers.xlsx": xlsx(200)}))
    assert len(got.tables) == 2       # the workbook's two sheets; the text file is not a table
    assert {got.place_of(start) for start, _ in got.tables} == {"member 'export/customers.xlsx', sheet 'Notes'",
                                                                 "member 'export/customers.xlsx', sheet 'Customers'"}
    assert as_tuples(scan_tables(engine, got.text, got.tables)) == as_tuples(engine.scan(got.text))


def test_a_cell_holding_a_role_mailbox_is_no_email_as_in_a_paste(engine):
    """The cell check and the text scan agree: a function's mailbox is not a person's."""
    email = CHECKS["EMAIL_ADDRESS"]
    assert email("dana.reyes@acme-corp.com") is not None
    for mailbox in ("ops@acme-corp.com", "no-reply@acme-corp.com", "support+eu@acme-corp.com"):
        assert email(mailbox) is None
        assert [f.entity_type for f in engine.scan(f"contact: {mailbox}")] == []
