"""One pass over a text for the keywords of every declared recognizer.

Each ``SecretRecognizer`` declares keywords: substrings its matches contain ("AKIA",
"ghp_", "assword"). Looking each of them up separately is ~250 scans of the whole text;
an Aho-Corasick automaton built once at start-up finds every occurrence of all of them in
one pass. The engine then runs a recognizer only when its keywords occur, and its regexes
only around those occurrences (``SecretRecognizer.find(text, near=...)``).

A recognizer whose keywords are vendor words (``keywords_fold_case``) has them found in any
case ("launchDarklyKey", "LaunchDarkly key:"), by a second automaton over the text folded to
lower-case ASCII, one character for one, so offsets hold.
"""
from __future__ import annotations

from collections.abc import Sequence

import ahocorasick

from shadowmap.detectors.recognizers.base import SecretRecognizer, fold_case


def _automaton(owners: dict[str, list[int]]) -> ahocorasick.Automaton | None:
    if not owners:
        return None
    automaton = ahocorasick.Automaton(ahocorasick.STORE_ANY, ahocorasick.KEY_STRING)
    for keyword, indices in owners.items():
        automaton.add_word(keyword, (len(keyword), tuple(indices)))
    automaton.make_automaton()
    return automaton


class KeywordIndex:
    def __init__(self, recognizers: Sequence[SecretRecognizer]) -> None:
        self._count = len(recognizers)
        exact: dict[str, list[int]] = {}
        folded: dict[str, list[int]] = {}
        for index, recognizer in enumerate(recognizers):
            owners = folded if recognizer.keywords_fold_case else exact
            for keyword in recognizer.keywords:
                owners.setdefault(keyword, []).append(index)
        self._exact, self._folded = _automaton(exact), _automaton(folded)

    def occurrences(self, text: str) -> list[list[int]]:
        """For each recognizer, in the order given at construction, the start offsets of
        its keywords in ``text`` (ascending)."""
        found: list[list[int]] = [[] for _ in range(self._count)]
        if self._exact is not None:
            _collect(self._exact, text, found)
        if self._folded is not None:
            _collect(self._folded, fold_case(text), found)
        for starts in found:
            starts.sort()
        return found


def _collect(automaton: ahocorasick.Automaton, text: str, found: list[list[int]]) -> None:
    for end, (length, indices) in automaton.iter(text):
        start = end - length + 1
        for index in indices:
            found[index].append(start)
