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
])
def test_phones(spans, text, phone):
    assert spans(text, "PHONE_NUMBER") == [phone]


@pytest.mark.parametrize("text", [
    "Order 4158675309 shipped yesterday.",        # a bare run without a phone word
    "invoice 555-123-4567 is overdue",             # exchange starting with 1: no NANP number
    "hexdump: 23 42 74 33 10 ff",                  # byte pairs
])
def test_phone_near_misses(spans, text):
    assert spans(text, "PHONE_NUMBER") == []


def test_at_least_fifteen_countries_national_formats():
    regions = {*ValidatedPhoneRecognizer.REGIONS, *ValidatedPhoneRecognizer.CONTEXT_REGIONS}
    assert len(regions) >= 15
