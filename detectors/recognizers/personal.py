"""Personal data Presidio has no recognizer for: street addresses and dates of birth.

Both are declared like the secret recognizers (patterns, keywords every match contains,
a validator), with ``data_class = "pii"``, so they share the engine's one keyword pass.
A date alone is not personal data (releases, invoices, logs are full of them): only a
date that the text says is a birth date is a finding. Dates of birth in a table column
(``dob``, ``birth_date`` ...) come from the column, see ``bulk_records.person_cells``.
"""
from __future__ import annotations

import datetime

import regex as re

from shadowmap.detectors.recognizers.base import SecretRecognizer
from shadowmap.detectors.recognizers.secrets.rules import cases

# --- street addresses (US / UK style) -------------------------------------------------

STREET_SUFFIXES = (
    "Street", "St", "Avenue", "Ave", "Road", "Rd", "Lane", "Ln", "Drive", "Dr", "Boulevard", "Blvd",
    "Court", "Ct", "Way", "Place", "Pl", "Terrace", "Close", "Crescent", "Square", "Sq", "Highway", "Hwy",
    "Parkway", "Pkwy", "Circle", "Cir", "Gardens", "Grove", "Row", "Mews", "Walk", "Trail", "Plaza",
)
_SUFFIX = "|".join(sorted(STREET_SUFFIXES, key=len, reverse=True))
_WORD = r"[A-Z][a-z]{1,20}"
# US: ", Springfield, IL 62704"; UK: ", London SW1A 1AA" (the postcode's own shape).
_US_STATE_ZIP = r"[A-Z]{2}[ ]\d{5}(?:-\d{4})?"
_UK_POSTCODE = r"[A-Z]{1,2}\d[A-Z\d]?[ ]\d[A-Z]{2}"
_ADDRESS = (
    # Not inside a token, a version or a path: "v2.10 Main St", "/10 Way".
    r"(?<![\w.\-/#:])"
    # The house number (221B, 10-12), then the street's name: capitalised words or "5th".
    rf"\d{{1,5}}[A-Z]?(?:-\d{{1,5}})?,?[ ](?:{_WORD}|\d{{1,3}}(?:st|nd|rd|th))(?:[ ]{_WORD}){{0,3}}"
    rf"[ ](?:{_SUFFIX})\.?(?![\w\-])"
    r"(?P<unit>,?[ ](?:Apt|Suite|Ste|Unit|Flat)\.?[ ]?\#?[A-Za-z0-9]{1,5})?"
    rf"(?P<place>,[ ]{_WORD}(?:[ ]{_WORD}){{0,2}}(?:,?[ ](?:{_US_STATE_ZIP}|{_UK_POSTCODE}))?(?![\w]))?"
)


class StreetAddressRecognizer(SecretRecognizer):
    entity_type = "STREET_ADDRESS"
    data_class = "pii"
    reason = "Street address"
    # A number, a named street and its suffix; with a town (and ZIP or postcode) it is
    # certainly an address. Both scores sit above the NER model's 0.85, so a street or a
    # town that looks like a name ("Baker", "Leeds") does not split the address.
    patterns = ((_ADDRESS, 0.86),)
    PLACE_SCORE = 0.95
    keywords = STREET_SUFFIXES
    reach_before = 128
    reach_after = 160

    def find(self, text: str, near: list[int] | None = None) -> list[tuple[int, int, float]]:
        found = []
        for match, score in self.matches(text, near):
            # "Room 101" or "Flat 2" have no street suffix and never match; a year is no
            # house number ("since 1998 Main Street" is a sentence, not an address).
            number = match.group().split(" ", 1)[0].rstrip(",")
            if len(number) == 4 and number.isdigit() and 1900 <= int(number) <= 2100 and not match.group("place"):
                continue
            found.append((match.start(), match.end(), self.PLACE_SCORE if match.group("place") else score))
        return found


# --- dates of birth, in context ----------------------------------------------------------

