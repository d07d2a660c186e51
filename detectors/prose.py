"""Where the NER model can change the answer: prose-like lines.

spaCy's NER is most of a scan's cost and finds names in sentences, not in code, base64,
hex, CSV rows or log lines (names in tables come from their column, see
recognizers/bulk_records.py). A line is prose when most of its whitespace-separated
tokens are words. Consecutive prose lines form one region, so sentences keep their context.
"""
from __future__ import annotations

import regex as re

# A word: letters, optionally an apostrophe part or hyphenated part, maybe followed by
# sentence punctuation. "Email:", "O'Neil," and "Green-Evans." count; "user=jo", "0x1f" not.
_WORD = re.compile(r"[(\"']?\p{L}+(?:['’\-]\p{L}+)*[.,;:!?)\"']{0,2}")
MIN_WORDS = 2
MIN_WORD_SHARE = 0.5
_MAX_TOKEN = 40   # base64, hashes, minified code


def is_prose(line: str) -> bool:
    tokens = line.split()
    if len(tokens) < MIN_WORDS:
        return False
    words = 0
    for token in tokens:
        # A URL or hash in a sentence is one non-word; a line of them is not prose.
        if len(token) <= _MAX_TOKEN and _WORD.fullmatch(token):
            words += 1
    return words >= MIN_WORDS and words >= MIN_WORD_SHARE * len(tokens)


# What a name looks like in running text: a capitalized word after a lower-case word or a
# comma/colon ("spoke with Bryan", "Customer: Jane"), or two capitalized words in a row
# ("Shane Bradford wrote"). Prose with neither ("The build takes 14 minutes") has no
# name for the NER model to find.
_NAME_HINT = re.compile(r"[\p{Ll},;:)]\s+\p{Lu}\p{Ll}|\b\p{Lu}\p{Ll}+[ \t]+\p{Lu}\p{Ll}")


def may_name_someone(text: str, start: int, end: int) -> bool:
    return _NAME_HINT.search(text, start, end) is not None


def prose_regions(text: str) -> list[tuple[int, int]]:
    """(start, end) character ranges of runs of prose lines."""
    regions: list[tuple[int, int]] = []
    start = 0
    for line in text.split("\n"):
        end = start + len(line)
        if is_prose(line):
            if regions and regions[-1][1] >= start - 1:
                regions[-1] = (regions[-1][0], end)
            else:
                regions.append((start, end))
        start = end + 1
    return regions
