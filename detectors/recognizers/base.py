"""The extension point: a secret (or production-data) recognizer is a class made of data.

A subclass declares ``entity_type``, ``data_class``, ``reason``, ``patterns`` (regex,
score), ``keywords`` (substrings every match contains: the regexes only run near them)
and ``denylist`` (documented examples and placeholders that are not secrets); it may
override ``is_valid`` for a check a regex cannot express. The registry in this package
finds every concrete subclass, and they are registered into Presidio's registry so one
``analyze`` call returns everything.
"""
from __future__ import annotations

from typing import ClassVar, Protocol

import regex as re
from presidio_analyzer import AnalysisExplanation, EntityRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

# Lookarounds and backtracking at a window's end: a match ending this close to it is
# checked again on the whole text.
_EDGE_CHARS = 64


class Identified(Protocol):
    """How a result's metadata names its recognizer: Presidio's ``name`` and ``id``, typed
    here (its ``name: str = None`` parameter leaves the attribute's type undetermined)."""

    @property
    def name(self) -> str: ...

    @property
    def id(self) -> str: ...


def fold_case(text: str) -> str:
    """``text`` in lower-case ASCII, one character for one (anything else becomes "?"), so
    offsets in it are offsets in ``text``."""
    return text.encode("ascii", "replace").decode("ascii").lower()


class SecretRecognizer(EntityRecognizer):
    name: str                     # Presidio's (see Identified)
    entity_type: ClassVar[str] = ""
    data_class: ClassVar[str] = "secret"
    reason: ClassVar[str] = ""
    # (regex, score). If the regex has a group named "value", only that group is the match.
    patterns: ClassVar[tuple[tuple[str, float], ...]] = ()
    # Case-sensitive substrings, one of which every match contains; a text containing none
    # of them is skipped without a regex, and the regexes run only near where they occur.
    keywords: ClassVar[tuple[str, ...]] = ()
    # Keywords found in any case (vendor words in camelCase names: "launchDarklyKey"); then
    # they are listed in lower case.
    keywords_fold_case: ClassVar[bool] = False
    # How far a match can start before a keyword occurrence, and end after its start: the
    # regexes scan only these windows around each occurrence. A match still running at a
    # window's end is matched again on the whole text, so long tails (PEM bodies, URLs)
    # are found whole; these only need to cover the part before the keyword and bounded
    # alternatives (a lazy search for an END line).
    reach_before: ClassVar[int] = 256
    reach_after: ClassVar[int] = 512
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

    def keyword_starts(self, text: str) -> list[int]:
        """Where the keywords occur, by plain search: for a recognizer used on its own
        (the engine gets them for all recognizers at once from a KeywordIndex)."""
        starts = []
        if self.keywords_fold_case:
            text = fold_case(text)
        for keyword in self.keywords:
            at = text.find(keyword)
            while at >= 0:
                starts.append(at)
                at = text.find(keyword, at + 1)
        return sorted(starts)

    def windows(self, text: str, near: list[int] | None = None) -> list[tuple[int, int]]:
        """The merged (start, end) ranges of ``text`` worth scanning: around each keyword
        occurrence (``near``: their sorted starts), the whole text for a recognizer
        without keywords, nothing when no keyword occurs."""
        if not self.keywords:
            return [(0, len(text))]
        if near is None:
            near = self.keyword_starts(text)
        merged: list[tuple[int, int]] = []
        for at in near:
            start, end = max(0, at - self.reach_before), min(len(text), at + self.reach_after)
            if merged and start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
            else:
                merged.append((start, end))
        return merged

    def matches(self, text: str, near: list[int] | None = None):
        """(match, score) for every non-overlapping match of each pattern in the windows,
        in order, as ``finditer`` over the whole text would give those near a keyword."""
        windows = self.windows(text, near)
        for pattern, score in self._compiled:
            last_end = 0
            for start, end in windows:
                for match in pattern.finditer(text, max(start, last_end), end):
                    if end < len(text) and match.end() + _EDGE_CHARS >= end:
                        # The window's end may have cut the match short or fooled a
                        # lookahead: match again from the same start on the whole text.
                        match = pattern.match(text, match.start())
                        if match is None:
                            continue
                    if match.start() < last_end:
                        continue
                    last_end = max(match.end(), last_end)
                    yield match, score

    def find(self, text: str, near: list[int] | None = None) -> list[tuple[int, int, float]]:
        """(start, end, score) of every accepted match, without Presidio types."""
        found: list[tuple[int, int, float]] = []
        for match, score in self.matches(text, near):
            group = "value" if "value" in match.re.groupindex else 0
            value = match.group(group)
            if value in self.denylist or not self.is_valid(value):
                continue
            start = match.start(group)
            # Multi-line patterns may run over trailing blank space; it is not the secret.
            found.append((start, start + len(value.rstrip()), score))
        return found

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None,
        near: list[int] | None = None,
    ) -> list[RecognizerResult]:
        if self.entity_type not in entities:
            return []
        return [
            RecognizerResult(
                entity_type=self.entity_type,
                start=start,
                end=end,
                score=score,
                # Context scoring (for a recognizer given context words) records the word here.
                analysis_explanation=AnalysisExplanation(self.name, score),
                recognition_metadata={
                    RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                    RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
                },
            )
            for start, end, score in self.find(text, near)
        ]


def presidio_result(recognizer: Identified, entity_type: str, start: int, end: int, score: float) -> RecognizerResult:
    """A finding as Presidio reports one, named after the recognizer that made it."""
    return RecognizerResult(
        entity_type, start, end, score,
        analysis_explanation=AnalysisExplanation(recognizer.name, score),
        recognition_metadata={RecognizerResult.RECOGNIZER_NAME_KEY: recognizer.name,
                              RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: recognizer.id},
    )