_MONTHS = {
    **{m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)},
    "sept": 9, "mär": 3, "mrz": 3, "mai": 5, "okt": 10, "dez": 12, "juni": 6, "juli": 7,
}
_MONTH_NAME = (r"(?:jan(?:uary|uar)?|feb(?:ruary|ruar)?|m(?:ar(?:ch)?|är(?:z)?|rz)|apr(?:il)?|ma[iy]|june?|juni|july?|juli"
               r"|aug(?:ust)?|sept?(?:ember)?|o[ck]t(?:ober)?|nov(?:ember)?|de[cz](?:ember)?)\.?")
_DATE = (
    r"(?P<ymd>\d{4})-(?P<m1>\d{1,2})-(?P<d1>\d{1,2})"
    r"|(?P<d2>\d{1,2})[/.\-](?P<m2>\d{1,2})[/.\-](?P<y2>\d{4}|\d{2})"
    rf"|(?P<d3>\d{{1,2}})(?:st|nd|rd|th)?\.?[ ](?P<mn3>{_MONTH_NAME}),?[ ](?P<y3>\d{{4}})"
    rf"|(?P<mn4>{_MONTH_NAME})[ ](?P<d4>\d{{1,2}})(?:st|nd|rd|th)?,?[ ](?P<y4>\d{{4}})"
)
# The words that make a date a birth date, in English, German, French and Spanish, and
# the column and field names used for it in code and exports.
_BIRTH_WORDS = (r"d\.?o\.?b|date[ _\-]?of[ _\-]?birth|birth[ _\-]?date|birthdate|birthday|born(?:[ ]on)?"
                r"|geboren(?:[ ]am)?|geburtsdatum|geburtstag|n[ée]e?[ ]le|date[ ]de[ ]naissance|fecha[ ]de[ ]nacimiento")


def _month(name: str) -> int | None:
    name = name.lower().rstrip(".")
    return _MONTHS.get(name) or _MONTHS.get(name[:4]) or _MONTHS.get(name[:3])


def birth_date(value: str) -> datetime.date | None:
    """The calendar date ``value`` spells (ISO, day-first d/m/y or d.m.y, or with a month
    name), when it is a plausible birth date: a real day, in the past, after 1900."""
    match = _DATE_ONLY.fullmatch(value.strip())
    if match is None:
        return None
    g = match.groupdict()
    month: int | None          # None: a month name that is not one
    if g["ymd"]:
        year, month, day = int(g["ymd"]), int(g["m1"]), int(g["d1"])
    elif g["y2"]:
        day, month, year = int(g["d2"]), int(g["m2"]), int(g["y2"])
        if month > 12 and day <= 12:          # US order: 03/27/1985
            day, month = month, day
        if year < 100:
            year += 1900
    elif g["y3"]:
        day, month, year = int(g["d3"]), _month(g["mn3"]), int(g["y3"])
    else:
        day, month, year = int(g["d4"]), _month(g["mn4"]), int(g["y4"])
    try:
        date = datetime.date(year, month or 0, day)
    except ValueError:
        return None
    return date if year >= 1900 and date <= datetime.date.today() else None


_DATE_ONLY = re.compile(_DATE, re.IGNORECASE)


class DateOfBirthRecognizer(SecretRecognizer):
    entity_type = "DATE_OF_BIRTH"
    data_class = "pii"
    reason = "Date of birth"
    # The birth word, a short gap (": ", " = '", " was "), then the date as the value.
    patterns = ((rf"(?<![A-Za-z0-9])(?i:{_BIRTH_WORDS})(?![a-z])[A-Za-z_\"' ]{{0,3}}[\s:=\-\"',.]{{0,5}}(?:(?i:it's|it’s|it is|its|is|was|am|on|ist|est|es|è)[ ]){{0,2}}"
                 rf"(?<!\d)(?P<value>(?i:{_DATE}))(?![\w])", 0.85),)
    keywords = (*cases("dob", "birth", "born", "geboren", "geburtsdatum", "geburtstag", "naissance", "nacimiento"),
                "D.O.B", "d.o.b", "Birth", "BirthDate", "birthDate", "Née le", "Né le", "né le", "née le")
    reach_before = 16
    reach_after = 96
    flags = re.MULTILINE

    def is_valid(self, value: str) -> bool:
        return birth_date(value) is not None
