"""Recall and precision floors per data class on the labelled corpus (real engine, real
model). The floors sit a little below what the engine measured when they were set
(see docs/detectors.md); a change that costs accuracy fails here."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from scoring import CORPUS, ORG_CONFIG, load_corpus, missed, score

from shadowmap.detectors.engine import DetectorSettings, ScanEngine

# data class -> (precision floor, recall floor); measured 2026-11-26 on the 940-item
# corpus: pii 0.994/0.988, payment 0.989/1.0, secret 1.0/0.996, production 1.0/1.0. The
# issue's own bar for secrets is recall >= 0.95 with precision >= 0.9.
FLOORS = {
    "pii": (0.98, 0.97),
    "payment": (0.95, 0.97),
    "secret": (0.97, 0.97),
    "production": (0.97, 0.97),
}


@pytest.fixture(scope="module")
def items() -> list[dict]:
    return load_corpus()


@pytest.fixture(scope="module")
def predictions(items):
    engine = ScanEngine(DetectorSettings(org_config=str(ORG_CONFIG)))
    return [[(f.start, f.end, f.data_class, f.entity_type) for f in engine.scan(i["text"])] for i in items]


def test_corpus_shape(items):
    assert 300 <= len(items) <= 2000  # two cases per secret format the recognizers know, and the prose kinds
    assert len({i["id"] for i in items}) == len(items)
    negatives = sum(1 for i in items if not i["spans"])
    assert negatives >= 0.4 * len(items)
    for item in items:
        for span in item["spans"]:
            assert 0 <= span["start"] < span["end"] <= len(item["text"])
            assert span["data_class"] in FLOORS


@pytest.mark.parametrize("data_class", sorted(FLOORS))
def test_floors(items, predictions, data_class):
    result = score(items, predictions)[data_class]
    precision_floor, recall_floor = FLOORS[data_class]
    assert result.labels >= 20
    assert result.recall >= recall_floor, missed(items, predictions, data_class)[:20]
    assert result.precision >= precision_floor, (result.true_pos, result.false_pos)


def test_every_secret_type_and_the_new_pii_appear(items):
    from shadowmap.detectors.recognizers import secret_recognizer_classes

    counts: dict[str, int] = {}
    for item in items:
        for span in item["spans"]:
            counts[span["entity_type"]] = counts.get(span["entity_type"], 0) + 1
    from shadowmap.detectors.recognizers.secrets.formats import FormatRecognizer

    # The vendor formats declared as data are covered type by type by
    # tests/detectors/secrets/test_formats.py and gitleaks' cases in bench/eval/; the config
    # credentials below by test_config_credentials.py and bench/eval/pastes.py. They came
    # after this corpus was generated and are not in it yet.
    not_in_corpus_yet = {"CURL_USER_PASSWORD", "HTTP_AUTH_HEADER", "KUBERNETES_SECRET_DATA", "KUBECONFIG_CREDENTIAL",
                         "BASE64_PRIVATE_KEY", "NETRC_PASSWORD", "DOCKER_CONFIG_AUTH", "ANSIBLE_PASSWORD"}
    secret_types = {c.entity_type for c in secret_recognizer_classes() if c.data_class == "secret"
                    and not issubclass(c, FormatRecognizer) and c.entity_type not in not_in_corpus_yet}
    assert {t for t in secret_types if counts.get(t, 0) < 2} == set()
    assert counts["STREET_ADDRESS"] >= 20 and counts["DATE_OF_BIRTH"] >= 40
    assert sum(1 for i in items if i["kind"] == "intl_contact") >= 20


def test_negatives_are_mostly_silent(items, predictions):
    noisy = [i["id"] for i, p in zip(items, predictions, strict=True) if not i["spans"] and p]
    assert len(noisy) <= 0.03 * sum(1 for i in items if not i["spans"]), noisy


def test_corpus_is_what_the_script_makes(tmp_path):
    # The committed data is reproducible from the seeded generator.
    script = Path(__file__).with_name("make_corpus.py")
    code = (f"import runpy, sys; sys.argv=['x']; g = runpy.run_path({str(script)!r}, run_name='corpus');"
            f"import pathlib; g['OUT'] = pathlib.Path({str(tmp_path / 'c.jsonl')!r}); "
            "g['main'].__globals__['OUT'] = g['OUT']; g['main']()")
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, timeout=120)
    assert (tmp_path / "c.jsonl").read_bytes() == CORPUS.read_bytes()
    assert all(json.loads(line)["id"] for line in CORPUS.read_text().splitlines())
