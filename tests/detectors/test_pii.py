"""PII and payment data through the real Presidio recognizers and the real spaCy NER."""
import pytest


@pytest.mark.parametrize("text, entity_type, expected", [
    ("write to jane.doe@acme-corp.com today", "EMAIL_ADDRESS", ["jane.doe@acme-corp.com"]),
    ("jane.roe+alerts@mail.example.co.uk", "EMAIL_ADDRESS", ["jane.roe+alerts@mail.example.co.uk"]),
    ("user@localhost is not an address", "EMAIL_ADDRESS", []),       # no public suffix
    # a function's mailbox, not a person's; a test account
    ("alerts:\n  from: noreply@acme.io\n  to: ops+pager@acme.io", "EMAIL_ADDRESS", []),
    ("machine api.acme.io login no-reply@acme.io password hunter2", "EMAIL_ADDRESS", []),
    ("alegra: wdvn-usa87a-fxp9ioas/testUser.1005@example.com", "EMAIL_ADDRESS", []),
    ("From: Google Cloud <noreply-cloud@google.com>", "EMAIL_ADDRESS", []),
    ("write to opsana.berg@acme.io", "EMAIL_ADDRESS", ["opsana.berg@acme.io"]),        # a name starting like one
    # a URL's user info is a credential, not a mailbox
    ("https://username:abcdef0123456789abcdef0123456789abcdef01@api.github.ibm.com", "EMAIL_ADDRESS", []),
    ("git+https://abcdef0123456789abcdef01@github.somecompany.com", "EMAIL_ADDRESS", []),
    ("mailto:jane.roe@acme.io", "EMAIL_ADDRESS", ["jane.roe@acme.io"]),
    # a message's id and a path's last part are no mailbox; the addresses in the headers are
    ("To: Jonas Berg <jonas.berg@outlook.com>\nMessage-ID: <CAF3x9=k2@mail.gmail.com>\n"
     "References: <acme/api/check-suites/1234567@github.com>", "EMAIL_ADDRESS", ["jonas.berg@outlook.com"]),
    ("my number is 415-867-5309", "PHONE_NUMBER", ["415-867-5309"]),
    ("phone: +44 20 7946 0958", "PHONE_NUMBER", ["+44 20 7946 0958"]),
    ("build 2024.11.26 took 415 seconds", "PHONE_NUMBER", []),
    ("card 4111 1111 1111 1111 exp 12/29", "CREDIT_CARD", ["4111 1111 1111 1111"]),
    ("visa 4012888888881881", "CREDIT_CARD", ["4012888888881881"]),
    ("card 4111 1111 1111 1112 exp 12/29", "CREDIT_CARD", []),         # fails the Luhn check
    ("IBAN DE89 3704 0044 0532 0130 00", "IBAN_CODE", ["DE89 3704 0044 0532 0130 00"]),
    ("IBAN GB33BUKB20201555555556", "IBAN_CODE", []),                  # bad check digits
    ("ssn: 536-90-4399", "US_SSN", ["536-90-4399"]),
    ('private static final String ZYLOR_TOKEN = "x";', "PERSON", []),  # a type name in code
    ("server at 10.20.3.44 is down", "IP_ADDRESS", []),               # a private network's host
    ("visitor from 81.2.69.142 opened the link", "IP_ADDRESS", ["81.2.69.142"]),
    ("frontend LoadBalancer 10.96.3.17 <pending>, pod 172.17.0.4, lb 192.168.1.20", "IP_ADDRESS", []),
    ("the docs' example host 203.0.113.7 and fe80::1ff:fe23:4567:890a", "IP_ADDRESS", []),
    ("carrier-grade NAT 100.72.4.9 is a shared address, still public", "IP_ADDRESS", ["100.72.4.9"]),
    ("My name is Maria Garcia and I work in billing.", "PERSON", ["Maria Garcia"]),
    ("Hi, this is Maria Garcia, see https://docs.example.com/wiki/some/rather/long/page", "PERSON", ["Maria Garcia"]),
    ("call me on 07911 123456 tomorrow", "PHONE_NUMBER", ["07911 123456"]),
    ("(646) 258-3078", "PHONE_NUMBER", ["(646) 258-3078"]),          # formatted: no context needed
    ("ref 4158675309", "PHONE_NUMBER", []),                          # bare digits need context
    ("phone 4158675309", "PHONE_NUMBER", ["4158675309"]),
    ("00000010  23 42 74 33 10 46 44 01", "PHONE_NUMBER", []),       # hex dump bytes
    ("at 2024-05-19 10:42:07 took 415", "PHONE_NUMBER", []),
    ("NI number AB 12 34 56 C on file", "UK_NINO", ["AB 12 34 56 C"]),
    ("listen 0.0.0.0 and 127.0.0.1", "IP_ADDRESS", []),
    ("firmware 2.1.9.20 is out", "IP_ADDRESS", []),                  # a version, not an address
    ("netmask 255.255.255.0", "IP_ADDRESS", []),
    ("client 81.2.69.160 got 403", "IP_ADDRESS", ["81.2.69.160"]),
    # public resolvers and examples' placeholders are nobody's connection
    ("nameserver 8.8.8.8 and 1.1.1.1, peer 2001:4860:4860::8888", "IP_ADDRESS", []),
    ("postgres://u:p@1.2.3.4:5432 or 4.4.4.4", "IP_ADDRESS", []),
    ("client 1.2.3.44 got 403", "IP_ADDRESS", ["1.2.3.44"]),
    ("peer 2a02:c7f:8a4:e00::1f refused", "IP_ADDRESS", ["2a02:c7f:8a4:e00::1f"]),
    ("at 12:30:45 UTC, mac 00:1a:2b:3c:4d:5e", "IP_ADDRESS", []),
    ("mail jo.smith@acme-corp.co.uk now", "EMAIL_ADDRESS", ["jo.smith@acme-corp.co.uk"]),
    ("jo.@acme.com and a@b.notatld", "EMAIL_ADDRESS", []),
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
            "from 81.2.69.142 on 2024-05-01 in Paris for Acme Inc.")
    findings = engine.scan(text)
    assert {f.entity_type for f in findings} == {"PERSON", "EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "IP_ADDRESS"}
    assert all(f.entity_type in engine.entities for f in findings)


@pytest.mark.parametrize("text", [
    "In the 60s most teams shipped twice a year; by the late 90s monthly.",
    "2024-05-01T10:00:00Z INFO worker.queue job=a81f3c2e attempt=3 state=retrying backoff=12s",
    "kube.probe pod=api-7f9c8d6b5-xk2lp ready=true restarts=0",
    "requests==2.31.0 numpy==1.26.4 django==5.0.6",
    "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "object 123e4567-e89b-12d3-a456-426614174000 size 4096",
    "The public API is versioned; the license is MIT.",
])
def test_hard_negatives_have_no_pii(engine, text):
    assert [(f.entity_type, text[f.start:f.end]) for f in engine.scan(text)] == []


def test_ssn_and_nino_scanned_around_candidates_find_what_a_whole_scan_finds():
    # Presidio's patterns run only on word-bounded stretches around cheap candidates;
    # the answer must be the one its own whole-text scan gives, edges included.
    from presidio_analyzer.predefined_recognizers import UkNinoRecognizer, UsSsnRecognizer

    from shadowmap.detectors.recognizers.pii import WindowedUkNinoRecognizer, WindowedUsSsnRecognizer

    text = ("SSN 078-05-1120, x078-05-1120, 078 05 1120y, 123456789 and 12345-6789; "
            "NI AB 12 34 56 C, QQ123456C, xAB123456C, AB123456Cx, NI: AB 12 34 56 D.\n"
            "id_219-09-9999_tail, 219.09.9999, é219-09-9999, " + "a" * 300 + "219-09-9999 end")
    for windowed, stock in ((WindowedUsSsnRecognizer(), UsSsnRecognizer()), (WindowedUkNinoRecognizer(), UkNinoRecognizer())):
        entity = stock.supported_entities
        ours = sorted((r.start, r.end, r.score) for r in windowed.analyze(text, entity))
        theirs = sorted((r.start, r.end, r.score) for r in stock.analyze(text, entity))
        assert ours == theirs and ours


@pytest.mark.parametrize("text", [
    "error: You must be logged in to the server (Unauthorized)",
    "Error from server (Forbidden): pods is forbidden: User cannot list resource",
    "Status: Terminated\nReason: Evicted",
])
def test_a_status_word_alone_is_not_a_person(engine, text):
    assert [f for f in engine.scan(text) if f.entity_type == "PERSON"] == []


def test_a_name_next_to_a_status_word_is_still_a_person(spans):
    assert spans("Unauthorized access was reported by Margaret Okafor yesterday.", "PERSON") == ["Margaret Okafor"]
