"""Presidio's own PII recognizers, chosen and made offline-safe and cheaper.

Not a SecretRecognizer module: these wrap Presidio's predefined recognizers.
"""
from __future__ import annotations

import ipaddress
import re as stdlib_re
from typing import Any, ClassVar, Literal

import phonenumbers
import regex as re
from presidio_analyzer import EntityRecognizer, Pattern, PatternRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts
from presidio_analyzer.predefined_recognizers import (
    CreditCardRecognizer,
    IbanRecognizer,
    IpRecognizer,
    PhoneRecognizer,
    UkNinoRecognizer,
    UsSsnRecognizer,
)

from shadowmap.detectors.recognizers.base import presidio_result
from shadowmap.detectors.recognizers.emails import OfflineEmailRecognizer
from shadowmap.detectors.recognizers.ner_person import NerPersonRecognizer
from shadowmap.detectors.scan_result import PHONE_BUDGET, ScanLimit

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

# Phone-number candidates: an optional +CC, then 9-15 digits in groups separated by one
# space, dot, dash or a (area) code. One regex pass finds them; phonenumbers then checks
# only these strings instead of re-scanning the whole text once per region.
_PHONE_CANDIDATE = re.compile(
    # The lookahead (9 characters that can make a phone) skips the many shorter digit runs
    # (counts, times, ids) before they cost a Python-level check.
    r"(?<![\w+.\-/])(?=[\d+(][\d ().\-]{8})(?:\+\d{1,3}[ .\-]?)?(?:\(\d{1,5}\)[ .\-]?)?\d{1,15}(?:[ .\-]\d{2,8}){0,5}"
    # An extension: "x8029", " ext. 42", " #12"; validated without it, reported with it.
    r"(?P<ext>[ ]?(?:x|ext\.?|extension|\#)[ ]?\d{1,6})?(?![\w\-/]|\.\d)"
)
# "23 42 74 33 10": a hex dump's bytes (or a French number, a format not looked for).
_PAIRS = re.compile(r"\d\d(?: \d\d){3,}")
# "81.59.129.117" is an IPv4 address, whatever number plan its digits fit.
_DOTTED_QUAD = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")
# "2024-05-12", "12/05/2024": a date in a phone's shape. Only a real day, month and year are one:
# "+61-7-8392-6027" holds "61-7-8392", no date.
_DAY_OR_MONTH = r"(?:0?[1-9]|[12]\d|3[01])"
_DATE = re.compile(rf"(?<!\d)(?:(?:19|20)\d\d[-/.](?:0?[1-9]|1[0-2])[-/.]{_DAY_OR_MONTH}"
                   rf"|{_DAY_OR_MONTH}[-/.]{_DAY_OR_MONTH}[-/.](?:19|20)\d\d)(?!\d)")
# Words that say the number next to them is a phone, in the languages of the national
# formats below; within this many characters before the number.
_PHONE_CONTEXT = re.compile(
    r"(?i:phone|tel|telephone|mobile|mob|cell|call|fax|whats ?app|contact|telefon|handy|mobil|t[ée]l[ée]phone|t[ée]l"
    r"|portable|tel[ée]fono|m[óo]vil|cellulare|telefoon|celular|fone|ring|dial|sms|text me|messages?|reach|registered"
    r"|bel|rufen|joindre|appel|llama|chiama|tlf|tfn|puh|puhelin|matkapuhelin|telem[óo]vel|gsm|kom[óo]rka)\b[^\n\d]{0,24}$")
PHONE_CONTEXT_CHARS = 40
# A digits-only run (no separators) is an order, build or account number as often as a
# phone: it needs a context word ("phone", "call" ...) to pass the threshold.
_BARE_SCORE = 0.4
# Per-scan budgets (see scan_result.py): past this many candidates, or this many distinct
# values handed to phonenumbers (~0.1-0.2 ms each), the rest of a scan's candidates are
# not checked and the result says so. A megabyte of a contacts dump holds ~4 000 numbers;
# 1 500 validations cost ~0.2-0.3 s of CPU under load.
PHONE_MAX_CANDIDATES = 20_000
PHONE_MAX_VALIDATIONS = 1_500


