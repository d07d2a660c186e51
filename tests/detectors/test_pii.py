"""PII and payment data through the real Presidio recognizers and the real spaCy NER."""
import pytest


@pytest.mark.parametrize("text, entity_type, expected", [
    ("write to jane.doe@acme-corp.com today", "EMAIL_ADDRESS", ["jane.doe@acme-corp.com"]),
    ("ops+alerts@mail.example.co.uk", "EMAIL_ADDRESS", ["ops+alerts@mail.example.co.uk"]),
    ("user@localhost is not an address", "EMAIL_ADDRESS", []),       # no public suffix
    ("my number is 415-867-5309", "PHONE_NUMBER", ["415-867-5309"]),
    ("phone: +44 20 7946 0958", "PHONE_NUMBER", ["+44 20 7946 0958"]),
    ("build 2024.11.26 took 415 seconds", "PHONE_NUMBER", []),
    ("card 4111 1111 1111 1111 exp 12/29", "CREDIT_CARD", ["4111 1111 1111 1111"]),
    ("visa 4012888888881881", "CREDIT_CARD", ["4012888888881881"]),
    ("card 4111 1111 1111 1112 exp 12/29", "CREDIT_CARD", []),         # fails the Luhn check
    ("IBAN DE89 3704 0044 0532 0130 00", "IBAN_CODE", ["DE89 3704 0044 0532 0130 00"]),
    ("IBAN GB33BUKB20201555555556", "IBAN_CODE", []),                  # bad check digits
    ("ssn: 536-90-4399", "US_SSN", ["536-90-4399"]),
    ("server at 10.20.3.44 is down", "IP_ADDRESS", ["10.20.3.44"]),
    ("My name is Maria Garcia and I work in billing.", "PERSON", ["Maria Garcia"]),
])
def test_pii_table(spans, text, entity_type, expected):
    assert spans(text, entity_type) == expected


@pytest.mark.parametrize("entity_type, data_class", [
    ("EMAIL_ADDRESS", "pii"), ("CREDIT_CARD", "payment"), ("IBAN_CODE", "payment"),
])
def test_data_classes(engine, entity_type, data_class):
    assert engine.data_class_of(entity_type) == data_class


def test_spacy_labels_other_than_person_do_not_leak(engine):
    text = "Microsoft opened an office in Seattle on Monday with 300 people from Germany."
    assert {f.entity_type for f in engine.scan(text)} <= {"PERSON"}
    assert engine.scan(text) == []


def test_only_known_entity_types(engine):
    text = ("Sarah Johnson (email sarah@acme.io, phone 415-867-5309) paid with 4111111111111111 "
            "from 192.168.1.20 on 2024-05-01 in Paris for Acme Inc.")
    findings = engine.scan(text)
    assert {f.entity_type for f in findings} == {"PERSON", "EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "IP_ADDRESS"}
    assert all(f.entity_type in engine.entities for f in findings)
