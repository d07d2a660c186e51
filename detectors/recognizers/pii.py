"""Presidio's own PII recognizers, chosen and made offline-safe and cheaper.

Not a SecretRecognizer module: these wrap Presidio's predefined recognizers.
"""
from __future__ import annotations

import functools
import ipaddress

import phonenumbers

import regex as re
import tldextract
from presidio_analyzer import AnalysisExplanation, EntityRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts
from presidio_analyzer.predefined_recognizers import (
    CreditCardRecognizer,
    EmailRecognizer,
    IbanRecognizer,
    IpRecognizer,
    PhoneRecognizer,
    SpacyRecognizer,
    UkNinoRecognizer,
    UsSsnRecognizer,
)

# entity type -> (data class, reason). Data, not code: the engine labels findings from it.
PII_ENTITIES: dict[str, tuple[str, str]] = {
    "EMAIL_ADDRESS": ("pii", "Email address"),
    "PHONE_NUMBER": ("pii", "Phone number"),
    "PERSON": ("pii", "Person name"),
    "CREDIT_CARD": ("payment", "Payment card number"),
    "IBAN_CODE": ("payment", "IBAN bank account number"),
    "US_SSN": ("pii", "US social security number"),
    "UK_NINO": ("pii", "UK National Insurance number"),
    "IP_ADDRESS": ("pii", "IP address"),
}

# The bundled public-suffix snapshot only: the default extractor downloads the list on
# first use, which would put a network call on the paste path.
_OFFLINE_TLD = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


# local@domain.tld; the domain must end in a public suffix (checked below). Simpler than
# Presidio's pattern and several times faster on a dump with thousands of addresses.
_EMAIL = re.compile(r"(?<![\w.+\-])[\w.+\-%]{1,64}@(?P<domain>[A-Za-z0-9](?:[A-Za-z0-9\-]{0,62}\.)+[A-Za-z]{2,63})(?![\w\-])")


@functools.lru_cache(maxsize=4096)
def _public_domain(domain: str) -> bool:
    return _OFFLINE_TLD(domain).fqdn != ""


class OfflineEmailRecognizer(EmailRecognizer):
    """Email addresses whose domain has a public suffix (bundled list, never fetched)."""

    def analyze(self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None,
                regex_flags: int | None = None) -> list[RecognizerResult]:
        if "EMAIL_ADDRESS" not in entities or "@" not in text:
            return []
        results = []
        for match in _EMAIL.finditer(text):
            local = match.group()[: match.start("domain") - match.start() - 1]
            if local.startswith(".") or local.endswith(".") or not _public_domain(match.group("domain").lower()):
                continue
            results.append(_result(self, "EMAIL_ADDRESS", match.start(), match.end(), 1.0))
        return results


def _result(recognizer: EntityRecognizer, entity_type: str, start: int, end: int, score: float) -> RecognizerResult:
    return RecognizerResult(
        entity_type, start, end, score,
        analysis_explanation=AnalysisExplanation(recognizer.name, score),
        recognition_metadata={RecognizerResult.RECOGNIZER_NAME_KEY: recognizer.name,
                              RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: recognizer.id},
    )


