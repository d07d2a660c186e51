"""The extension point: a secret (or production-data) recognizer is a class made of data.

A subclass declares ``entity_type``, ``data_class``, ``reason``, ``patterns`` (regex,
score), ``keywords`` (cheap substring prefilter: the regexes only run when one occurs)
and ``denylist`` (documented examples and placeholders that are not secrets); it may
override ``is_valid`` for a check a regex cannot express. The registry in this package
finds every concrete subclass, and they are registered into Presidio's registry so one
``analyze`` call returns everything.
"""
from __future__ import annotations

from typing import ClassVar

import regex as re
from presidio_analyzer import EntityRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts


class SecretRecognizer(EntityRecognizer):
    entity_type: ClassVar[str] = ""
    data_class: ClassVar[str] = "secret"
    reason: ClassVar[str] = ""
    # (regex, score). If the regex has a group named "value", only that group is the match.
    patterns: ClassVar[tuple[tuple[str, float], ...]] = ()
    # Case-sensitive substrings; a text containing none of them is skipped without a regex.
    keywords: ClassVar[tuple[str, ...]] = ()
    denylist: ClassVar[frozenset[str]] = frozenset()
    # Secrets are case-sensitive (AKIA, ghp_): unlike Presidio's default, no IGNORECASE.
    flags: ClassVar[int] = re.MULTILINE

    def __init__(self) -> None:
        self._compiled = [(re.compile(rx, self.flags), score) for rx, score in self.patterns]
        super().__init__(supported_entities=[self.entity_type], name=type(self).__name__)

    def load(self) -> None:
        """Nothing to load: the patterns are compiled in __init__."""

    def is_valid(self, value: str) -> bool:
        """Extra check beyond the regex and denylist; override where a rule needs code."""
        return True

    def find(self, text: str) -> list[tuple[int, int, float]]:
        """(start, end, score) of every accepted match, without Presidio types."""
        if self.keywords and not any(k in text for k in self.keywords):
            return []
        found: list[tuple[int, int, float]] = []
        for pattern, score in self._compiled:
            for match in pattern.finditer(text):
                group = "value" if "value" in pattern.groupindex else 0
                value = match.group(group)
                if value in self.denylist or not self.is_valid(value):
                    continue
                start = match.start(group)
                # Multi-line patterns may run over trailing blank space; it is not the secret.
                found.append((start, start + len(value.rstrip()), score))
        return found

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        if self.entity_type not in entities:
            return []
        return [
            RecognizerResult(
                entity_type=self.entity_type,
                start=start,
                end=end,
                score=score,
                recognition_metadata={
                    RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                    RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
                },
            )
            for start, end, score in self.find(text)
        ]


def distinct_chars(value: str) -> int:
    return len(set(value))


def looks_like_placeholder(value: str, min_distinct: int = 6) -> bool:
    """Runs of one character, 'xxxx', '0000', or too few distinct characters to be random."""
    return distinct_chars(value) < min_distinct
