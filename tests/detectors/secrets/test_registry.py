"""The secret recognizers as a whole: every registered type is declared completely and is
covered by the family tables with at least one true case and one near miss; hard
negatives (hashes, UUIDs, versions, encoded data, prose, code) raise no secret at all."""
import importlib.util
from pathlib import Path

import pytest

from shadowmap.detectors.recognizers import secret_recognizer_classes

HERE = Path(__file__).parent


def _family_tables() -> dict[str, list[tuple[str, str, list[str]]]]:
    tables = {}
    for path in sorted(HERE.glob("test_*.py")):
        if "\nCASES = [" not in path.read_text():   # this file, the fuzz file
            continue
        spec = importlib.util.spec_from_file_location(f"_secret_table_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        tables[path.stem] = module.CASES
    return tables


SECRET_CLASSES = [c for c in secret_recognizer_classes() if c.data_class == "secret"]


def test_at_least_sixty_secret_types():
    assert len(SECRET_CLASSES) >= 60


def test_every_type_is_declared_completely():
    reasons = [c.reason for c in SECRET_CLASSES]
    assert len(set(reasons)) == len(reasons), "two types share a reason: a user could not tell them apart"
    for cls in SECRET_CLASSES:
        assert cls.reason and "_" not in cls.reason, cls.__name__   # words for a person, not an id
        assert cls.keywords, f"{cls.__name__} has no prefilter keywords"
        assert all(cls.keywords), cls.__name__


def test_every_type_has_a_true_case_and_a_near_miss():
    hits: set[str] = set()
    misses: set[str] = set()
    for cases in _family_tables().values():
        for entity_type, _text, expected in cases:
            (hits if expected else misses).add(entity_type)
    registered = {c.entity_type for c in SECRET_CLASSES}
    assert registered - hits == set(), "types without a true case"
    assert registered - misses == set(), "types without a near miss"
    assert (hits | misses) - registered == set(), "table rows for types that are not registered"


HARD_NEGATIVES = [
    "commit 9fceb02d0ae598e95dc970b74767f19372d61af8 (HEAD -> main)",
    "sha256:3f5a1c0b9e8d7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1",
    "md5sum: d41d8cd98f00b204e9800998ecf8427e  empty.txt",
    "request_id=123e4567-e89b-12d3-a456-426614174000 status=200 latency_ms=41",
    "Upgraded numpy 1.26.4 -> 2.1.3, pydantic v2.9.2, node v20.11.1, build 2024.10.05-rc.3",
    "integrity sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg==",
    "image: ghcr.io/acme/api@sha256:0d8c4f9e4b6a2b1c3e5f7a9b1d3f5e7c9a1b3d5f7e9c1a3b5d7f9e1c3a5b7d9f",
    "font-src data:font/woff2;base64,d09GMgABAAAAAAK8AA0AAAAABkQAAAJmAAEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAP0ZGVE0cGh4GYACCUhEICoJ",
    "The password policy requires 12 characters; rotate your API key every 90 days.",
    "def check(password: str, token: str) -> bool:\n    return hmac.compare_digest(hash(password), token)",
    "export DB_PASSWORD=$(vault kv get -field=password secret/db)",
    "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\nAWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "OPENAI_API_KEY=sk-...\nANTHROPIC_API_KEY=<your-key>\nSTRIPE_KEY=sk_test_xxxx\nGITHUB_TOKEN=ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    "Traceback (most recent call last):\n  File \"/srv/app/tokens.py\", line 88, in refresh\n    raise TokenExpired(token_id)",
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGh0dHBzOi8vZXhhbXBsZS5jb20vc3NoLWtleQ alice@laptop",
]


@pytest.mark.parametrize("text", HARD_NEGATIVES)
def test_hard_negatives_raise_no_secret(engine, text):
    found = [(f.entity_type, text[f.start:f.end]) for f in engine.scan(text) if f.data_class == "secret"]
    assert found == []
