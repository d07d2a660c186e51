"""Phones with extensions, bare runs next to a word saying phone, and national formats
of countries beyond the US and UK; near misses: digits that are not phones."""
import pytest

from shadowmap.detectors.recognizers.pii import ValidatedPhoneRecognizer


@pytest.mark.parametrize("text, phone", [
    ("Call me on 337-843-6481x8029 after 3pm.", "337-843-6481x8029"),
    ("Support line: +1 (800) 555-0199 ext. 42.", "+1 (800) 555-0199 ext. 42"),
    ("my cell got cut off, call me on 4158675309 when you can", "4158675309"),
    ("Ring the office on 020 7946 0958 and ask for accounts.", "020 7946 0958"),
    ("Rufen Sie mich bitte unter 030 12345678 an.", "030 12345678"),
    ("Vous pouvez me joindre au 01 23 45 67 89 demain.", "01 23 45 67 89"),
    ("Bel me op 06 12345678, groet.", "06 12345678"),
    ("Call (02) 9876 5432 for the Sydney office.", "(02) 9876 5432"),
    # an international number with the trunk 0 in brackets
    ("Call me at +31 (0)20 123 4567 tomorrow.", "+31 (0)20 123 4567"),
    # after a word saying phone, a +CC number of a length its country allows, whatever its area code
    ("Can someone call me on +3117 7517843? I have some questions.", "+3117 7517843"),
    ("You can reach me at +31(0)312-222486.", "+31(0)312-222486"),
    # hyphens or dots between the groups: "61-7-8392" is no date (no day 61, no year 8392)
    ("Please have the manager call me at +61-7-8392-6027 today.", "+61-7-8392-6027"),
    ("Can someone call me on +61.7.9445.7399? I have some questions.", "+61.7.9445.7399"),
])
def test_phones(spans, text, phone):
    assert spans(text, "PHONE_NUMBER") == [phone]


@pytest.mark.parametrize("text", [
    "Order 4158675309 shipped yesterday.",        # a bare run without a phone word
    "invoice 555-123-4567 is overdue",             # exchange starting with 1: no NANP number
    "hexdump: 23 42 74 33 10 ff",                  # byte pairs
    "build +3117 7517843 passed",                  # not a valid number, and no word saying phone
    "call me on +31 12",                           # too short for its country
    "call me on 12-05-2024",                       # a date, whatever word is before it
    "phone: 2024-05-12 was the last call",
])
def test_phone_near_misses(spans, text):
    assert spans(text, "PHONE_NUMBER") == []


def test_at_least_fifteen_countries_national_formats():
    regions = {*ValidatedPhoneRecognizer.REGIONS, *ValidatedPhoneRecognizer.CONTEXT_REGIONS}
    assert len(regions) >= 15


# Every configured country, in its national layout after a word saying phone (in its own
# language where the word differs) and in international layout; numbers valid in each plan.
BY_COUNTRY = [
    ("US", "Call me at (312) 555-0148 tonight.", "(312) 555-0148"),
    ("GB", "Ring the office on 020 7946 0958 and ask for accounts.", "020 7946 0958"),
    ("DE", "Telefon: 030 12345678", "030 12345678"),
    ("FR", "Tél : 01 42 68 53 00", "01 42 68 53 00"),
    ("NL", "Telefoon 020 123 4567", "020 123 4567"),
    ("ES", "Teléfono 912 345 678", "912 345 678"),
    ("IT", "Cellulare 06 1234 5678", "06 1234 5678"),
    ("IN", "Mobile: 098765 43210", "098765 43210"),
    ("AU", "Phone (02) 9876 5432", "(02) 9876 5432"),
    ("CA", "Toronto +1 416 555 0199", "+1 416 555 0199"),
    ("BR", "Celular (11) 91234-5678", "(11) 91234-5678"),
    ("SE", "Ring mig på mobil 070-274 91 36 efter lunch.", "070-274 91 36"),
    ("SE", "Växel: +46 8 452 19 00", "+46 8 452 19 00"),
    ("NO", "Ring meg på mobil 412 38 761.", "412 38 761"),            # eight digits: a whole number
    ("NO", "Sentralbord +47 22 48 71 90", "+47 22 48 71 90"),
    ("DK", "Ring på tlf. 33 91 24 80 i morgen.", "33 91 24 80"),
    ("DK", "Kontor +45 33 91 24 80", "+45 33 91 24 80"),
    ("FI", "Puhelin 040 528 1937", "040 528 1937"),
    ("FI", "Toimisto +358 9 4245 7700", "+358 9 4245 7700"),
    ("PL", "Telefon komórkowy 601 234 567", "601 234 567"),
    ("PL", "Biuro +48 22 628 41 90", "+48 22 628 41 90"),
    ("PT", "Telemóvel: 912 857 340", "912 857 340"),
    ("PT", "Escritório +351 21 347 88 20", "+351 21 347 88 20"),
    ("BE", "GSM: 0471 23 45 67", "0471 23 45 67"),
    ("BE", "Bureel +32 2 513 89 40", "+32 2 513 89 40"),
    ("CH", "Natel 079 345 12 89", "079 345 12 89"),
    ("CH", "Büro +41 44 268 71 11", "+41 44 268 71 11"),
    ("AT", "Handy: 0660 4821937", "0660 4821937"),
    ("AT", "Büro Wien +43 1 53456 220", "+43 1 53456 220"),
    ("IE", "Mobile: 087 412 3456", "087 412 3456"),
    ("IE", "Dublin office +353 1 671 4400", "+353 1 671 4400"),
    ("JP", "携帯電話 090-3841-2276", "090-3841-2276"),
    ("JP", "Tokyo office +81 3-3580-4321", "+81 3-3580-4321"),
    ("MX", "Celular: 55 4123 8890", "55 4123 8890"),
    ("MX", "Oficina +52 55 5130 4400", "+52 55 5130 4400"),
    ("NZ", "Mobile 021 384 2217", "021 384 2217"),
    ("NZ", "Auckland office +64 9 379 6410", "+64 9 379 6410"),
    ("SG", "Mobile: 9123 4876", "9123 4876"),                          # eight digits
    ("SG", "Office +65 6221 7755", "+65 6221 7755"),
    ("ZA", "Cell: 082 412 3387", "082 412 3387"),
    ("ZA", "Cape Town office +27 21 418 3960", "+27 21 418 3960"),
]


@pytest.mark.parametrize("country, text, phone", BY_COUNTRY, ids=[f"{c}-{i}" for i, (c, _t, _p) in enumerate(BY_COUNTRY)])
def test_phones_of_every_configured_country(spans, country, text, phone):
    assert spans(text, "PHONE_NUMBER") == [phone]


def test_every_configured_country_has_an_example():
    regions = {*ValidatedPhoneRecognizer.REGIONS, *ValidatedPhoneRecognizer.CONTEXT_REGIONS}
    assert {country for country, _text, _phone in BY_COUNTRY} == regions


@pytest.mark.parametrize("text", [
    "Varenr. 33 91 24 80 er udsolgt.",            # a Danish number's shape, no word saying phone
    "Tilaus 040 528 1937 lähetetty.",             # a Finnish mobile's shape in an order line
    "Batch 9123 4876 done",                       # Singapore's eight digits, no phone word
    "Ring meg på mobil 0000 1111.",               # eight digits of no number plan
    "tlf. 2024-03-11",                            # a date after the word
])
def test_national_layout_near_misses(spans, text):
    assert spans(text, "PHONE_NUMBER") == []
