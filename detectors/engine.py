"""The scanning engine: Presidio's recognizers and shadowmap's secret / production-data
recognizers, with a verified spaCy NER run on prose only, and Presidio's context scoring
where it can change the answer.

Loaded once (seconds); ``scan`` is then cheap and thread-compatible for reads.
"""
from __future__ import annotations

import functools
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol, TypeGuard

from presidio_analyzer import EntityRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NerModelConfiguration, NlpArtifacts, SpacyNlpEngine
from spacy.language import Language
from spacy.pipeline import EntityRecognizer as SpacyEntityRecognizer

from shadowmap.detectors.context import FastLemmaContextAwareEnhancer
from shadowmap.detectors.model import load_verified, resolve_model
from shadowmap.detectors.org_config import OrgConfig, load_org_config
from shadowmap.detectors.prose import may_name_someone, prose_regions
from shadowmap.detectors.recognizer_config import apply_overrides, load_recognizer_config
from shadowmap.detectors.recognizers import build_secret_recognizers
from shadowmap.detectors.recognizers.base import Identified, SecretRecognizer
from shadowmap.detectors.recognizers.bulk_records import MAX_LINES, bulk_records, find_runs, person_cells
from shadowmap.detectors.recognizers.keyword_index import KeywordIndex
from shadowmap.detectors.recognizers.pii import PII_ENTITIES, build_pii_recognizers
from shadowmap.detectors.recognizers.production import PRODUCTION_ENTITIES, build_production_recognizers
from shadowmap.detectors.scan_result import NER_BUDGET, TABLE_LINES, TEXT_CAPPED, Finding, ScanLimit, ScanResult
from shadowmap.detectors.settings import MAX_SCAN_CHARS, DetectorSettings
from shadowmap.detectors.severity import severity_of

# Presidio logs one INFO line per recognizer it loads (about a hundred here): keep its
# warnings, drop the roll call from the agent's log.
logging.getLogger("presidio-analyzer").setLevel(logging.WARNING)

__all__ = ["DetectorSettings", "Finding", "ScanEngine", "ScanLimit", "ScanResult", "MAX_SCAN_CHARS"]

LANGUAGE = "en"
# spaCy's NER costs ~0.05-0.1 ms per token, by far the most of a scan. It runs on prose
# regions only (see prose.py) that may name someone, while they fit this budget per scan
# (~2 000 tokens: ~0.35 s of CPU on the 2-core reference machine under load, 20 000 cost
# 0.5-0.67 s); a region that does not fit is read up to its last line or sentence end
# within the budget, the rest is skipped and the result says so (ScanResult.limits). The
# regex recognizers (secrets, emails, cards ...) still see the whole capped text, in one
# pass: no spaCy call sees more than this budget, so the text needs no windows.
NER_MAX_CHARS = 10_000
# A value in a table's name column is a name whatever NER makes of it (and a date in its
# date-of-birth column a date of birth).
NAME_COLUMN_SCORE = 0.85
BULK_SCORE = 0.9
# spaCy cannot encode lone surrogates (valid in a JSON string); each becomes U+FFFD, one
# code point for one, so offsets still index the caller's text.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
# When findings of different types overlap, the stronger class wins: a DB URL is kept over
# the "email" inside its user:pass@host, a token over a PERSON guess on part of it.
_CLASS_RANK = {"secret": 3, "production": 2, "payment": 1, "pii": 0}
# A database URL is production access and its password a secret: the URL is kept around its
# own password (the one nesting besides BULK_RECORDS), so each class's policy sees its finding.
_NESTS = {"DB_CONNECTION_URL": "DB_PASSWORD"}


