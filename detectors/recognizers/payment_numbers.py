"""Payment numbers Presidio's recognizers miss: card numbers of 12 to 19 digits (Maestro,
JCB, UnionPay, 19-digit Visa, Mastercard's 2-series) where the text says card, and US bank
(ACH) routing and account numbers.

A card number needs a valid Luhn check digit and a card word before it ("card", "cc",
"Visa", "Maestro" …); a routing number needs the ABA checksum and a word saying routing
(or ABA, RTN, transit); an account number needs a word saying account and, in the same
text, a routing number or a bank-transfer word. Without those words, digits are order,
ticket and build numbers.
"""
from __future__ import annotations

import regex as re

from shadowmap.detectors.recognizers.base import SecretRecognizer
from shadowmap.detectors.recognizers.secrets.rules import cases

_CARD_WORDS = ("card", "cc", "credit", "debit", "visa", "mastercard", "maestro", "amex", "jcb", "discover", "diners",
               "unionpay", "carte", "karte", "tarjeta", "carta", "kaart", "kort")
ROUTING_PREFIXES = frozenset(range(0, 13)) | frozenset(range(21, 33)) | frozenset(range(61, 73)) | {80}


def luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def aba_valid(digits: str) -> bool:
    """The ABA routing number checksum (weights 3, 7, 1) and a Federal Reserve prefix."""
    if len(digits) != 9 or not digits.isdigit() or int(digits[:2]) not in ROUTING_PREFIXES:
        return False
    return sum(int(d) * w for d, w in zip(digits, (3, 7, 1) * 3, strict=True)) % 10 == 0


class CardInContextRecognizer(SecretRecognizer):
    entity_type = "CREDIT_CARD"
    data_class = "payment"
    reason = "Payment card number"
    # A card word, a short gap without digits ("number is", "no.", "#:"), then 12-19 digits
    # in groups of 2-6 separated by one space or dash. No card number starts with 0 but
    # Maestro's old 0604 range.
    patterns = ((rf"(?<![A-Za-z])(?i:{'|'.join(_CARD_WORDS)})(?![a-z])[^\d\n]{{0,40}}?"
                 r"(?<![\d\-])(?P<value>(?:[1-9]\d{1,5}|0604\d{0,2})(?:[ \-]?\d{2,6}){1,8})(?![\d\-]|\.\d)", 0.9),)
    keywords = cases(*_CARD_WORDS)
    reach_before = 8
    reach_after = 96
    flags = re.MULTILINE

    def is_valid(self, value: str) -> bool:
        digits = re.sub(r"[ \-]", "", value)
        return 12 <= len(digits) <= 19 and luhn_valid(digits) and len(set(digits)) > 2


class AbaRoutingNumberRecognizer(SecretRecognizer):
    entity_type = "ABA_ROUTING_NUMBER"
    data_class = "payment"
    reason = "US bank routing (ABA) number"
    patterns = ((r"(?<![A-Za-z])(?i:routing|aba|rtn|transit)(?![a-z])[^\d\n]{0,30}?(?<!\d)(?P<value>\d{9})(?!\d)", 0.85),)
    keywords = (*cases("routing", "aba", "rtn", "transit"),)
    reach_before = 8
    reach_after = 64

    def is_valid(self, value: str) -> bool:
        return aba_valid(value)


_BANK_CONTEXT = re.compile(r"(?i:routing|\baba\b|\bach\b|direct deposit|wire|bank|iban|sort code|checking|savings)")
_ROUTING_IN_CONTEXT = re.compile(r"(?i:routing|aba|rtn|transit)[^\d\n]{0,30}?(?<!\d)(\d{9})(?!\d)")


class BankAccountNumberRecognizer(SecretRecognizer):
    entity_type = "US_BANK_ACCOUNT_NUMBER"
    data_class = "payment"
    reason = "Bank account number"
    patterns = ((r"(?<![A-Za-z])(?i:account|acct|a/c|checking|savings)(?![a-z])(?:[ .]*(?i:number|no\.?|num|nr\.?|#))?"
                 r"[ \t]*[:#=]?[ \t]*(?P<value>\d{6,17})(?![\d\-])", 0.85),)
    keywords = (*cases("account", "acct", "checking", "savings"), "a/c", "A/C")
    reach_before = 8
    reach_after = 64

    def find(self, text: str, near: list[int] | None = None) -> list[tuple[int, int, float]]:
        # An account number is bank data only where the text is about a bank transfer.
        if not _BANK_CONTEXT.search(text):
            return []
        routing = [m.group(1) for m in _ROUTING_IN_CONTEXT.finditer(text)]
        if routing and not any(aba_valid(number) for number in routing):
            return []     # a routing number with a bad checksum: not bank details
        return super().find(text, near)

    def is_valid(self, value: str) -> bool:
        return len(set(value)) > 2 and not aba_valid(value)