_US_LAYOUTS = {(10,), (11,), (3, 3, 4), (1, 3, 3, 4), (3, 7), (1, 10)}
# A North American number written 3-3-4 with separators, area code and exchange starting
# 2-9: a phone by its shape, whether or not the number plan has assigned it yet.
_NANP = re.compile(r"(?:\+?1[ .\-]?)?(?:\([2-9]\d\d\)[ .\-]?|[2-9]\d\d[ .\-])[2-9]\d\d[ .\-]\d{4}")


def _nanp_shaped(value: str) -> bool:
    return _NANP.fullmatch(value) is not None


def _groups(value: str) -> tuple[int, ...]:
    return tuple(len(g) for g in re.findall(r"\d+", value))


class ValidatedPhoneRecognizer(PhoneRecognizer):
    """Phone numbers from a candidate regex, each validated by phonenumbers (a real number
    plan): any +CC international number; US and UK national formats anywhere; the
    national formats of ``CONTEXT_REGIONS`` where a word before the number says phone, and
    there also a +CC number of a length its country allows (an area code the plan has not
    assigned: "call me on +3117 7517843").

    Why not Presidio's: it runs phonenumbers' matcher over the whole text once per region
    (8 by default), the costliest recognizer. A formatted number with 10+ digits that is not
    a date scores above the threshold without a context word (a table's "phone" header is
    far from most rows); a bare digit run keeps 0.4 and needs context. Other national
    formats need the context word: "01 42 68 53 00" is a Paris number after "Tél :" and a
    hex dump's bytes anywhere else."""

    FORMATTED_SCORE = 0.6
    REGIONS = ("US", "GB")
    # With the two above, national formats of 24 countries.
    CONTEXT_REGIONS = ("DE", "FR", "NL", "ES", "IT", "IN", "AU", "CA", "BR", "SE", "NO", "DK", "FI", "PL", "PT", "BE",
                       "CH", "AT", "IE", "JP", "MX", "NZ", "SG", "ZA")

    def __init__(self) -> None:
        super().__init__(supported_regions=(*self.REGIONS, *self.CONTEXT_REGIONS))

    @staticmethod
    def _valid(value: str, region: str | None) -> phonenumbers.PhoneNumber | None:
        try:
            number = phonenumbers.parse(value, region)
        except phonenumbers.NumberParseException:
            return None
        # Valid for the country's main region means valid (is_valid_number would find that
        # region first); checking it alone spares the walk over the 25 regions sharing +1.
        # (parse always sets country_code; 0 would be no country, "ZZ")
        main = region or phonenumbers.region_code_for_country_code(number.country_code or 0)
        if phonenumbers.is_valid_number_for_region(number, main) or phonenumbers.is_valid_number(number):
            return number
        return None

    @staticmethod
    def _region(value: str) -> str | None | Literal[False]:
        """The region to validate ``value`` in (None: its own +CC), or False when it has the
        shape of no number looked for, decided without phonenumbers."""
        if value.startswith("+"):
            return None
        digits = "".join(c for c in value if c.isdigit())
        # The national shapes of the two regions, checked before phonenumbers (most digit
        # runs in a dump are neither): US 10 digits (area code 2-9) or 1 + 10; UK trunk 0.
        if len(digits) == 10 and digits[0] in "23456789" or len(digits) == 11 and digits[0] == "1":
            # US numbers are written 3-3-4 ((212) 555-0100, 212.555.0100, 1 212 555 0100) or
            # as one run: "30 2735 2584" is a reference number in US digits.
            if _groups(value) not in _US_LAYOUTS:
                return False
            return "US"
        if digits[0] == "0" and len(digits) in (10, 11):
            return "GB"
        return False

    def _parse_in_context(self, value: str) -> phonenumbers.PhoneNumber | None:
        for region in self.CONTEXT_REGIONS:
            if number := self._valid(value, region):
                return number
        return None

    # The engine passes a list to add a ScanLimit to when a budget stops the scan short.
    reports_limits = True

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None,
        limits: list[ScanLimit] | None = None,
    ) -> list[RecognizerResult]:
        if "PHONE_NUMBER" not in entities:
            return []
        results: list[RecognizerResult] = []
        checks = _PhoneChecks(self)
        stopped_at = None   # where a budget stopped the scan
        for count, match in enumerate(_PHONE_CANDIDATE.finditer(text)):
            if count >= PHONE_MAX_CANDIDATES:
                stopped_at = match.start()
                break
            try:
                score = self._score(text, match, checks)
            except _OverBudget:
                stopped_at = match.start()
                break
            if score is not None:
                results.append(presidio_result(self, "PHONE_NUMBER", match.start(), match.end(), score))
        if stopped_at is not None and limits is not None:
            limits.append(ScanLimit(PHONE_BUDGET, f"phone numbers from character {stopped_at} on not checked "
                                                  f"(budget: {PHONE_MAX_CANDIDATES} candidates, "
                                                  f"{PHONE_MAX_VALIDATIONS} validations per scan)"))
        return results

    @staticmethod
    def _said(text: str, match: re.Match[str]) -> bool:
        """Whether a word saying phone stands just before the candidate."""
        return _PHONE_CONTEXT.search(text, max(0, match.start() - PHONE_CONTEXT_CHARS), match.start()) is not None

    def _shape_score(self, value: str) -> float | None:
        """The score a candidate's shape earns, or None when it has too few or too many
        digits, or is a date or a dotted quad."""
        # Eight digits is a whole national number in Denmark, Norway and Singapore: like a
        # bare run it needs a word saying phone (and a national number plan to fit).
        low = 8 if not value.startswith("+") else 9
        if value.isdigit():   # a bare run: no date or dotted quad, no separators
            digits = len(value)
            if not low <= digits <= 15:
                return None
            formatted = False
        else:
            digits = sum(c.isdigit() for c in value)
            if not low <= digits <= 15 or _DATE.search(value) or _DOTTED_QUAD.fullmatch(value):
                return None
            formatted = digits != len(value)
        return self.FORMATTED_SCORE if formatted and digits >= 10 else _BARE_SCORE

    def _score(self, text: str, match: re.Match[str], checks: _PhoneChecks) -> float | None:
        """The candidate's score, or None when it is not a phone number; _OverBudget when
        deciding would take a validation past the budget."""
        value = match.group()[:match.start("ext") - match.start()] if match.group("ext") else match.group()
        if value.startswith("00") and not value.startswith("000"):
            value = "+" + value[2:]     # the international prefix most countries dial
        score = self._shape_score(value)
        if score is None:
            return None
        if (checks.valid(value) or _nanp_shaped(value)) and not _PAIRS.fullmatch(value):
            # An extension or a word saying phone lifts a bare run over the threshold.
            if score >= self.FORMATTED_SCORE or match.group("ext"):
                return max(score, self.FORMATTED_SCORE)
            return self.FORMATTED_SCORE if self._said(text, match) else score
        if not self._said(text, match):
            return None
        if value.startswith("+"):
            # "+31(0)312-222486" after "call me on": a number of a length its country's plan
            # allows, whether or not the plan has assigned its area code.
            return self.FORMATTED_SCORE if checks.possible(value) else None
        return self.FORMATTED_SCORE if checks.valid_in_context(value) else None


