"""Sample-level scores on the independent sets (bench/eval/*.jsonl, see build_sets.py).

A sample is positive for a class when it holds a label of that class, and predicted
positive when the engine reports anything of that class in it. Per entity type the same,
where a prediction's type is mapped to the eval's types (ENTITY_TYPES); for a secret
rule's type, a secret finding overlapping the labelled value (or anywhere in the sample when
the case gives no span) counts, and precision is not defined (engines do not name
gitleaks' rules). Used by bench/detectors.py --eval.
"""
from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from shadowmap.contract import enums

HERE = Path(__file__).resolve().parent
SETS = ("scanners", "providers", "pii", "pastes")
CLASSES = enums.DATA_CLASSES   # the contract's

# Engines' entity types -> the eval's types (shadowmap's and stock Presidio's names).
ENTITY_TYPES = {
    "PERSON": "PERSON", "EMAIL_ADDRESS": "EMAIL_ADDRESS", "PHONE_NUMBER": "PHONE_NUMBER",
    "STREET_ADDRESS": "ADDRESS", "IP_ADDRESS": "IP_ADDRESS", "US_SSN": "US_SSN", "DATE_OF_BIRTH": "DATE_OF_BIRTH",
    "CREDIT_CARD": "CREDIT_CARD", "IBAN_CODE": "IBAN", "US_BANK_NUMBER": "ACH", "ACH_ROUTING_NUMBER": "ACH",
    "ACH_ACCOUNT_NUMBER": "ACH", "ABA_ROUTING_NUMBER": "ACH", "US_BANK_ACCOUNT_NUMBER": "ACH",
    "POSTAL_ADDRESS": "ADDRESS",
}


@dataclass
class Tally:
    true_pos: int = 0
    false_pos: int = 0
    false_neg: int = 0

    @property
    def labels(self) -> int:
        return self.true_pos + self.false_neg

    @property
    def precision(self) -> float | None:
        predicted = self.true_pos + self.false_pos
        return self.true_pos / predicted if predicted else None

    @property
    def recall(self) -> float | None:
        return self.true_pos / self.labels if self.labels else None

    def f_beta(self, beta: float = 2.0) -> float | None:
        p, r = self.precision, self.recall
        if r is None:
            return None
        p = 1.0 if p is None else p
        return (1 + beta**2) * p * r / (beta**2 * p + r) if p + r else 0.0

    def add(self, labelled: bool, predicted: bool) -> None:
        if labelled and predicted:
            self.true_pos += 1
        elif predicted:
            self.false_pos += 1
        elif labelled:
            self.false_neg += 1


def load_set(name: str, split: str) -> list[dict]:
    with (HERE / f"{name}.jsonl").open(encoding="utf-8") as handle:
        items = [json.loads(line) for line in handle if line.strip()]
    return [s for s in items if split == "all" or s["split"] == split]


def _overlaps(a_start: int, a_end: int, b_start: int, b_end: int) -> bool:
    return a_start < b_end and b_start < a_end


def score(samples: list[dict], predictions: list[list[tuple[int, int, str, str]]]):
    """(per class, per entity type) Tallies; ``predictions``: per sample, (start, end,
    data class, entity type) of each finding."""
    by_class: dict[str, Tally] = defaultdict(Tally)
    by_type: dict[tuple[str, str], Tally] = defaultdict(Tally)
    for item, predicted in zip(samples, predictions, strict=True):
        labels = item["labels"]
        for cls in CLASSES:
            by_class[cls].add(any(label["class"] == cls for label in labels), any(p[2] == cls for p in predicted))
        mapped = {ENTITY_TYPES[p[3]] for p in predicted if p[3] in ENTITY_TYPES}
        typed = {(label["class"], label["type"]) for label in labels}
        for cls, eval_type in typed:
            if cls == "secret" and eval_type != "SECRET":
                spans = [(label["start"], label["end"]) for label in labels if label["type"] == eval_type and "start" in label]
                hit = any(p[2] == "secret" and (not spans or any(_overlaps(p[0], p[1], s, e) for s, e in spans))
                          for p in predicted)
                by_type[(cls, eval_type)].add(True, hit)
            elif cls in ("pii", "payment"):
                by_type[(cls, eval_type)].add(True, eval_type in mapped)
        for eval_type in mapped - {t for _, t in typed}:
            cls = "payment" if eval_type in ("CREDIT_CARD", "IBAN", "ACH") else "pii"
            by_type[(cls, eval_type)].add(False, True)
    return by_class, by_type


def misses_and_false_alarms(samples: list[dict], predictions, data_class: str) -> tuple[list[dict], list[tuple[dict, list]]]:
    """For tuning: samples of a class nothing of that class was found in, and samples
    without that class where something of it was reported (with the findings)."""
    missed, alarms = [], []
    for item, predicted in zip(samples, predictions, strict=True):
        labelled = any(label["class"] == data_class for label in item["labels"])
        found = [p for p in predicted if p[2] == data_class]
        if labelled and not found:
            missed.append(item)
        elif found and not labelled:
            alarms.append((item, found))
    return missed, alarms


def _fmt(value: float | None) -> str:
    return "    -" if value is None else f"{value:5.3f}"


