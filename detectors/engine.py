"""The scanning engine: Presidio's AnalyzerEngine on a verified, slimmed spaCy pipeline,
with Presidio's PII recognizers and shadowmap's secret / production-data recognizers in
one registry, so one ``analyze`` call per chunk returns everything.

Loaded once (seconds); ``scan`` is then cheap and thread-compatible for reads.
"""
from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from presidio_analyzer import AnalyzerEngine, RecognizerRegistry, RecognizerResult
from presidio_analyzer.nlp_engine import NerModelConfiguration, NlpArtifacts, SpacyNlpEngine
from spacy.language import Language
from spacy.tokens import Doc

from detectors.context import FastLemmaContextAwareEnhancer
from detectors.model import load_verified, resolve_model
from detectors.recognizers import build_secret_recognizers
from detectors.recognizers.pii import PII_ENTITIES, build_pii_recognizers
from detectors.settings import MAX_SCAN_CHARS, DetectorSettings

__all__ = ["DetectorSettings", "Finding", "ScanEngine", "MAX_SCAN_CHARS"]

LANGUAGE = "en"
# Long texts are analyzed in windows: bounded memory per spaCy call, and a match cut by a
# window edge is found whole in the next window, which starts OVERLAP characters earlier
# (longer than any PEM block or URL we look for).
CHUNK_CHARS = 50_000
OVERLAP_CHARS = 8_000
# spaCy's NER costs ~0.05-0.1 ms per token, by far the most of a scan. It runs on windows
# while their tokens fit this budget (~45 KB of prose); later windows get tokens and lemmas
# only (context words still count) and the regex recognizers (secrets, emails, cards ...)
# still see the whole capped text. This keeps a 1 MiB paste bounded.
NER_MAX_TOKENS = 10_000
# spaCy cannot encode lone surrogates (valid in a JSON string); each becomes U+FFFD, one
# code point for one, so offsets still index the caller's text.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
# When findings of different types overlap, the stronger class wins: a DB URL is kept over
# the "email" inside its user:pass@host, a token over a PERSON guess on part of it.
_CLASS_RANK = {"secret": 3, "production": 2, "payment": 1, "pii": 0}
_LEMMA_COMPONENT = "shadowmap_lemma_lower"


@dataclass(frozen=True)
class Finding:
    entity_type: str
    start: int
    end: int
    score: float
    data_class: str
    reason: str


if not Language.has_factory(_LEMMA_COMPONENT):
    @Language.component(_LEMMA_COMPONENT)
    def _lemma_is_lower(doc: Doc) -> Doc:
        # Presidio's context scoring compares lemmas with context words; the lemmatizer
        # (and the tagger it needs) cost more than the whole NER, and lower-casing
        # serves the context words (phone, card, ssn ...) just as well.
        for token in doc:
            token.lemma_ = token.lower_
        return doc


class _PreloadedSpacyNlpEngine(SpacyNlpEngine):
    """Presidio's spaCy engine around a pipeline we loaded (after verification) ourselves;
    its own ``load`` would call ``spacy.cli.download`` for a model it cannot find."""

    def __init__(self, nlp: Language, model_dir: str, ner_config: NerModelConfiguration):
        super().__init__(models=[{"lang_code": LANGUAGE, "model_name": model_dir}],
                         ner_model_configuration=ner_config)
        self.nlp = {LANGUAGE: nlp}

    def load(self) -> None:
        """Already loaded in __init__."""

    def tokenize(self, text: str) -> Doc:
        return self.nlp[LANGUAGE].make_doc(text)

    def annotate(self, doc: Doc, with_ner: bool) -> NlpArtifacts:
        """Run the pipeline on a tokenized doc; without NER only lemmas are set."""
        nlp = self.nlp[LANGUAGE]
        for name, component in nlp.pipeline:
            if with_ner or name == _LEMMA_COMPONENT:
                doc = component(doc)
        return self._doc_to_nlp_artifact(doc, LANGUAGE)


def _ner_configuration(nlp: Language) -> NerModelConfiguration:
    # Only PERSON is wanted from spaCy; every other label (ORG, GPE, DATE ...) is ignored
    # explicitly, or Presidio would keep it under its own name.
    labels = set(nlp.get_pipe("ner").labels)
    return NerModelConfiguration(
        model_to_presidio_entity_mapping={"PERSON": "PERSON", "PER": "PERSON"},
        labels_to_ignore=sorted(labels - {"PERSON", "PER"}),
        low_score_entity_names=[],
    )


