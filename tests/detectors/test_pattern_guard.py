"""The guard on the organisation's patterns: known catastrophic-backtracking (ReDoS) forms
are refused, by shape or by time, and ordinary identifier formats pass quickly."""
from __future__ import annotations

import time

import pytest
import regex

from shadowmap.detectors.pattern_guard import PROBE_BUDGET_S, UnsafePattern, check_pattern, nested_repetition

REFUSED_BY_SHAPE = [
    r"^(a+)+$",                      # the textbook exponential form
    r"^(\w+\s?)+$",                  # OWASP's example
    r"^([a-zA-Z0-9])(([\-.]|[_]+)?([a-zA-Z0-9]+))*(@){1}[a-z0-9]+[.]{1}(([a-z]{2,3})|([a-z]{2,3}[.]{1}[a-z]{2,3}))$",
    r"(x+x+)+y",
    r"(?:[A-Z]{3}\d+){2,}",
    r"((ab)*c+)*d",
]
REFUSED_BY_TIME = [r"^(a|aa)+$", r"^(a|a)+$", r"^(\d|\d\d)+$"]
ACCEPTED = [r"\bCUST-\d{6}\b", r"ACME-[A-Z]{2}\d{4,8}", r"(?i)\b(?:acct|account)[-_ ]?\d{8}\b",
            r"[a-z]+(?:-[a-z]+)*+", r"(?:[A-Z]{3}\d+){2,}+z", r"\p{Lu}{3}-\d{4}", r"[(]\d+[)]+", r"(\d{3}-)+\d"]


@pytest.mark.parametrize("pattern", REFUSED_BY_SHAPE)
def test_nested_unbounded_repetition_is_refused(pattern):
    assert nested_repetition(pattern) is not None
    with pytest.raises(UnsafePattern, match="repeated group"):
        check_pattern(pattern)


@pytest.mark.parametrize("pattern", REFUSED_BY_TIME)
def test_overlapping_alternatives_are_refused_by_the_timed_probes(pattern):
    assert nested_repetition(pattern) is None            # the shape does not see these
    started = time.monotonic()
    with pytest.raises(UnsafePattern, match="took longer"):
        check_pattern(pattern)
    assert time.monotonic() - started < 20 * PROBE_BUDGET_S   # refused at the first slow probe


@pytest.mark.parametrize("pattern", ACCEPTED)
def test_ordinary_formats_pass(pattern):
    assert isinstance(check_pattern(pattern), regex.Pattern)


def test_empty_matches_and_bad_syntax_are_refused():
    for pattern in (r"\d*", r"(?:x)?", r"a|"):
        with pytest.raises(UnsafePattern, match="empty text"):
            check_pattern(pattern)
    with pytest.raises(regex.error):
        check_pattern("C-(\\d+")


def test_escapes_and_classes_do_not_confuse_the_shape_check():
    assert nested_repetition(r"\(a+\)+") is None           # escaped parentheses are no group
    assert nested_repetition(r"[(a+)]+") is None           # nor are they in a class
    assert nested_repetition(r"(a{2})+") is None           # a bounded inner count
    assert nested_repetition(r"(a+)") is None              # a group repeated once