class _OverBudget(Exception):
    """A phone candidate needs a validation past PHONE_MAX_VALIDATIONS."""


class _PhoneChecks:
    """One scan's phonenumbers verdicts by value (a dump repeats its numbers: a support
    line, the same customer twice; each is checked once) and its validation budget."""

    def __init__(self, recognizer: ValidatedPhoneRecognizer) -> None:
        self._recognizer = recognizer
        self._valid: dict[str, bool] = {}
        self._in_context: dict[str, bool] = {}
        self._possible: dict[str, bool] = {}
        self._validations = 0     # calls into phonenumbers (shape rejects are free)

    def _spend(self) -> None:
        if self._validations >= PHONE_MAX_VALIDATIONS:
            raise _OverBudget
        self._validations += 1

    def valid(self, value: str) -> bool:
        """Whether ``value`` is a US/UK national or an international number."""
        ok = self._valid.get(value)
        if ok is None:
            region = self._recognizer._region(value)
            if region is False:
                ok = False
            else:
                self._spend()
                ok = self._recognizer._valid(value, region) is not None
            self._valid[value] = ok
        return ok

    def possible(self, value: str) -> bool:
        """Whether the international number ``value`` has a length its country's plan allows."""
        if value not in self._possible:
            self._spend()
            try:
                self._possible[value] = phonenumbers.is_possible_number(phonenumbers.parse(value, None))
            except phonenumbers.NumberParseException:
                self._possible[value] = False
        return self._possible[value]

    def valid_in_context(self, value: str) -> bool:
        """Whether ``value`` is a national number of one of the context regions."""
        if value not in self._in_context:
            self._spend()
            self._in_context[value] = self._recognizer._parse_in_context(value) is not None
        return self._in_context[value]