def print_tables(name: str, split: str, scores: dict[str, tuple[dict, dict]]) -> None:
    """One set's tables: per class, then per entity type, each engine side by side. Secret
    rule types are listed when some engine missed one of their samples; the rest are counted."""
    engines = list(scores)
    count = scores[engines[0]][0]
    print(f"\n== {name} ({split} half) ==")
    # FP: samples without the class where the engine reported it (false alarms).
    header = " | ".join(f"{e[:9]:>9} P     R    F2    FP" for e in engines)
    print(f"{'class':11} {'pos':>5} | {header}")
    for cls in CLASSES:
        if not count[cls].labels and not any(scores[e][0][cls].false_pos for e in engines):
            continue
        cells = " | ".join(f"{_fmt(scores[e][0][cls].precision):>15} {_fmt(scores[e][0][cls].recall)} "
                           f"{_fmt(scores[e][0][cls].f_beta())} {scores[e][0][cls].false_pos:>5}" for e in engines)
        print(f"{cls:11} {count[cls].labels:>5} | {cells}")
    types = sorted({key for e in engines for key in scores[e][1]})
    if not types:
        return
    print(f"{'entity type':38} {'pos':>4} | " + " | ".join(f"{e[:9]:>9} P     R    F2" for e in engines))
    all_found = 0
    for key in types:
        tallies = [scores[e][1].get(key, Tally()) for e in engines]
        if key[0] == "secret" and all(t.recall is None or t.recall == 1.0 for t in tallies[:1]):
            all_found += 1
            continue
        cells = " | ".join(f"{_fmt(t.precision):>15} {_fmt(t.recall)} {_fmt(t.f_beta())}" for t in tallies)
        print(f"{key[0][:3]} {key[1][:34]:34} {max(t.labels for t in tallies):>4} | {cells}")
    if all_found:
        print(f"sec ({all_found} more secret rule types: every sample found by {engines[0]})")


def origin_groups(samples: list[dict]) -> list[tuple[str, list[int]]]:
    """Indices of a set's samples by origin: "generated" (drawn from a scanner's regexes) and
    "literal" (the cases scanners publish, as written), then literal by scanner. Empty for a
    set whose samples carry no origin."""
    groups: dict[str, list[int]] = defaultdict(list)
    for index, item in enumerate(samples):
        origin = item.get("origin")
        if not origin:
            continue
        groups[origin].append(index)
        if origin == "literal" and item.get("scanner"):
            groups[f"literal {item['scanner']}"].append(index)
    order = ["generated", "literal"] + sorted(k for k in groups if k.startswith("literal "))
    return [(name, groups[name]) for name in order if groups.get(name)]


def print_origin_rows(name: str, split: str, samples: list[dict], predictions: dict[str, list], data_class: str = "secret") -> None:
    """One class's sample-level figures per origin group of the set, each engine side by side."""
    groups = origin_groups(samples)
    if not groups:
        return
    engines = list(predictions)
    print(f"-- {name} ({split} half), {data_class} by origin --")
    header = " | ".join(f"{e[:9]:>9} P     R    F2    FP" for e in engines)
    print(f"{'origin':24} {'pos':>5} {'neg':>5} | {header}")
    for label, indices in groups:
        subset = [samples[i] for i in indices]
        tallies = [score(subset, [predictions[e][i] for i in indices])[0][data_class] for e in engines]
        negatives = sum(1 for item in subset if not any(lab["class"] == data_class for lab in item["labels"]))
        cells = " | ".join(f"{_fmt(t.precision):>15} {_fmt(t.recall)} {_fmt(t.f_beta())} {t.false_pos:>5}" for t in tallies)
        print(f"{label:24} {tallies[0].labels:>5} {negatives:>5} | {cells}")


# What a scanner's test case writes where the format, not the value, is under test: masks,
# AWS's documentation marker, keyboard runs, and "password" / "secret" as the whole value of
# a credential key or of a URL's password ("kind: Secret" in a Kubernetes manifest is a kind,
# not a value). Written from the published conventions, not from this project's placeholder
# rules; used only to say how many of the misses are such stand-ins (rejected on purpose).
STAND_IN = re.compile(
    r"(?i:x{6,}|\*{6,}|0123456789|abcdefgh|qwerty)|(?-i:EXAMPLE)"
    r"|(?i:(?:(?:pass(?:word)?|passwd|pwd|secret|token|key)['\"]?\s*[:=]\s*['\"]?|://[^\s:@/]*:)"
    r"(?:my|your)?(?:password|secret)(?=[@'\";&\s]|$))")


def print_stand_ins(name: str, split: str, samples: list[dict], predictions: dict[str, list],
                    data_class: str = "secret") -> None:
    """How many of a class's positives carry a published stand-in (STAND_IN), how many of
    those and of the rest each engine missed, and its recall on the rest."""
    positives = [i for i, item in enumerate(samples) if any(lab["class"] == data_class for lab in item["labels"])]
    marked = {i for i in positives if STAND_IN.search(samples[i]["text"])}
    if not marked:
        return
    print(f"-- {name} ({split} half), {data_class}: {len(marked)} of {len(positives)} positives hold a published "
          f"stand-in (a mask, EXAMPLE, a keyboard run, 'password' as the value) --")
    for engine, found in predictions.items():
        missed = [i for i in positives if not any(p[2] == data_class for p in found[i])]
        rest = len(positives) - len(marked)
        missed_rest = sum(1 for i in missed if i not in marked)
        recall = (rest - missed_rest) / rest if rest else float("nan")
        print(f"{engine[:9]:>9}: missed {len(missed)}, {len(missed) - missed_rest} of them stand-ins; "
              f"recall on the {rest} other positives {recall:.3f}")