class _PreloadedSpacyNlpEngine(SpacyNlpEngine):
    """Presidio's spaCy engine around a pipeline we loaded (after verification) ourselves;
    its own ``load`` would call ``spacy.cli.download`` for a model it cannot find."""

    def __init__(self, nlp: Language, model_dir: str, ner_config: NerModelConfiguration):
        super().__init__(models=[{"lang_code": LANGUAGE, "model_name": model_dir}],
                         ner_model_configuration=ner_config)
        self.pipeline = nlp
        # what Presidio's own methods read; it declares the attribute as None (set in load())
        self.nlp = {LANGUAGE: nlp}  # type: ignore[assignment]

    def load(self) -> None:
        """Already loaded in __init__."""

    def annotate(self, text: str, ner_regions: list[tuple[int, int]]) -> NlpArtifacts:
        """NER on the given character regions (prose) only, each as its own small doc.

        spaCy's tokenizer is not run on the whole text: it costs as much as the NER on
        machine-made text (every hash or base64 run becomes a new vocabulary entry, and the
        vocabulary of a long-running agent would grow without end). The artifacts hold the
        entities only; ``context_artifacts`` adds word tokens when context is scored."""
        nlp = self.pipeline
        ents: list[_Entity] = []
        parts = _ner(nlp).pipe(nlp.make_doc(text[start:end]) for start, end in ner_regions)
        for (start, _end), part in zip(ner_regions, parts, strict=True):
            ents.extend(_Entity(e.label_, start + e.start_char, start + e.end_char) for e in part.ents)
        # Presidio annotates spaCy types (Span, Doc) where it reads only what _Entity and a
        # list give it (label_, start_char, end_char; iteration)
        entities, scores = self._get_updated_entities(ents, [NER_SCORE] * len(ents))  # type: ignore[arg-type]
        return NlpArtifacts(entities=entities, tokens=[], tokens_indices=[],  # type: ignore[arg-type]
                            lemmas=[], nlp_engine=None, language=LANGUAGE, scores=scores)

    def context_artifacts(self, text: str, entities: NlpArtifacts, spans: list[tuple[int, int]]) -> NlpArtifacts:
        """Word tokens, offsets and lower-cased forms for context scoring (lower-cased words
        stand in for lemmas: the lemmatizer and the tagger it needs cost more than NER).
        Only the neighbourhoods of ``spans`` are tokenized: context words are looked for
        within a few words of a match."""
        tokens: list[str] = []
        indices: list[int] = []
        for start, end in _merge((max(0, s - CONTEXT_CHARS), e + CONTEXT_CHARS) for s, e in sorted(spans)):
            for match in _TOKEN.finditer(text, start, end):
                tokens.append(match.group())
                indices.append(match.start())
        lemmas = [t.lower() for t in tokens]
        # nlp_engine=None: Presidio would pick the keywords with two method calls per token;
        # the same set (lemmas that are neither stop words nor punctuation, nor "be"; these
        # tokens hold no ":" to split on) is made here once per distinct word.
        # Presidio annotates tokens as a spaCy Doc and keywords as a list: it iterates and
        # indexes the one and tests membership in the other (a frozenset: O(1))
        artifacts = NlpArtifacts(entities=entities.entities, tokens=tokens,  # type: ignore[arg-type]
                                 tokens_indices=indices, lemmas=lemmas, nlp_engine=None, language=LANGUAGE,
                                 scores=entities.scores)
        artifacts.nlp_engine = self
        artifacts.keywords = frozenset(  # type: ignore[assignment]
            w for w in set(lemmas) if w not in self._stop_words and not self.is_punct(w, LANGUAGE) and w != "be")
        return artifacts

    # Presidio asks these once per token to pick context keywords; answered without
    # vocabulary lookups (which would add every unseen word to the vocabulary).
    def is_stopword(self, word: str, language: str) -> bool:
        return word.lower() in self._stop_words

    def is_punct(self, word: str, language: str) -> bool:
        return not any(c.isalnum() for c in word)

    @functools.cached_property
    def _stop_words(self) -> frozenset[str]:
        return frozenset(self.pipeline.Defaults.stop_words)


@dataclass
class _Entity:
    """What Presidio reads of a spaCy entity span (its label is remapped in place)."""
    label_: str
    start_char: int
    end_char: int


