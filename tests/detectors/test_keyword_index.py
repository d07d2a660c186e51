"""The combined keyword pass: one Aho-Corasick scan gives every recognizer's keyword
occurrences, and scanning only around them finds exactly what scanning the whole text
finds (on the labelled corpus and on the family tables, padded so windows really cut)."""
import importlib.util
import json
from pathlib import Path

import pytest

from shadowmap.detectors.recognizers import build_secret_recognizers
from shadowmap.detectors.recognizers.keyword_index import KeywordIndex

ROOT = Path(__file__).resolve().parents[1]
RECOGNIZERS = build_secret_recognizers()
INDEX = KeywordIndex(RECOGNIZERS)


def _texts() -> list[str]:
    texts = [json.loads(line)["text"] for line in (ROOT / "corpus" / "corpus.jsonl").open(encoding="utf-8")]
    for path in sorted((ROOT / "detectors" / "secrets").glob("test_*.py")):
        if "\nCASES = [" not in path.read_text():
            continue
        spec = importlib.util.spec_from_file_location(f"_keyword_table_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        texts.extend(text for _type, text, _expected in module.CASES)
    return texts


# Prose and code between the cases: long enough that a window around one keyword ends
# long before the next case, with keyword-like fragments of its own.
FILLER = ("The deploy token rotation runs nightly; see the password policy in the wiki. "
          "for i in range(10): print(i)  # api_key handling lives elsewhere\n") * 12
TEXTS = _texts()
PADDED = [FILLER.join(TEXTS[i:i + 25]) for i in range(0, len(TEXTS), 25)]


def _whole_text(recognizer, text):
    """The scan without windows: every pattern over the whole text when a keyword occurs."""
    whole = type(recognizer)()   # an instance attribute, not a subclass: the registry finds subclasses
    whole.windows = lambda text, near=None: [(0, len(text))] if not whole.keywords or whole.keyword_starts(text) else []
    return whole.find(text)


def test_one_pass_finds_every_keyword_occurrence():
    for text in PADDED[:5] + TEXTS[:200]:
        for recognizer, starts in zip(RECOGNIZERS, INDEX.occurrences(text), strict=True):
            assert starts == recognizer.keyword_starts(text), recognizer.entity_type


@pytest.mark.parametrize("recognizer", RECOGNIZERS, ids=lambda r: r.entity_type)
def test_scanning_near_keywords_finds_what_a_whole_scan_finds(recognizer):
    slot = RECOGNIZERS.index(recognizer)
    for text in PADDED:
        near = INDEX.occurrences(text)[slot]
        assert sorted(recognizer.find(text, near)) == sorted(_whole_text(recognizer, text))


def test_a_match_longer_than_the_default_reach_is_found_whole():
    # A JWT with a 6 KB payload of claims (group lists do that): past the default window
    # after its keyword, inside the JWT recognizer's own reach.
    import random
    from base64 import urlsafe_b64encode as b64
    rng = random.Random(3)
    claims = {"sub": "8f3a1c2e", "groups": ["".join(rng.choice("abcdefghijklmnop") for _ in range(12)) for _ in range(400)]}
    header = b64(b'{"alg":"HS256","typ":"JWT"}').decode().rstrip("=")
    payload = b64(json.dumps(claims).encode()).decode().rstrip("=")
    token = f"{header}.{payload}.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
    assert len(token) > 5000
    jwt = next(r for r in RECOGNIZERS if r.entity_type == "JWT")
    text = FILLER + f"Authorization: Bearer {token}\n" + FILLER
    assert [text[s:e] for s, e, _score in jwt.find(text)] == [token]


def test_vendor_words_are_found_in_any_case_at_their_offsets():
    # Named formats' vendor words are matched in a case-folded copy of the text; non-ASCII
    # before them must not shift the offsets.
    text = 'Grüße aus Ærøskøbing — const launchDarklyKey = "…"; LAUNCHDARKLY_KEY=…; LaunchDarkly key'
    darkly = next(r for r in RECOGNIZERS if r.entity_type == "LAUNCHDARKLY_ACCESS_TOKEN")
    assert darkly.keywords_fold_case
    expected = [text.lower().find("launchdarkly", 0), text.find("LAUNCHDARKLY"), text.find("LaunchDarkly")]
    assert text[expected[0]:expected[0] + 12] == "launchDarkly"
    slot = RECOGNIZERS.index(darkly)
    assert INDEX.occurrences(text)[slot] == expected == darkly.keyword_starts(text)
    # A token's marker stays case-sensitive.
    assert not next(r for r in RECOGNIZERS if r.entity_type == "SLACK_TOKEN").keywords_fold_case
