"""Street addresses, dates of birth in context, and national phone formats outside the
US and UK: true cases and near misses, through the real engine."""
import pytest

ADDRESSES = [
    ("Ship to 1600 Pennsylvania Avenue, Washington, DC 20500 please", ["1600 Pennsylvania Avenue, Washington, DC 20500"]),
    ("Deliver to 221B Baker Street, London NW1 6XE.", ["221B Baker Street, London NW1 6XE"]),
    ("She lives at 42 Elm St. near the park", ["42 Elm St."]),
    ("Office: 350 5th Ave, New York, NY 10118", ["350 5th Ave, New York, NY 10118"]),
    ("Flat 2, 15 Acacia Road, Leeds LS6 2AB", ["15 Acacia Road, Leeds LS6 2AB"]),
    ("Send it to 10-12 Church Lane, Apt 4B, Springfield, IL 62704", ["10-12 Church Lane, Apt 4B, Springfield, IL 62704"]),
    # near misses
    ("Meet in Room 101, Building 4.", []),                           # no street
    ("release v2.10 Main St build passed", []),                      # a version before the name
    ("since 1998 Main Street has changed a lot", []),                # a year, not a house number
    ("for way in range(10): step = 10 * way", []),                  # code
    ("Traffic on Highway 101 is slow, take exit 4", []),             # road number after the road
    ("we ordered 3 large pizzas and 2 Cokes", []),                   # no street suffix
]

BIRTH_DATES = [
    ("Patient DOB: 1985-03-12, allergies none", ["1985-03-12"]),
    ("Date of birth: 12/03/1985", ["12/03/1985"]),
    ("She was born on 4 July 1976 in Leeds.", ["4 July 1976"]),
    ("Herr Müller, geboren am 03.05.1990, wohnt in Köln.", ["03.05.1990"]),
    ('{"name": "Jane Roe", "dob": "1979-11-30"}', ["1979-11-30"]),
    ("patient_dob=1971-06-01", ["1971-06-01"]),
    ("Date of Birth: March 14, 1992", ["March 14, 1992"]),
    ("D.O.B. 07.08.1965", ["07.08.1965"]),
    # near misses: a date without birth context, an impossible or future date, a year alone
    ("Invoice date 2025-03-12, due 12/04/2025.", []),
    ("The project was born out of a hackathon on 2024-05-05 and shipped on 2024-06-01.", []),
    ("Release 2.14.3 on 14 March 2025", []),
    ("birth_date='1990-02-30'", []),                                  # no such day
    ("dob = 2099-01-01", []),                                         # in the future
    ("born in 1985", []),                                             # a year, not a date
]

PHONES = [
    ("Call +49 30 12345678 tomorrow", ["+49 30 12345678"]),
    ("Bureau : +33 1 42 68 53 00", ["+33 1 42 68 53 00"]),
    ("Kantoor +31 20 123 4567", ["+31 20 123 4567"]),
    ("Oficina +34 912 345 678", ["+34 912 345 678"]),
    ("Ufficio +39 06 1234 5678", ["+39 06 1234 5678"]),
    ("Office +91 98765 43210", ["+91 98765 43210"]),
    ("Sydney office +61 2 9876 5432", ["+61 2 9876 5432"]),
    ("Toronto +1 416 555 0199", ["+1 416 555 0199"]),
    ("São Paulo +55 11 91234-5678", ["+55 11 91234-5678"]),
    ("Berlin +49 (0)30 1234567", ["+49 (0)30 1234567"]),
    # national layouts, where a word says phone
    ("Telefon: 030 12345678", ["030 12345678"]),
    ("Tél : 01 42 68 53 00", ["01 42 68 53 00"]),
    ("Telefoon 020 123 4567", ["020 123 4567"]),
    ("Teléfono 912 345 678", ["912 345 678"]),
    ("Cellulare 06 1234 5678", ["06 1234 5678"]),
    ("Mobile: 098765 43210", ["098765 43210"]),
    ("Phone (02) 9876 5432", ["(02) 9876 5432"]),
    ("Celular (11) 91234-5678", ["(11) 91234-5678"]),
    # near misses: the same digit shapes without a word saying phone, hex bytes, ids
    ("ref 01 42 68 53 00", []),
    ("bytes 23 42 74 33 10 ff", []),
    ("build 912 345 678 passed", []),
    ("Batch 30 2735 2584 processed", []),                            # US digits, not a US layout
    ("client 81.59.129.117 connected", []),                          # an IPv4 address
    ("+49 30 1234", []),                                             # too short for Berlin
]


@pytest.mark.parametrize("text,expected", ADDRESSES)
def test_street_address(spans, text, expected):
    assert spans(text, "STREET_ADDRESS") == expected


@pytest.mark.parametrize("text,expected", BIRTH_DATES)
def test_date_of_birth_in_context(spans, text, expected):
    assert spans(text, "DATE_OF_BIRTH") == expected


@pytest.mark.parametrize("text,expected", PHONES)
def test_national_and_international_phones(spans, text, expected):
    assert spans(text, "PHONE_NUMBER") == expected


def test_birth_date_column_of_a_table(engine):
    rows = ["id,full_name,email,birth_date"] + [
        f"{i},Jane Roe{i},jane{i}@acme.io,19{60 + i}-0{1 + i % 9}-1{i % 9}" for i in range(6)]
    text = "\n".join(rows) + "\n"
    found = [(f.entity_type, text[f.start:f.end]) for f in engine.scan(text) if f.entity_type == "DATE_OF_BIRTH"]
    assert [value for _type, value in found] == [f"19{60 + i}-0{1 + i % 9}-1{i % 9}" for i in range(6)]
    bulk = [f for f in engine.scan(text) if f.entity_type == "BULK_RECORDS"]
    assert len(bulk) == 1 and "dates of birth" in bulk[0].reason


def test_a_table_of_dates_without_a_birth_column_is_silent(engine):
    text = "\n".join(["id,event,date"] + [f"{i},deploy,2025-0{1 + i}-1{i}" for i in range(6)]) + "\n"
    assert [f for f in engine.scan(text) if f.entity_type == "DATE_OF_BIRTH"] == []


def test_findings_say_what_they_are(engine):
    text = "DOB: 1985-03-12, 221B Baker Street, London NW1 6XE"
    found = {f.entity_type: (f.reason, f.severity, f.data_class) for f in engine.scan(text)}
    assert found["DATE_OF_BIRTH"] == ("Date of birth", "medium", "pii")
    assert found["STREET_ADDRESS"] == ("Street address", "medium", "pii")
