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


def test_severities_and_data_classes_are_the_contracts():
    from shadowmap.contract import enums
    from shadowmap.detectors import scan_result, severity

    assert set(severity.SEVERITIES) == set(enums.FINDING_SEVERITIES)
    assert severity.SEVERITIES == ("low", "medium", "high", "critical")    # --fail-on's order, rank = index
    assert set(severity.BY_DATA_CLASS) == set(enums.DATA_CLASSES)
    assert set(severity.BY_DATA_CLASS.values()) | set(severity.BY_ENTITY_TYPE.values()) <= set(enums.FINDING_SEVERITIES)
    named = {scan_result.TEXT_CAPPED, scan_result.NER_BUDGET, scan_result.PHONE_BUDGET, scan_result.TABLE_LINES}
    assert named == set(enums.SCAN_LIMITS)
