"""`shadowmap package`: option checks and the artifacts it writes (macOS and Windows here;
the .deb is built in test_deb.py)."""
from __future__ import annotations

import plistlib
import stat

import pytest
from click.testing import CliRunner

from shadowmap.cli import main
from shadowmap.mdm.spec import SpecError, make_spec


@pytest.mark.parametrize("kwargs, message", [
    ({"collector_url": "ftp://c.example"}, "http(s) URL"),
    ({"collector_url": "https://c.example/$(reboot)"}, "not allowed"),
    ({"enroll_secret": "short"}, "8-512 characters"),
    ({"enroll_secret": "has space in it"}, "8-512 characters"),
    ({"enroll_secret": "quote\"inside-secret"}, "8-512 characters"),
    ({"extension_id": "nldlllnfaifhanllgflnbpocnceommpz"}, "Chromium extension id"),
    ({"firefox_extension_id": "no-at-sign"}, "Firefox add-on id"),
    ({"version": "1.2"}, "MAJOR.MINOR.PATCH"),
])
def test_spec_refuses_unsafe_values(kwargs, message):
    args = {"collector_url": "https://c.example", "enroll_secret": "good-secret-123", **kwargs}
    with pytest.raises(SpecError, match=message.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        make_spec(**args)


def test_package_macos_writes_artifacts(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("good-secret-123\n")
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["package", "macos", "--collector-url", "https://c.example/",
                                       "--enroll-secret-file", str(secret), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    profile = plistlib.loads((out / "macos" / "shadowmap.mobileconfig").read_bytes())
    assert profile["PayloadContent"][0]["collector_url"] == "https://c.example"
    assert "wrote" in result.output


def test_package_reports_bad_input_clearly(tmp_path):
    runner = CliRunner()
    missing = runner.invoke(main, ["package", "linux", "--collector-url", "https://c.example",
                                   "--enroll-secret-file", str(tmp_path / "nope"), "--out", str(tmp_path / "o")])
    assert missing.exit_code == 1 and "cannot read the enroll secret file" in missing.output
    secret = tmp_path / "secret"
    secret.write_text("good-secret-123\n")
    no_payload = runner.invoke(main, ["package", "windows", "--collector-url", "https://c.example",
                                      "--enroll-secret-file", str(secret), "--out", str(tmp_path / "o")])
    assert no_payload.exit_code == 1 and "docs/deploy.md" in no_payload.output
