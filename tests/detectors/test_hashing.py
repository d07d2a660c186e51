"""Keyed hashes and the events.v1 finding summary: correlatable, never the value."""
import json

import pytest

from shadowmap import contract
from shadowmap.detectors.engine import Finding
from shadowmap.detectors.hashing import MAX_HASHES, keyed_hash, summarize

KEY_A = b"org-key-a" * 4
KEY_B = b"org-key-b" * 4
AWS = "AKIAZ3MVNQ5RFXKEXT4B"


def test_same_value_same_key_same_hash():
    assert keyed_hash(KEY_A, AWS) == keyed_hash(KEY_A, AWS)
    assert keyed_hash(KEY_A, f"  {AWS}\n") == keyed_hash(KEY_A, AWS)  # stripped


def test_different_key_or_value_different_hash():
    assert keyed_hash(KEY_A, AWS) != keyed_hash(KEY_B, AWS)
    assert keyed_hash(KEY_A, AWS) != keyed_hash(KEY_A, AWS[:-1] + "C")


def test_hash_is_hmac_sha256_hex():
    import hashlib
    import hmac

    assert keyed_hash(KEY_A, AWS) == hmac.new(KEY_A, AWS.encode(), hashlib.sha256).hexdigest()


def test_empty_key_refused():
    with pytest.raises(ValueError):
        keyed_hash(b"", AWS)


def test_summary_of_real_findings(engine):
    text = f"{AWS} jane@acme.io {AWS} bob@acme.io jane@acme.io"
    summary = summarize(engine.scan(text), text, KEY_A)
    by_type = {item["entity_type"]: item for item in summary}
    assert set(by_type) == {"AWS_ACCESS_KEY", "EMAIL_ADDRESS"}
    aws = by_type["AWS_ACCESS_KEY"]
    assert (aws["count"], aws["data_class"], aws["reason"]) == (2, "secret", "AWS access key")
    assert aws["hashes"] == [keyed_hash(KEY_A, AWS)]
    assert aws["score"] == 0.95
    email = by_type["EMAIL_ADDRESS"]
    assert email["count"] == 3 and len(email["hashes"]) == 2
    serialized = json.dumps(summary)
    for value in (AWS, "jane@acme.io", "bob@acme.io", "jane", "acme"):
        assert value not in serialized


def test_summary_fits_the_event_contract(engine):
    import jsonschema

    text = f"{AWS} jane@acme.io card 4111 1111 1111 1111"
    summary = summarize(engine.scan(text), text, KEY_A)
    finding_schema = {"$ref": "#/$defs/finding", "$defs": contract.load("events.v1.json")["$defs"]}
    assert [item["data_class"] for item in summary] == ["secret", "pii", "payment"]
    for item in summary:
        jsonschema.validate(item, finding_schema)


def test_hashes_capped_at_fifty():
    text = " ".join(f"user{i}@acme.io" for i in range(80))
    findings, pos = [], 0
    for i in range(80):
        value = f"user{i}@acme.io"
        start = text.index(value, pos)
        findings.append(Finding("EMAIL_ADDRESS", start, start + len(value), 1.0, "pii", "Email address"))
        pos = start + len(value)
    [item] = summarize(findings, text, KEY_A)
    assert item["count"] == 80
    assert len(item["hashes"]) == MAX_HASHES == 50
    assert len(set(item["hashes"])) == 50
