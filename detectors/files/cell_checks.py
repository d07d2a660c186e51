"""Cheap checks of one table cell for one entity type: does the whole cell hold a value of
that type? Each is a pattern anchored at both ends of the cell, then the validator the
engine's recognizer runs (a public suffix, a Luhn digit, a real date), and gives the score
that recognizer gives the value's shape.

Each check is meant to pass only cells the engine would find, whole, as that type: its
pattern is the recognizer's own where it is public, else a narrower one (the canonical
shapes). A table_scan column is checked this way only after its sample showed that the
check and the engine agree there (column_types.py); a cell a check does not pass goes to
the engine like any text, so a narrow check costs time, never a finding.
"""
from __future__ import annotations

import functools
import re
from collections.abc import Callable

from presidio_analyzer.predefined_recognizers import CreditCardRecognizer

from shadowmap.detectors.recognizers.emails import OfflineEmailRecognizer, role_mailbox
from shadowmap.detectors.recognizers.payment_numbers import luhn_valid
from shadowmap.detectors.recognizers.personal import StreetAddressRecognizer, birth_date
from shadowmap.detectors.recognizers.pii import ValidatedPhoneRecognizer

# A check: the cell's value -> the score its shape earns, or None when it does not pass.
CellCheck = Callable[[str], float | None]

# The patterns are the standard library's (two to three times faster on a short string than
# the regex module's) and ASCII where the recognizer's own allow more: narrower, never wider.
# local@domain.tld, as the email recognizer matches it (pii.py), on the whole cell.
_EMAIL = re.compile(r"(?P<local>[A-Za-z0-9_.+\-%]{1,64})@(?P<domain>[A-Za-z0-9](?:[A-Za-z0-9\-]{0,62}\.)+[A-Za-z]{2,63})")
_EMAIL_SCORE = 1.0


@functools.cache
def _email_recognizer() -> OfflineEmailRecognizer:
    return OfflineEmailRecognizer()


@functools.lru_cache(maxsize=4096)
def _public_domain(domain: str) -> bool:
    """The email recognizer's own verdict on an address at ``domain`` (its public-suffix
    list, never fetched): one call per distinct domain."""
    return bool(_email_recognizer().analyze(f"a@{domain}", ["EMAIL_ADDRESS"]))


def email(value: str) -> float | None:
    match = _EMAIL.fullmatch(value)
    if match is None:
        return None
    local = match.group("local")
    if (local.startswith(".") or local.endswith(".") or role_mailbox(local)
            or not _public_domain(match.group("domain").lower())):
        return None   # (as the paste scan: a function's mailbox is not a person's)
    return _EMAIL_SCORE


# A North American number written 3-3-4 with separators (area code and exchange 2-9), with
# +1, 1 or 001 before it and an extension after it: a phone by its shape for the phone
# recognizer whatever phonenumbers says (pii.py), reported with its extension, so checking
# it needs no number-plan lookup. Narrower than the recognizer's candidates: a "1" before a
# bracketed area code, for one, goes to the engine.
_NANP = re.compile(r"(?:\+1[ .\-]?|(?:1|001)[ .\-](?=[0-9]))?(?:\([2-9][0-9]{2}\)[ .\-]?|[2-9][0-9]{2}[ .\-])"
                   r"[2-9][0-9]{2}[ .\-][0-9]{4}(?:[ ]?(?:x|ext\.?|extension|\#)[ ]?[0-9]{1,6})?")


def phone(value: str) -> float | None:
    return ValidatedPhoneRecognizer.FORMATTED_SCORE if _NANP.fullmatch(value) else None


_ADDRESS_PATTERN, _ADDRESS_SCORE = StreetAddressRecognizer.patterns[0]
# The recognizer's pattern, on ASCII cells only: there the standard library reads it as the
# regex module does (its letters are ASCII; the two differ on some non-ASCII word characters).
_ADDRESS = re.compile(_ADDRESS_PATTERN, StreetAddressRecognizer.flags)


def street_address(value: str) -> float | None:
    """The street-address recognizer's pattern and its rule (personal.py): a year is not a
    house number unless a town follows."""
    match = _ADDRESS.fullmatch(value) if value.isascii() else None
    if match is None:
        return None
    place = match.group("place")
    if not place and value[:4].isdigit():
        number = value.split(" ", 1)[0].rstrip(",")
        if len(number) == 4 and number.isdigit() and 1900 <= int(number) <= 2100:
            return None
    return StreetAddressRecognizer.PLACE_SCORE if place else _ADDRESS_SCORE


_CARD = re.compile(CreditCardRecognizer.PATTERNS[0].regex)
_CARD_SCORE = 1.0       # Presidio's card recognizer, once the Luhn digit checks


def card(value: str) -> float | None:
    if not value.isascii() or _CARD.fullmatch(value) is None:
        return None
    digits = value.replace("-", "").replace(" ", "")
    return _CARD_SCORE if luhn_valid(digits) else None


# Two to four words of letters, the first and the last capitalised, one space, hyphen or
# apostrophe between them: narrower
# than what the engine takes for a name in a table's name column (bulk_records.py); the
# letters are checked by str.isalpha (Unicode letters, which the regex module's name
# pattern takes too).
_NAME = re.compile(r"[^\W\d_]+(?:[ '\-][^\W\d_]+){1,3}")
_NAME_WORDS = re.compile(r"[ '\-]")
_NAME_SEPARATORS = str.maketrans("", "", " '-")
_COLUMN_SCORE = 0.85    # the engine's score for a value its column's header names


def person(value: str) -> float | None:
    """A name-shaped value: only a column whose sampled names the engine found (its header
    says names) is checked with it."""
    if _NAME.fullmatch(value) is None or not value.translate(_NAME_SEPARATORS).isalpha():
        return None
    words = _NAME_WORDS.split(value)
    if not (words[0][:1].isupper() and words[-1][:1].isupper()):
        return None
    return _COLUMN_SCORE


def date_of_birth(value: str) -> float | None:
    """A plausible birth date: only a column whose sampled dates the engine found (its
    header says date of birth) is checked with it."""
    return _COLUMN_SCORE if birth_date(value) is not None else None


# Entity type -> its check, in the order a cell is tried (the shapes do not overlap).
CHECKS: dict[str, CellCheck] = {
    "EMAIL_ADDRESS": email,
    "PHONE_NUMBER": phone,
    "CREDIT_CARD": card,
    "STREET_ADDRESS": street_address,
    "DATE_OF_BIRTH": date_of_birth,
    "PERSON": person,
}
