"""The fast context-token lookup returns exactly what Presidio's linear one returns."""
import pytest
import spacy
from presidio_analyzer.context_aware_enhancers import LemmaContextAwareEnhancer

from shadowmap.detectors.context import FastLemmaContextAwareEnhancer

TEXTS = [
    "Hi  Maria Garcia,\n\n call 415-867-5309 now!",
    "x",
    "  leading and trailing  ",
    "email: jane@acme.io\tphone:+44 20 7946 0958\r\nssn 536-90-4399 -- done",
]


def _lookup(cls, start, doc):
    try:
        return cls._find_index_of_match_token("w", start, doc, [t.idx for t in doc])
    except ValueError:
        return "not found"


@pytest.mark.parametrize("text", TEXTS)
def test_same_token_for_every_offset(text):
    doc = spacy.blank("en")(text)
    for start in range(len(text) + 1):
        assert _lookup(FastLemmaContextAwareEnhancer, start, doc) == _lookup(LemmaContextAwareEnhancer, start, doc)


def test_context_words_still_raise_scores(engine):
    # A bare digit run scores 0.4 as a phone: below the threshold unless a context word is near.
    [with_context] = engine.scan("my phone number is 4158675309")
    assert with_context.entity_type == "PHONE_NUMBER" and with_context.score > 0.5
    assert engine.scan("order 4158675309 shipped") == []
    [card] = engine.scan("visa card 4012888888881881")
    assert card.entity_type == "CREDIT_CARD" and card.score == 1.0
