"""One pass over a text for the keywords of every declared recognizer.

Each ``SecretRecognizer`` declares keywords: substrings its matches contain ("AKIA",
"ghp_", "assword"). Looking each of them up separately is ~250 scans of the whole text;
an Aho-Corasick automaton built once at start-up finds every occurrence of all of them in
one pass. The engine then runs a recognizer only when its keywords occur, and its regexes
only around those occurrences (``SecretRecognizer.find(text, near=...)``).
"""
from __future__ import annotations

from collections.abc import Sequence

import ahocorasick

from shadowmap.detectors.recognizers.base import SecretRecognizer


class KeywordIndex:
    def __init__(self, recognizers: Sequence[SecretRecognizer]) -> None:
        self._count = len(recognizers)
        owners: dict[str, list[int]] = {}
        for index, recognizer in enumerate(recognizers):
            for keyword in recognizer.keywords:
                owners.setdefault(keyword, []).append(index)
        self._automaton = ahocorasick.Automaton(ahocorasick.STORE_ANY, ahocorasick.KEY_STRING)
        for keyword, indices in owners.items():
            self._automaton.add_word(keyword, (len(keyword), tuple(indices)))
        self._automaton.make_automaton()
        self._empty = not owners

    def occurrences(self, text: str) -> list[list[int]]:
        """For each recognizer, in the order given at construction, the start offsets of
        its keywords in ``text`` (ascending)."""
        found: list[list[int]] = [[] for _ in range(self._count)]
        if self._empty:
            return found
        for end, (length, indices) in self._automaton.iter(text):
            start = end - length + 1
            for index in indices:
                found[index].append(start)
        for starts in found:
            starts.sort()
        return found
