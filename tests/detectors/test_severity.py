"""Every finding has a severity; summaries carry the highest one; the contract accepts it."""
import pytest

from shadowmap import contract
from shadowmap.detectors.hashing import summarize
from shadowmap.detectors.severity import SEVERITIES, at_least, severity_of

ORG_KEY = b"k" * 32


@pytest.mark.parametrize("text, entity_type, severity", [
    ("key AKIAZ3MVNQ5RFXKEXT4B", "AWS_ACCESS_KEY", "critical"),
    ("DATABASE_URL=postgres://svc:Pa55word@db.acme.com/app", "DB_CONNECTION_URL", "critical"),
    ("card 4111 1111 1111 1111", "CREDIT_CARD", "high"),
    ("ssn: 536-90-4399", "US_SSN", "high"),
    ("write to jane.doe@acme-corp.com", "EMAIL_ADDRESS", "medium"),
    ("see https://grafana.ops.corp/d/abc", "INTERNAL_URL", "medium"),
    ("My name is Maria Garcia and I work in billing.", "PERSON", "low"),
])
def test_finding_severity(engine, text, entity_type, severity):
    [finding] = [f for f in engine.scan(text) if f.entity_type == entity_type]
    assert finding.severity == severity


def test_every_entity_type_has_a_severity(engine):
    assert {engine.severity_of(e) for e in engine.entities} <= set(SEVERITIES)


def test_summary_carries_highest_severity_and_validates(engine):
    text = "Maria Garcia maria@acme-corp.com key AKIAZ3MVNQ5RFXKEXT4B"
    summary = summarize(engine.scan(text), text, ORG_KEY)
    assert {s["entity_type"]: s["severity"] for s in summary} == {
        "PERSON": "low", "EMAIL_ADDRESS": "medium", "AWS_ACCESS_KEY": "critical"}
    finding_schema = contract.load("events.v1.json")["$defs"]["finding"]
    import jsonschema
    for item in summary:
        jsonschema.validate(item, {**finding_schema, "$defs": contract.load("events.v1.json")["$defs"]})


def test_threshold_helpers():
    assert severity_of("SOMETHING_NEW", "secret") == "critical"
    assert at_least("critical", "high") and at_least("high", "high") and not at_least("medium", "high")