# Phone-number candidates: an optional +CC, then 9-15 digits in groups separated by one
# space, dot, dash or a (area) code. One regex pass finds them; phonenumbers then checks
# only these strings instead of re-scanning the whole text once per region.
_PHONE_CANDIDATE = re.compile(
    r"(?<![\w+.\-/])(?:\+\d{1,3}[ .\-]?)?(?:\(\d{2,5}\)[ .\-]?)?\d{2,15}(?:[ .\-]\d{2,8}){0,4}(?![\w\-/]|\.\d)"
)
# "23 42 74 33 10": a hex dump's bytes (or a French number, a format not looked for).
_PAIRS = re.compile(r"\d\d(?: \d\d){3,}")
_DATE = re.compile(r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{4}")
# A digits-only run (no separators) is an order, build or account number as often as a
# phone: it needs a context word ("phone", "call" ...) to pass the threshold.
_BARE_SCORE = 0.4
# Past this many candidates in one window the rest are not checked: a dump of numbers
# would otherwise cost phonenumbers ~20 us each without end.
PHONE_MAX_CANDIDATES = 20_000


class ValidatedPhoneRecognizer(PhoneRecognizer):
    """Phone numbers from a candidate regex, each validated by phonenumbers (a real number
    plan; tried as US, then UK national formats, and any +CC international number).

    Why not Presidio's: it runs phonenumbers' matcher over the whole text once per region
    (8 by default), the costliest recognizer. A formatted number with 10+ digits that is not
    a date scores above the threshold without a context word (a table's "phone" header is
    far from most rows); a bare digit run keeps 0.4 and needs context. National formats of
    other countries are left out (FR "23 42 74 33 10" is also a hex dump)."""

    FORMATTED_SCORE = 0.6
    REGIONS = ("US", "GB")

    def __init__(self) -> None:
        super().__init__(supported_regions=self.REGIONS)

    def _parse(self, value: str):
        if value.startswith("+"):
            try:
                number = phonenumbers.parse(value, None)
            except phonenumbers.NumberParseException:
                return None
            return number if phonenumbers.is_valid_number(number) else None
        digits = "".join(c for c in value if c.isdigit())
        # The national shapes of the two regions, checked before phonenumbers (most digit
        # runs in a dump are neither): US 10 digits (area code 2-9) or 1 + 10; UK trunk 0.
        if len(digits) == 10 and digits[0] in "23456789" or len(digits) == 11 and digits[0] == "1":
            region = "US"
        elif digits[0] == "0" and len(digits) in (10, 11):
            region = "GB"
        else:
            return None
        try:
            number = phonenumbers.parse(value, region)
        except phonenumbers.NumberParseException:
            return None
        return number if phonenumbers.is_valid_number(number) else None

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        if "PHONE_NUMBER" not in entities:
            return []
        results: list[RecognizerResult] = []
        for i, match in enumerate(_PHONE_CANDIDATE.finditer(text)):
            if i >= PHONE_MAX_CANDIDATES:
                break
            value = match.group()
            digits = sum(c.isdigit() for c in value)
            if not 9 <= digits <= 15 or _DATE.search(value) or _PAIRS.fullmatch(value) or self._parse(value) is None:
                continue
            formatted = digits != len(value)
            score = self.FORMATTED_SCORE if formatted and digits >= 10 else _BARE_SCORE
            results.append(_result(self, "PHONE_NUMBER", match.start(), match.end(), score))
        return results


# A dotted quad after one of these words is a version, not an address.
_VERSION_BEFORE = re.compile(r"(?:version|firmware|build|release|v|ver|rev)[\s:=]*$", re.IGNORECASE)


# Dotted quads, and IPv6 written with at least two colons; ipaddress decides.
_IP_CANDIDATE = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w]|\.\d)"
                           r"|(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?:(?<=:)(?:\d{1,3}\.){3}\d{1,3})?(?![\w:])")


class ValidatedIpRecognizer(IpRecognizer):
    """Addresses that point at a machine: not 0.0.0.0, loopback, broadcast or a netmask,
    and not a version number ("firmware 2.1.9.20"). One candidate regex, then ipaddress:
    Presidio's IPv6 pattern alone costs more than all our secret recognizers."""

    SCORE = 0.6

    def analyze(self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None,
                regex_flags: int | None = None) -> list[RecognizerResult]:
        if "IP_ADDRESS" not in entities:
            return []
        kept = []
        for match in _IP_CANDIDATE.finditer(text):
            value = match.group()
            if "." not in value and value.count(":") < 2:
                continue
            try:
                ip = ipaddress.ip_address(value)
            except ValueError:
                continue
            if ip.is_loopback or ip.is_unspecified or ip.is_multicast or ip.is_reserved or value.startswith("255."):
                continue
            if _VERSION_BEFORE.search(text, max(0, match.start() - 12), match.start()):
                continue
            kept.append(_result(self, "IP_ADDRESS", match.start(), match.end(), self.SCORE))
        return kept


def build_pii_recognizers() -> list[EntityRecognizer]:
    return [
        OfflineEmailRecognizer(),
        ValidatedPhoneRecognizer(),
        SpacyRecognizer(supported_entities=["PERSON"]),
        CreditCardRecognizer(),
        IbanRecognizer(),
        UsSsnRecognizer(),
        ValidatedIpRecognizer(),
        UkNinoRecognizer(),
    ]
