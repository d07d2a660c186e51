"""Fuzzing the secret recognizers directly (no engine): on any text, and above all on text
full of their own keywords and token pieces, they return well-formed spans and never raise;
a GitHub-format token is found with its checksum and refused with any character changed.

SHADOWMAP_FUZZ_EXAMPLES sets the examples per property (small in the suite; `make fuzz`
runs 10,000)."""
from __future__ import annotations

import os
import string
import zlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shadowmap.detectors.recognizers import build_secret_recognizers
from shadowmap.detectors.recognizers.secrets.rules import is_placeholder, shannon_entropy

pytestmark = pytest.mark.fuzz

EXAMPLES = int(os.environ.get("SHADOWMAP_FUZZ_EXAMPLES", "300"))
FUZZ_SETTINGS = settings(max_examples=EXAMPLES, deadline=None, database=None,
                         suppress_health_check=[HealthCheck.too_slow])
RECOGNIZERS = [r for r in build_secret_recognizers() if r.data_class == "secret"]
ALNUM = string.ascii_letters + string.digits
BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase

# Pieces that steer the text into the recognizers' patterns: every declared keyword, and
# the separators and fragments their formats are made of.
PIECES = sorted({k for r in RECOGNIZERS for k in r.keywords}) + [
    "=", ": ", '"', "'", ";", "\n", "-", "_", ".", "/", "@", "://", "==", "${", "}", "<", ">", "****",
    "-----END PRIVATE KEY-----", "Private-Lines: 2\n", "eyJhbGciOiJIUzI1NiJ9", "T3BlbkFJ", "AA", "0000",
]
tokenish = st.text(alphabet=ALNUM + "+/_-=", min_size=1, max_size=90)
hostile_text = st.lists(st.sampled_from(PIECES) | tokenish | st.text(max_size=12), max_size=60).map("".join)


def check_spans(text: str) -> None:
    for recognizer in RECOGNIZERS:
        for start, end, score in recognizer.find(text):
            assert 0 <= start < end <= len(text), recognizer.entity_type
            assert 0.0 < score <= 1.0
            assert not text[start:end].isspace()


@FUZZ_SETTINGS
@given(hostile_text)
def test_recognizers_survive_keyword_soup(text):
    check_spans(text)


@FUZZ_SETTINGS
@given(st.text(max_size=400))
def test_recognizers_survive_any_text(text):
    check_spans(text)


def with_crc(prefix: str, body30: str) -> str:
    n, digits = zlib.crc32(body30.encode()), ""
    for _ in range(6):
        n, d = divmod(n, 62)
        digits = BASE62[d] + digits
    return f"{prefix}_{body30}{digits}"


GITHUB = next(r for r in RECOGNIZERS if r.entity_type == "GITHUB_TOKEN")
# Random-looking bodies: masks and low-entropy strings are the placeholder tests' subject.
body30 = st.text(alphabet=ALNUM, min_size=30, max_size=30).filter(
    lambda b: not is_placeholder(b, 14) and shannon_entropy(b) >= 3.5)


@FUZZ_SETTINGS
@given(body30, st.sampled_from(["ghp", "gho", "ghu", "ghs", "ghr"]), st.integers(0, 35), st.sampled_from(ALNUM))
def test_github_checksum_accepts_the_token_and_refuses_any_change(body, prefix, position, replacement):
    token = with_crc(prefix, body)
    text = f"GITHUB_TOKEN={token}\n"
    assert [(s, e) for s, e, _ in GITHUB.find(text)] == [(13, 13 + len(token))]
    changed = list(token[4:])
    if changed[position] == replacement:
        return
    changed[position] = replacement
    forged = token[:4] + "".join(changed)
    assert GITHUB.find(f"GITHUB_TOKEN={forged}\n") == []