def _merge(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


# Presidio looks for context among the 5 words before a match (and the match's own token).
CONTEXT_CHARS = 120
# Words and single punctuation marks: the tokens context words are matched against.
_TOKEN = re.compile(r"\w+|[^\w\s]")
NER_SCORE = 0.85   # Presidio's score for a spaCy entity


def _context_floor(threshold: float, enhancer: FastLemmaContextAwareEnhancer) -> float:
    """The lowest score that context words can still lift to ``threshold``: Presidio adds
    ``context_similarity_factor`` and raises to at least ``min_score_with_context_similarity``."""
    if enhancer.min_score_with_context_similarity >= threshold:
        return 0.0
    return threshold - enhancer.context_similarity_factor - 1e-9   # float sums: 0.15 + 0.35 reaches 0.5


def _ner(nlp: Language) -> SpacyEntityRecognizer:
    """The pipeline's entity recognizer (TypeError when its "ner" is something else)."""
    ner = nlp.get_pipe("ner")
    if not isinstance(ner, SpacyEntityRecognizer):
        raise TypeError(f"the model's ner pipe is a {type(ner).__name__}, not spaCy's EntityRecognizer")
    return ner


def _ner_configuration(nlp: Language) -> NerModelConfiguration:
    # Only PERSON is wanted from spaCy; every other label (ORG, GPE, DATE ...) is ignored
    # explicitly, or Presidio would keep it under its own name.
    labels = set(_ner(nlp).labels)
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
        self.model_name = resolved.name
        self.model_version = resolved.version
        nlp_engine = _PreloadedSpacyNlpEngine(nlp, str(resolved.data_dir), _ner_configuration(nlp))
        self._nlp_engine = nlp_engine

        secret_recognizers = build_secret_recognizers()
        self._enhancer = FastLemmaContextAwareEnhancer()
        # A result that context words cannot lift to the threshold is dropped before context
        # scoring, and a pattern that only makes such results is not run (Presidio's very
        # weak SSN shapes: 0.05 + 0.35 < 0.5). On a megabyte of code or numbers, scoring
        # their context cost more than all the recognizers together.
        self._context_floor = _context_floor(self.settings.score_threshold, self._enhancer)
        # Built once: the recognizers the organisation's detectors do not change.
        self._base_recognizers: list[EntityRecognizer] = [*build_pii_recognizers(self._context_floor),
                                                          *secret_recognizers]
        self._base_labels: dict[str, tuple[str, str]] = {**PII_ENTITIES, **PRODUCTION_ENTITIES}
        for secret in secret_recognizers:
            self._base_labels[secret.entity_type] = (secret.data_class, secret.reason)
        self._set = self._recognizer_set(load_org_config(self.settings.org_config))
        # The first analyze call pays one-off costs (lazy regex compiles, caches); pay them
        # here rather than on a user's first paste.
        self.scan("Warm-up: Jane Roe, jane@example.com, +1 212 736 5000, 10.1.2.3.")

    def _recognizer_set(self, org: OrgConfig) -> _RecognizerSet:
        labels = dict(self._base_labels)
        severity: dict[str, str] = {}
        for ident in org.identifiers:
            labels[ident.entity_type] = ("production", ident.reason)
            severity[ident.entity_type] = ident.severity
        for entity_type, (data_class, _reason) in labels.items():
            severity.setdefault(entity_type, severity_of(entity_type, data_class))
        # The deployment's YAML may switch recognizers off or set their score and context.
        recognizers, score_overrides = apply_overrides(
            [*self._base_recognizers, *build_production_recognizers(org)],
            load_recognizer_config(self.settings.recognizer_config))
        for recognizer in recognizers:
            recognizer.load()
        # One keyword pass for every declared recognizer; each runs only near its keywords.
        keyworded = [r for r in recognizers if isinstance(r, SecretRecognizer)]
        entities = tuple(sorted(labels))
        return _RecognizerSet(
            labels=labels, severity=severity, recognizers=recognizers, score_overrides=score_overrides,
            keywords=KeywordIndex(keyworded), keyword_slot={id(r): slot for slot, r in enumerate(keyworded)},
            context_recognizers={r.id: r for r in recognizers if r.context},
            entities=entities, analyzed_entities=[e for e in entities if e != "BULK_RECORDS"])

    def use_org_config(self, org: OrgConfig) -> None:
        """Swap in the recognizers of these org detectors (from the policy, at run time). The
        new set is built first, then replaces the old one in one assignment: a scan already
        running finishes with the set it started with, the next one uses the new set."""
        self._set = self._recognizer_set(org)

    @property
    def entities(self) -> tuple[str, ...]:
        return self._set.entities

    def data_class_of(self, entity_type: str) -> str:
        return self._set.labels[entity_type][0]

    def reason_of(self, entity_type: str) -> str:
        return self._set.labels[entity_type][1]

    def severity_of(self, entity_type: str) -> str:
        return self._set.severity[entity_type]

    def scan(self, text: str) -> ScanResult:
        """Findings in the first MAX_SCAN_CHARS characters of ``text``, sorted by start.
        No two findings overlap, except a BULK_RECORDS finding, which spans a whole dump
        and the findings in its rows, and a DB_CONNECTION_URL, which holds its DB_PASSWORD. The result's ``limits`` say what a budget cut short."""
        if not isinstance(text, str):
            raise TypeError(f"scan() needs a str, not {type(text).__name__}")
        current = self._set      # read once: a swap during this scan does not change its set
        limits: list[ScanLimit] = []
        if len(text) > MAX_SCAN_CHARS:
            limits.append(ScanLimit(TEXT_CAPPED, f"{len(text) - MAX_SCAN_CHARS} characters past the first "
                                                 f"{MAX_SCAN_CHARS} not scanned"))
        text = _LONE_SURROGATE.sub("\ufffd", text[:MAX_SCAN_CHARS])
        if not text.strip():
            return ScanResult((), limits)
        # Tables and dumps get their names from their name column, not from NER.
        runs = find_runs(text)
        if text.rstrip().count("\n") >= MAX_LINES:
            limits.append(ScanLimit(TABLE_LINES, f"lines past the first {MAX_LINES} not examined for tables "
                                                 "(every recognizer still scanned them)"))
        regions = []
        ner_chars_left, ner_skipped = NER_MAX_CHARS, 0
        for start, end in _outside(prose_regions(text), [(r.start, r.end) for r in runs]):
            if not may_name_someone(text, start, end):
                continue
            if end - start > ner_chars_left:
                # The part that fits, cut at a line or sentence end; the rest is skipped.
                cut = _last_break(text, start, start + ner_chars_left)
                ner_skipped += end - (cut or start)
                if cut is None:
                    continue
                end = cut
            ner_chars_left -= end - start
            regions.append((start, end))
        if ner_skipped:
            limits.append(ScanLimit(NER_BUDGET, f"{ner_skipped} characters of prose past the name model's "
                                                f"budget of {NER_MAX_CHARS} not read for names"))
        found = self._analyze(current, text, self._nlp_engine.annotate(text, regions), limits)
        candidates = [_make(current, r.entity_type, r.start, r.end, round(float(r.score), 4)) for r in found]
        names, births = person_cells(text, runs)
        candidates.extend(_make(current, "PERSON", s, e, NAME_COLUMN_SCORE) for s, e in names)
        candidates.extend(_make(current, "DATE_OF_BIRTH", s, e, NAME_COLUMN_SCORE) for s, e in births)
        findings = _resolve_overlaps(candidates)
        pii = [(f.start, f.end, f.entity_type) for f in findings if f.data_class in ("pii", "payment")]
        bulk = [_make(current, "BULK_RECORDS", b.start, b.end, BULK_SCORE, reason=b.reason)
                for b in bulk_records(runs, pii)]
        if bulk:
            findings = sorted(findings + bulk, key=lambda f: (f.start, -f.end))
        return ScanResult(findings, limits)

    def _analyze(self, current: _RecognizerSet, text: str, entities: NlpArtifacts,
                 limits: list[ScanLimit]) -> list[RecognizerResult]:
        """Every recognizer on the text, then context words for the results that need them.

        Not AnalyzerEngine.analyze: it filters all results once per recognizer and deep-copies
        them for context scoring (quadratic on a dump), and scores context for results
        already above the threshold, where it changes no decision. Here only results below
        the threshold, from recognizers that declare context words, get context scoring,
        and the word tokens it needs are made only then. Recognizers with a budget
        (``reports_limits``) add to ``limits`` when they stop short."""
        threshold = self.settings.score_threshold
        results: list[RecognizerResult] = []
        occurrences = current.keywords.occurrences(text)
        for recognizer in current.recognizers:
            found = self._run(current, recognizer, text, entities, limits, occurrences)
            named: Identified = recognizer
            override = current.score_overrides.get(named.id)
            for result in found or ():
                if override is not None:
                    result.score = override
                if result.recognition_metadata is None:
                    result.recognition_metadata = {}
                result.recognition_metadata.setdefault(RecognizerResult.RECOGNIZER_IDENTIFIER_KEY, named.id)
                result.recognition_metadata.setdefault(RecognizerResult.RECOGNIZER_NAME_KEY, named.name)
                results.append(result)
        low = [r for r in results if self._context_floor <= r.score < threshold
               and r.recognition_metadata[RecognizerResult.RECOGNIZER_IDENTIFIER_KEY] in current.context_recognizers]
        if low:
            owners = {r.recognition_metadata[RecognizerResult.RECOGNIZER_IDENTIFIER_KEY] for r in low}
            low = self._enhancer.enhance_using_context(
                text, low, self._nlp_engine.context_artifacts(text, entities, [(r.start, r.end) for r in low]),
                [current.context_recognizers[i] for i in owners])
        results = [r for r in results if r.score >= threshold] + [r for r in low if r.score >= threshold]
        kept = []
        for result in EntityRecognizer.remove_duplicates(results):
            if result.entity_type == "PERSON":
                end = _name_end(text, result.start, result.end)
                if end is None:
                    continue
                result.end = end
            kept.append(result)
        return kept

    def _run(self, current: _RecognizerSet, recognizer: EntityRecognizer, text: str, entities: NlpArtifacts,
             limits: list[ScanLimit], occurrences: list[list[int]]) -> list[RecognizerResult] | None:
        """One recognizer's results: a budgeted one is given ``limits`` to add to, a keyworded
        one runs only near its keywords' ``occurrences`` (and not at all without them)."""
        if _reports_limits(recognizer):
            return recognizer.analyze(text, current.analyzed_entities, entities, limits=limits)
        if not isinstance(recognizer, SecretRecognizer):
            return recognizer.analyze(text=text, entities=current.analyzed_entities, nlp_artifacts=entities)
        near = occurrences[current.keyword_slot[id(recognizer)]]
        if recognizer.keywords and not near:
            return []
        return recognizer.analyze(text, current.analyzed_entities, entities, near=near)


@dataclass(frozen=True)
class _RecognizerSet:
    """What a scan reads that the organisation's detectors change (labels, severities, the
    recognizers and their indexes). Replaced whole, never edited: a scan holds one."""
    labels: dict[str, tuple[str, str]]
    severity: dict[str, str]
    recognizers: list[EntityRecognizer]
    score_overrides: dict[str, float]
    keywords: KeywordIndex
    keyword_slot: dict[int, int]
    context_recognizers: dict[str, EntityRecognizer]
    entities: tuple[str, ...]
    analyzed_entities: list[str]


def _make(current: _RecognizerSet, entity_type: str, start: int, end: int, score: float,
          reason: str | None = None) -> Finding:
    data_class, default_reason = current.labels[entity_type]
    return Finding(entity_type, start, end, score, data_class, reason or default_reason, current.severity[entity_type])


class _Budgeted(Protocol):
    """A recognizer with a budget (``reports_limits``): it adds a ScanLimit to ``limits``
    when it stops short."""

    def analyze(self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None,
                limits: list[ScanLimit] | None = None) -> list[RecognizerResult]: ...


def _reports_limits(recognizer: EntityRecognizer) -> TypeGuard[_Budgeted]:
    return bool(getattr(recognizer, "reports_limits", False))


_NAME_WORD = re.compile(r"[^\W\d_](?:[^\W\d_]|['’.\-])*")


def _name_end(text: str, start: int, end: int) -> int | None:
    """End of the name-like words a PERSON span starts with, or None when it has none.
    The small NER model tags "v2.14.3" or "SLACK_BOT_TOKEN" as PERSON, and runs a name on
    into the email after it ("Maria Garcia maria@acme.io"): keep only the leading words."""
    position, last_end = start, None
    for word in text[start:end].split():
        at = text.index(word, position)
        core = word.rstrip(",;:")
        if not _NAME_WORD.fullmatch(core):
            break
        position = at + len(word)
        last_end = at + len(core)
        if core != word:
            break   # "Maria Garcia, then ...": the comma ends the name
    return last_end


_BREAK = re.compile(r"[.!?]\s|\n")


def _last_break(text: str, start: int, end: int) -> int | None:
    """The end of the last line or sentence that ends within text[start:end], if any."""
    last_end = None
    for match in _BREAK.finditer(text, start, end):
        last_end = match.end()
    return last_end


def _outside(regions: list[tuple[int, int]], holes: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The parts of sorted ``regions`` not covered by sorted, disjoint ``holes``."""
    out = []
    first = 0   # holes ending before this region also end before the next: skipped for good
    for start, end in regions:
        while first < len(holes) and holes[first][1] <= start:
            first += 1
        for k in range(first, len(holes)):
            hole_start, hole_end = holes[k]
            if hole_start >= end:
                break
            if hole_start > start:
                out.append((start, hole_start))
            start = max(start, hole_end)
            if start >= end:
                break
        if start < end:
            out.append((start, end))
    return out


def _overlaps_only_its_own(taken: bytearray, outer: Finding, kept: list[Finding]) -> bool:
    """Whether the kept findings ``outer`` overlaps are only ones it may hold (_NESTS), inside it."""
    span = bytearray(taken[outer.start:outer.end])
    for inner in kept:
        if inner.entity_type == _NESTS[outer.entity_type] and outer.start <= inner.start and inner.end <= outer.end:
            span[inner.start - outer.start:inner.end - outer.start] = bytes(inner.end - inner.start)
    return not any(span)


def _resolve_overlaps(candidates: list[Finding]) -> list[Finding]:
    """Keep the strongest of overlapping findings: class rank, then score, then length."""
    ranked = sorted(
        set(candidates),
        # The entity type last: ties are broken the same way in every process.
        key=lambda f: (_CLASS_RANK.get(f.data_class, 0), f.score, f.end - f.start, -f.start, f.entity_type),
        reverse=True,
    )
    if not ranked:
        return []
    # One byte per character, set where a kept finding lies: "does it overlap a kept one"
    # is a C-speed search of the span (a sorted list with inserts was quadratic on a dump
    # of 30 000 findings). A finding that may hold another (_NESTS) ranks below it, so it
    # comes second and may go over it.
    taken = bytearray(max(f.end for f in ranked) + 1)
    kept: list[Finding] = []
    for finding in ranked:
        if finding.entity_type in _NESTS:
            if not _overlaps_only_its_own(taken, finding, kept):
                continue
        elif taken.find(1, finding.start, finding.end) != -1:
            continue
        taken[finding.start:finding.end] = b"\x01" * (finding.end - finding.start)
        kept.append(finding)
    kept.sort(key=lambda f: f.start)
    return kept
