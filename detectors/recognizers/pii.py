"""Presidio's own PII recognizers, chosen and made offline-safe and cheaper.

Not a SecretRecognizer module: these wrap Presidio's predefined recognizers.
"""
from __future__ import annotations

import regex as re
import tldextract
from presidio_analyzer import EntityRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts
from presidio_analyzer.predefined_recognizers import (
    CreditCardRecognizer,
    EmailRecognizer,
    IbanRecognizer,
    IpRecognizer,
    PhoneRecognizer,
    SpacyRecognizer,
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
    "IP_ADDRESS": ("pii", "IP address"),
}

# The bundled public-suffix snapshot only: the default extractor downloads the list on
# first use, which would put a network call on the paste path.
_OFFLINE_TLD = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


class OfflineEmailRecognizer(EmailRecognizer):
    def validate_result(self, pattern_text: str) -> bool:
        return _OFFLINE_TLD(pattern_text).fqdn != ""


# A run of at least seven digits, each within three characters of the next: every number
# the phone recognizer can accept contains one.
_DIGIT_CLUSTER = re.compile(r"\d(?:\D{0,3}\d){6,}")
_WINDOW_PAD = 32
# phonenumbers costs ~4 ms per KB of digit-dense text: per analyzed window (the engine's
# chunks are 50 000 characters) only this much digit-cluster text is handed to it, which
# bounds a megabyte of numbers to seconds. Ordinary text stays far below it.
PHONE_MAX_WINDOW_CHARS = 10_000


def phone_windows(text: str) -> list[tuple[int, int]]:
    """Merged spans around digit clusters, widened to whitespace so no token is cut."""
    windows: list[tuple[int, int]] = []
    for match in _DIGIT_CLUSTER.finditer(text):
        start = max(0, match.start() - _WINDOW_PAD)
        end = min(len(text), match.end() + _WINDOW_PAD)
        while start > 0 and not text[start - 1].isspace():
            start -= 1
        while end < len(text) and not text[end].isspace():
            end += 1
        if windows and start <= windows[-1][1]:
            windows[-1] = (windows[-1][0], max(end, windows[-1][1]))
        else:
            windows.append((start, end))
    return windows


class PrefilteredPhoneRecognizer(PhoneRecognizer):
    """phonenumbers re-parses every digit group of the text once per region (8 regions):
    the costliest recognizer. Only the windows around digit clusters that could be a phone
    number are handed to it; prose without such clusters costs nothing."""

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        results: list[RecognizerResult] = []
        budget = PHONE_MAX_WINDOW_CHARS
        for start, end in phone_windows(text):
            if end - start > budget:
                if budget < PHONE_MAX_WINDOW_CHARS:
                    break  # stop before a window that does not fit rather than cut it
                end = start + budget  # one huge cluster (a numbers dump): its first part only
            budget -= end - start
            for result in super().analyze(text[start:end], entities, nlp_artifacts):
                result.start += start
                result.end += start
                results.append(result)
        return results


def build_pii_recognizers() -> list[EntityRecognizer]:
    return [
        OfflineEmailRecognizer(),
        PrefilteredPhoneRecognizer(),
        SpacyRecognizer(supported_entities=["PERSON"]),
        CreditCardRecognizer(),
        IbanRecognizer(),
        UsSsnRecognizer(),
        IpRecognizer(),
    ]
