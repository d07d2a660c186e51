"""The 1 MB bound: budgets on the costly optional work, declared in the result, never
silent; the recognizers that decide a verdict always see the whole scanned text."""
import random

import pytest

from shadowmap.detectors.engine import (
    MAX_SCAN_CHARS,
    NER_MAX_CHARS,
    DetectorSettings,
    Finding,
    ScanEngine,
    _resolve_overlaps,
)
from shadowmap.detectors.recognizers.pii import PHONE_MAX_VALIDATIONS
from shadowmap.detectors.scan_result import NER_BUDGET, PHONE_BUDGET, TEXT_CAPPED, ScanResult

AWS = "AKIAZ3MVNQ5RFXKEXT4B"
CARD = "4111 1111 1111 1111"
DB_URL = "postgres://svc:Tr0ub4dor3x@db.acme.com/app"


def kinds(result: ScanResult) -> set[str]:
    return {limit.kind for limit in result.limits}


def test_a_small_scan_is_complete(engine):
    result = engine.scan(f"Maria Garcia, maria@acme.io, {AWS}")
    assert isinstance(result, ScanResult) and isinstance(result, list)
    assert result.complete and result.limits == ()


def test_text_past_the_cap_is_declared(engine):
    result = engine.scan(f"{AWS} " + "-" * MAX_SCAN_CHARS)
    assert [f.entity_type for f in result] == ["AWS_ACCESS_KEY"]
    assert kinds(result) == {TEXT_CAPPED}
    assert not result.complete


def test_prose_past_the_name_budget_is_declared_and_the_start_is_read(engine):
    paragraph = "Yesterday Maria Garcia met with the team about the quarterly plan.\n\n"
    text = paragraph * (2 * NER_MAX_CHARS // len(paragraph))
    result = engine.scan(text)
    names = [f for f in result if f.entity_type == "PERSON"]
    assert names and names[0].start == text.index("Maria")
    # Names are read within the budget only: about the first half of this text.
    paragraphs_read = NER_MAX_CHARS // (len(paragraph) - 2)   # the blank lines are not read
    assert max(f.end for f in names) <= (paragraphs_read + 1) * len(paragraph) < len(text) * 0.6
    assert kinds(result) == {NER_BUDGET}


def test_one_long_prose_region_is_read_up_to_the_budget(engine):
    # One region (no blank lines) larger than the budget: its first sentences are read.
    text = "Yesterday Maria Garcia met with the team about the quarterly plan. " * (2 * NER_MAX_CHARS // 66)
    result = engine.scan(text)
    assert any(f.entity_type == "PERSON" and f.start == text.index("Maria") for f in result)
    assert kinds(result) == {NER_BUDGET}


def test_phones_past_the_validation_budget_are_declared(engine):
    numbers = [f"212-736-{i:04d}" for i in range(PHONE_MAX_VALIDATIONS + 300)]
    text = "\n".join(f"call {n} today" for n in numbers) + f"\n{AWS} {CARD} {DB_URL}"
    result = engine.scan(text)
    phones = [text[f.start:f.end] for f in result if f.entity_type == "PHONE_NUMBER"]
    assert phones[:10] == numbers[:10]
    assert PHONE_MAX_VALIDATIONS - 5 <= len(phones) <= PHONE_MAX_VALIDATIONS
    assert kinds(result) == {PHONE_BUDGET}
    # The critical recognizers ran past the phone budget, to the end of the text.
    assert {"AWS_ACCESS_KEY", "CREDIT_CARD", "DB_CONNECTION_URL"} <= {f.entity_type for f in result}


def test_a_repeated_number_is_validated_once(engine):
    # The same number 3x the validation budget: every occurrence found, no budget hit.
    text = "support line 212-736-5000, " * (3 * PHONE_MAX_VALIDATIONS)
    result = engine.scan(text)
    assert sum(f.entity_type == "PHONE_NUMBER" for f in result) == 3 * PHONE_MAX_VALIDATIONS
    assert result.complete


def test_a_megabyte_of_numbers_still_finds_what_decides_the_verdict(engine):
    rng = random.Random(5)
    noise = " ".join(str(rng.randrange(10**5, 10**12)) for _ in range(110_000))[: MAX_SCAN_CHARS - 200]
    text = f"{noise}\nkey={AWS} card {CARD} {DB_URL} jane@acme.io"
    result = engine.scan(text)
    found = {f.entity_type for f in result}
    assert {"AWS_ACCESS_KEY", "CREDIT_CARD", "DB_CONNECTION_URL", "EMAIL_ADDRESS"} <= found
    assert result.limits == () or kinds(result) <= {PHONE_BUDGET}


@pytest.fixture(scope="module")
def low_threshold_engine() -> ScanEngine:
    return ScanEngine(DetectorSettings(score_threshold=0.3))


def test_weak_patterns_run_only_where_context_can_lift_them(engine, low_threshold_engine):
    # Presidio's bare 9-digit SSN scores 0.05; its context word adds 0.35: 0.4 passes a
    # threshold of 0.3, never the default 0.5 (there the pattern is not run at all).
    text = "employee ssn 536227364 on file"
    assert "US_SSN" in {f.entity_type for f in low_threshold_engine.scan(text)}
    assert "US_SSN" not in {f.entity_type for f in engine.scan(text)}
    # The separated layout is found at both.
    assert "US_SSN" in {f.entity_type for f in engine.scan("employee ssn 536-22-7364 on file")}


def _reference_overlaps(candidates: list[Finding]) -> list[Finding]:
    """The rule, written plainly: strongest first, kept when it overlaps nothing kept."""
    ranked = sorted(set(candidates), key=lambda f: ({"secret": 3, "production": 2, "payment": 1}.get(f.data_class, 0),
                                                    f.score, f.end - f.start, -f.start, f.entity_type), reverse=True)
    kept: list[Finding] = []
    for f in ranked:
        if all(f.end <= k.start or k.end <= f.start for k in kept):
            kept.append(f)
    return sorted(kept, key=lambda f: f.start)


def test_overlap_resolution_matches_the_plain_rule():
    rng = random.Random(3)
    classes = ("secret", "production", "payment", "pii")
    for _ in range(200):
        candidates = []
        for _ in range(rng.randrange(1, 30)):
            start = rng.randrange(0, 200)
            candidates.append(Finding(rng.choice(("A", "B", "C")), start, start + rng.randrange(1, 40),
                                      rng.choice((0.4, 0.6, 0.85, 1.0)), rng.choice(classes), "r"))
        assert _resolve_overlaps(candidates) == _reference_overlaps(candidates)


def test_lines_past_the_table_bound_are_declared(engine):
    from shadowmap.detectors.recognizers.bulk_records import MAX_LINES
    from shadowmap.detectors.scan_result import TABLE_LINES

    result = engine.scan("x\n" * MAX_LINES + f"{AWS}\n")
    assert [f.entity_type for f in result] == ["AWS_ACCESS_KEY"]
    assert kinds(result) == {TABLE_LINES}