# Addresses that are nobody's connection: public DNS resolvers (Google, Cloudflare, Quad9,
# OpenDNS) and the placeholders of examples ("1.2.3.4", one octet four times: "8.8.8.8").
_NOT_PERSONAL_IPS = frozenset((
    "1.2.3.4", "4.3.2.1", "1.0.0.1", "149.112.112.112", "208.67.222.222", "208.67.220.220",
    "2001:4860:4860::8888", "2001:4860:4860::8844", "2606:4700:4700::1111", "2606:4700:4700::1001",
))


def _placeholder_ip(value: str) -> bool:
    return value.lower() in _NOT_PERSONAL_IPS or value.count(".") == 3 and len(set(value.split("."))) == 1


# A dotted quad after one of these words is a version, not an address.
_VERSION_BEFORE = re.compile(r"(?:version|firmware|build|release|v|ver|rev)[\s:=]*$", re.IGNORECASE)


# Dotted quads, and IPv6 written with at least two colons; ipaddress decides. Two
# patterns, two passes: as one alternation the regex engine tries both branches at every
# position, about ten times slower on a megabyte.
_IPV4_CANDIDATE = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w]|\.\d)")
_IPV6_CANDIDATE = re.compile(
    r"(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?:(?<=:)(?:\d{1,3}\.){3}\d{1,3})?(?![\w:])")


def _ip_candidates(text: str):
    """Matches of both patterns in text order, without overlaps (an IPv6 address may end
    in a dotted quad: ::ffff:10.1.2.3)."""
    last_end = -1
    for match in sorted((*_IPV4_CANDIDATE.finditer(text), *_IPV6_CANDIDATE.finditer(text)), key=lambda m: m.start()):
        if match.start() >= last_end:
            last_end = match.end()
            yield match


class ValidatedIpRecognizer(IpRecognizer):
    """Public addresses, which can tie a connection to a person: not 0.0.0.0, loopback,
    broadcast or a netmask, a public DNS resolver or an example's placeholder ("1.2.3.4"),
    not a version number ("firmware 2.1.9.20"), and not an address of a private, link-local,
    documentation or benchmarking network (RFC 1918, 3927, 5737, 2544; fc00::/7, fe80::/10,
    2001:db8::/32): those number machines inside a company's network or a manual's examples
    ("kubectl get svc" lists them), not someone's connection. One candidate regex, then
    ipaddress: Presidio's IPv6 pattern alone costs more than all our secret recognizers."""

    SCORE = 0.6

    def analyze(self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None,
                regex_flags: int | None = None) -> list[RecognizerResult]:
        if "IP_ADDRESS" not in entities:
            return []
        kept = []
        for match in _ip_candidates(text):
            value = match.group()
            if "." not in value and value.count(":") < 2:
                continue
            try:
                ip = ipaddress.ip_address(value)
            except ValueError:
                continue
            if (ip.is_loopback or ip.is_unspecified or ip.is_multicast or ip.is_reserved or ip.is_private
                    or value.startswith("255.") or _placeholder_ip(value)):
                continue
            if _VERSION_BEFORE.search(text, max(0, match.start() - 12), match.start()):
                continue
            kept.append(presidio_result(self, "IP_ADDRESS", match.start(), match.end(), self.SCORE))
        return kept


_WINDOW_CAP = 256
_MARGIN = 8
_WORD_CHAR = re.compile(r"\w")   # the regex module's \w, as \b sees it


def _word_bounded_windows(text: str, candidate: stdlib_re.Pattern[str]) -> list[tuple[int, int]]:
    """Merged stretches around each candidate, widened until the characters just outside
    are not word characters: there a word boundary or a lookaround sees in the slice what
    it sees in the whole text (widened to the text's edge past _WINDOW_CAP characters of
    one word)."""
    def word(i: int) -> bool:
        return _WORD_CHAR.match(text, i) is not None

    windows: list[tuple[int, int]] = []
    n = len(text)
    for match in candidate.finditer(text):
        # A margin first (a match may begin before its candidate), then to word edges.
        start, end = max(0, match.start() - _MARGIN), min(n, match.end() + _MARGIN)
        floor, ceiling = max(0, start - _WINDOW_CAP), min(n, end + _WINDOW_CAP)
        while start > floor and word(start - 1):
            start -= 1
        while end < ceiling and word(end):
            end += 1
        if start > 0 and word(start - 1):
            start = 0
        if end < n and word(end):
            end = n
        if windows and start <= windows[-1][1]:
            windows[-1] = (windows[-1][0], max(end, windows[-1][1]))
        else:
            windows.append((start, end))
    return windows


