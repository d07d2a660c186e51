"""Presidio's lemma context enhancer with its token lookup made logarithmic and its
keyword lookup constant-time.

Stock ``_find_index_of_match_token`` walks every token of the text for every result, so
context scoring grows as results x tokens: seconds for a 20 KB paste full of emails, minutes
for a megabyte. The lookup here returns the same token (the first whose end lies beyond the
match start) by bisecting the token start offsets.
"""
from __future__ import annotations

import bisect

from presidio_analyzer.context_aware_enhancers import LemmaContextAwareEnhancer


class FastLemmaContextAwareEnhancer(LemmaContextAwareEnhancer):
    def enhance_using_context(self, text, raw_results, nlp_artifacts, recognizers, context=None):
        # Stock tests each context candidate with ``in`` on the list of every keyword of the
        # text: results x tokens again. The same membership test on a set.
        if nlp_artifacts is not None and isinstance(nlp_artifacts.keywords, list):
            nlp_artifacts.keywords = frozenset(nlp_artifacts.keywords)
        return super().enhance_using_context(text, raw_results, nlp_artifacts, recognizers, context)

    @staticmethod
    def _find_index_of_match_token(word: str, start: int, tokens, tokens_indices: list[int]) -> int:
        # Tokens are sequential and non-empty: the last token starting at or before
        # ``start`` covers it, or else ``start`` sits in the gap before the next token.
        i = bisect.bisect_right(tokens_indices, start) - 1
        if i >= 0 and start < tokens_indices[i] + len(tokens[i]):
            return i
        if i + 1 < len(tokens_indices):
            return i + 1
        raise ValueError(f"Did not find word '{word}' in the list of tokens although it is expected to be found")