class ScanEngine:
    def __init__(self, settings: DetectorSettings | None = None):
        self.settings = settings or DetectorSettings()
        resolved = resolve_model(self.settings.model)
        nlp = load_verified(self.settings.model, self.settings.model_manifest, keep=("ner",))
        nlp.add_pipe(_LEMMA_COMPONENT, last=True)
        self.model_name = resolved.name
        self.model_version = resolved.version
        nlp_engine = _PreloadedSpacyNlpEngine(nlp, str(resolved.data_dir), _ner_configuration(nlp))
        self._nlp_engine = nlp_engine

        secret_recognizers = build_secret_recognizers()
        self._labels: dict[str, tuple[str, str]] = dict(PII_ENTITIES)
        for recognizer in secret_recognizers:
            self._labels[recognizer.entity_type] = (recognizer.data_class, recognizer.reason)
        registry = RecognizerRegistry(
            recognizers=[*build_pii_recognizers(), *secret_recognizers],
            supported_languages=[LANGUAGE],
        )
        self._analyzer = AnalyzerEngine(
            registry=registry,
            nlp_engine=nlp_engine,
            supported_languages=[LANGUAGE],
            default_score_threshold=self.settings.score_threshold,
            context_aware_enhancer=FastLemmaContextAwareEnhancer(),
        )
        self.entities: tuple[str, ...] = tuple(sorted(self._labels))
        # The first analyze call pays one-off costs (lazy regex compiles, caches); pay them
        # here rather than on a user's first paste.
        self.scan("Warm-up: Jane Roe, jane@example.com, +1 212 736 5000, 10.1.2.3.")

    def data_class_of(self, entity_type: str) -> str:
        return self._labels[entity_type][0]

    def scan(self, text: str) -> list[Finding]:
        """Findings in the first MAX_SCAN_CHARS characters of ``text``, sorted by start,
        with no two findings overlapping."""
        if not isinstance(text, str):
            raise TypeError(f"scan() needs a str, not {type(text).__name__}")
        text = _LONE_SURROGATE.sub("\ufffd", text[:MAX_SCAN_CHARS])
        if not text.strip():
            return []
        candidates: list[Finding] = []
        ner_tokens_left = NER_MAX_TOKENS
        for offset, chunk, cut_before, cut_after in _windows(text):
            doc = self._nlp_engine.tokenize(chunk)
            with_ner = len(doc) <= ner_tokens_left
            ner_tokens_left -= len(doc) if with_ner else 0
            for result in self._analyze(chunk, self._nlp_engine.annotate(doc, with_ner)):
                # A match touching a cut edge may be partial; the neighbour window has it whole.
                if (cut_before and result.start == 0) or (cut_after and result.end == len(chunk)):
                    continue
                candidates.append(self._finding(result, offset))
        return _resolve_overlaps(candidates)

    def _analyze(self, chunk: str, artifacts: NlpArtifacts) -> list[RecognizerResult]:
        results = self._analyzer.analyze(
            text=chunk,
            language=LANGUAGE,
            entities=list(self.entities),
            score_threshold=self.settings.score_threshold,
            nlp_artifacts=artifacts,
        )
        return [r for r in results if r.entity_type != "PERSON" or _plausible_name(chunk[r.start:r.end])]

    def _finding(self, result: RecognizerResult, offset: int) -> Finding:
        data_class, reason = self._labels[result.entity_type]
        return Finding(
            entity_type=result.entity_type,
            start=result.start + offset,
            end=result.end + offset,
            score=round(float(result.score), 4),
            data_class=data_class,
            reason=reason,
        )


def _plausible_name(span: str) -> bool:
    # The small NER model tags tokens like "v2.14.3" as PERSON; a name has no digits.
    return any(c.isalpha() for c in span) and not any(c.isdigit() for c in span)


def _windows(text: str):
    """(offset, chunk, cut_before, cut_after) windows covering ``text`` with overlap."""
    if len(text) <= CHUNK_CHARS:
        yield 0, text, False, False
        return
    start = 0
    while True:
        end = min(start + CHUNK_CHARS, len(text))
        if end < len(text):
            # End the window on whitespace so spaCy does not see half a word.
            space = text.rfind(" ", end - 1000, end)
            end = space if space > start else end
        yield start, text[start:end], start > 0, end < len(text)
        if end >= len(text):
            return
        start = end - OVERLAP_CHARS


def _resolve_overlaps(candidates: list[Finding]) -> list[Finding]:
    """Keep the strongest of overlapping findings: class rank, then score, then length."""
    ranked = sorted(
        set(candidates),
        key=lambda f: (_CLASS_RANK.get(f.data_class, 0), f.score, f.end - f.start, -f.start),
        reverse=True,
    )
    starts: list[int] = []
    kept: list[Finding] = []  # disjoint, sorted by start
    for finding in ranked:
        i = bisect.bisect_left(starts, finding.start)
        if i > 0 and kept[i - 1].end > finding.start:
            continue
        if i < len(kept) and kept[i].start < finding.end:
            continue
        starts.insert(i, finding.start)
        kept.insert(i, finding)
    return kept