class _CandidateWindows(PatternRecognizer):
    """Runs a Presidio pattern recognizer only on the stretches around its candidates:
    listed first among the bases of a subclass of that recognizer.

    Its patterns (digit shapes between word boundaries) are tried at every word of a
    text; most words cannot start one. ``CANDIDATE`` is a cheap regex every match contains."""

    CANDIDATE: ClassVar[stdlib_re.Pattern[str]]
    patterns: list[Pattern]

    def __init__(self, context_floor: float = 0.0, **recognizer_args: Any) -> None:
        super().__init__(**recognizer_args)     # the Presidio recognizer's own defaults
        # A pattern whose score context words cannot lift to the threshold makes only
        # results the engine drops: not run (with no validator that could raise its score).
        if type(self).validate_result is PatternRecognizer.validate_result:
            self.patterns = [p for p in self.patterns if p.score >= context_floor]
        self.candidate = self._candidate()

    def _candidate(self) -> stdlib_re.Pattern[str]:
        return self.CANDIDATE

    def analyze(self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None,
                regex_flags: int | None = None) -> list[RecognizerResult]:
        results: list[RecognizerResult] = []
        if not self.patterns:
            return results
        for start, end in _word_bounded_windows(text, self.candidate):
            for result in super().analyze(text[start:end], entities, nlp_artifacts, regex_flags):
                result.start += start
                result.end += start
                results.append(result)
        return results


class WindowedUsSsnRecognizer(_CandidateWindows, UsSsnRecognizer):
    # Every SSN pattern is 9 digits, 3-2-4, with at most two "- ." separators.
    CANDIDATE = stdlib_re.compile(r"[0-9]{3}[- .]?[0-9]{2}[- .]?[0-9]{4}")
    # The shape each of Presidio's patterns needs, by pattern name. At the default threshold
    # only the separated 3-2-4 one can pass (the others score 0.05): then only its shape is
    # a candidate, not every 9-digit run of a dump or a script.
    PATTERN_CANDIDATES = {
        "SSN1 (very weak)": r"[0-9]{5}-[0-9]{4}",
        "SSN2 (very weak)": r"[0-9]{3}-[0-9]{6}",
        "SSN3 (very weak)": r"[0-9]{3}-[0-9]{2}-[0-9]{4}",
        "SSN4 (very weak)": r"[0-9]{9}",
        "SSN5 (medium)": r"[0-9]{3}[- .][0-9]{2}[- .][0-9]{4}",
    }

    def _candidate(self) -> stdlib_re.Pattern[str]:
        shapes = [self.PATTERN_CANDIDATES.get(p.name) for p in self.patterns]
        known = [shape for shape in shapes if shape is not None]
        if len(known) < len(shapes) or len(shapes) == len(self.PATTERN_CANDIDATES):
            return self.CANDIDATE
        return stdlib_re.compile("|".join(known))


class WindowedUkNinoRecognizer(_CandidateWindows, UkNinoRecognizer):
    # Two letters, then 2-2-2 digits and the suffix letter A-D, spaces optional.
    CANDIDATE = stdlib_re.compile(r"[A-Za-z]{2} ?[0-9]{2} ?[0-9]{2} ?[0-9]{2} ?[a-dA-D]")


def build_pii_recognizers(context_floor: float = 0.0) -> list[EntityRecognizer]:
    """``context_floor``: the lowest pattern score context words can lift to the engine's
    threshold (0: keep every pattern)."""
    return [
        OfflineEmailRecognizer(),
        ValidatedPhoneRecognizer(),
        NerPersonRecognizer(),
        CreditCardRecognizer(),
        IbanRecognizer(),
        WindowedUsSsnRecognizer(context_floor),
        ValidatedIpRecognizer(),
        WindowedUkNinoRecognizer(context_floor),
    ]
