"""The kit for the Windows build machine: what `shadowmap package windows --windows-kit`
writes, and the data build-payload.ps1 reads. The script itself runs only on Windows
(there is no PowerShell here); these checks hold it to the files and keys it uses."""
from __future__ import annotations

import json
import re

from click.testing import CliRunner

from shadowmap.cli import main
from shadowmap.mdm import payload, windows_payload

SCRIPT = windows_payload.BUILD_SCRIPT.read_text("utf-8")


def test_the_cpython_pin_is_complete_data():
    embed = json.loads(windows_payload.EMBED_PIN.read_text("utf-8"))
    assert re.fullmatch(r"[0-9a-f]{64}", embed["sha256"])
    assert embed["url"].startswith("https://www.python.org/ftp/python/") and embed["url"].endswith("/" + embed["file"])
    assert embed["file"] == f"python-{embed['version']}-embed-amd64.zip"
    # the same interpreter the wheels are chosen for (pip --python-version / --abi)
    major, minor, _patch = embed["version"].split(".")
    target = windows_payload.TARGET
    assert target[target.index("--python-version") + 1] == f"{major}.{minor}"
    assert target[target.index("--abi") + 1] == f"cp{major}{minor}" and embed["pth_file"] == f"python{major}{minor}._pth"
    assert "Lib\\site-packages" in embed["pth_lines"] and "import site" in embed["pth_lines"]
    for key in ("url", "file", "sha256", "pth_file", "pth_lines"):
        assert f"$embed.{key}" in SCRIPT, key                  # the script uses every pinned field


def test_the_script_verifies_the_hash_and_installs_by_hash_offline():
    assert "Get-FileHash" in SCRIPT and "-Algorithm SHA256" in SCRIPT and "throw" in SCRIPT
    for flag in ("--no-index", "--require-hashes", "--only-binary", "--target"):
        assert flag in SCRIPT, flag
    for name in (windows_payload.WINDOWS_LOCK.name, payload.MODEL_REQUIREMENTS.name, "python-embed.json"):
        assert name in SCRIPT, name
    assert "win32\\pythonservice.exe" in SCRIPT and "pywin32_system32" in SCRIPT


def test_package_windows_kit_writes_everything_the_script_reads(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("good-secret-123\n")
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["package", "windows", "--collector-url", "https://c.example",
                                       "--enroll-secret-file", str(secret), "--windows-kit", "--out", str(out)])
    assert result.exit_code == 0, result.output
    kit = out / "windows" / "kit"
    for source in (windows_payload.BUILD_SCRIPT, windows_payload.EMBED_PIN, windows_payload.WINDOWS_LOCK,
                   payload.MODEL_REQUIREMENTS):
        assert (kit / source.name).read_bytes() == source.read_bytes()
    wheels = {windows_payload._wheel_pin(p) for p in (kit / "wheels").glob("*.whl")}
    wanted = {**windows_payload.pins(windows_payload.WINDOWS_LOCK.read_text()),
              **windows_payload.pins(payload.MODEL_REQUIREMENTS.read_text())}
    assert set(wanted.items()) <= wheels
    assert [name for name, _v in wheels if name == "shadowmap"] == ["shadowmap"]     # exactly one project wheel
