"""Scoring detectors on the labelled corpus, per data class.

A predicted span counts as a true positive when it overlaps a labelled span of the same
data class; a labelled span counts as found when some prediction of its class overlaps it.
Entity names may differ between detectors (stock Presidio, ours): only classes are compared.
Shared by tests/corpus/test_corpus.py and bench/detectors.py.
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

CORPUS = Path(__file__).resolve().parent / "corpus.jsonl"
ORG_CONFIG = Path(__file__).resolve().parent / "org_detectors.yaml"
DATA_CLASSES = ("pii", "payment", "secret", "production")


def load_corpus(path: Path = CORPUS) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


@dataclass
class ClassScore:
    true_pos: int = 0      # predictions overlapping a label of their class
    false_pos: int = 0
    found: int = 0         # labels some prediction of their class overlaps
    labels: int = 0

    @property
    def precision(self) -> float:
        predicted = self.true_pos + self.false_pos
        return self.true_pos / predicted if predicted else 1.0

    @property
    def recall(self) -> float:
        return self.found / self.labels if self.labels else 1.0

    def f_beta(self, beta: float = 2.0) -> float:
        p, r = self.precision, self.recall
        return (1 + beta**2) * p * r / (beta**2 * p + r) if p + r else 0.0


def _overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def score(items: list[dict], predictions: Iterable[list[tuple[int, int, str]]]) -> dict[str, ClassScore]:
    """``predictions``: per item, (start, end, data_class) spans, in corpus order."""
    scores = {cls: ClassScore() for cls in DATA_CLASSES}
    for item, predicted in zip(items, predictions, strict=True):
        labels = [(s["start"], s["end"], s["data_class"]) for s in item["spans"]]
        for start, end, cls in labels:
            scores[cls].labels += 1
            if any(p_cls == cls and _overlaps((start, end), (p_s, p_e)) for p_s, p_e, p_cls, *_ in predicted):
                scores[cls].found += 1
        for p_s, p_e, p_cls, *_ in predicted:
            if p_cls not in scores:
                continue
            if any(cls == p_cls and _overlaps((start, end), (p_s, p_e)) for start, end, cls in labels):
                scores[p_cls].true_pos += 1
            else:
                scores[p_cls].false_pos += 1
    return scores


def false_positives(items: list[dict], predictions, data_class: str) -> list[tuple[str, str, str]]:
    """(item id, entity type, matched text) of each false positive of a class: for tuning."""
    out = []
    for item, predicted in zip(items, predictions, strict=True):
        labels = [(s["start"], s["end"]) for s in item["spans"] if s["data_class"] == data_class]
        for p_s, p_e, p_cls, *rest in predicted:
            if p_cls == data_class and not any(_overlaps((s, e), (p_s, p_e)) for s, e in labels):
                out.append((item["id"], rest[0] if rest else "", item["text"][p_s:p_e]))
    return out


def missed(items: list[dict], predictions, data_class: str) -> list[tuple[str, str, str]]:
    """(item id, entity type, labelled text) of each label no prediction found."""
    out = []
    for item, predicted in zip(items, predictions, strict=True):
        for s in item["spans"]:
            if s["data_class"] != data_class:
                continue
            if not any(p_cls == data_class and _overlaps((s["start"], s["end"]), (p_s, p_e))
                       for p_s, p_e, p_cls, *_ in predicted):
                out.append((item["id"], s["entity_type"], item["text"][s["start"]:s["end"]]))
    return out
