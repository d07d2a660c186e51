"""macOS: every generated plist and the .mobileconfig parse with plistlib and carry the keys
launchd, the browsers and the MDM need; scripts are valid sh. Only a Mac can run pkgbuild,
launchctl and the profile itself (docs/deploy.md says what to check there)."""
from __future__ import annotations

import json
import os
import plistlib
import re
import shutil
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from shadowmap.agent.config import load_config
from shadowmap.contract import host
from shadowmap.mdm import browsers, macos
from shadowmap.mdm.spec import HOST_NAME, make_spec


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("macos")
    spec = make_spec("https://collector.acme.example", "enroll-Secret_123",
                     firefox_install_url="https://addons.acme.example/shadowmap.xpi")
    macos.build(spec, out)
    return spec, out / "macos"


def test_launch_daemon(built):
    spec, work = built
    path = work / "payload" / macos.DAEMON_PLIST.lstrip("/")
    daemon = plistlib.loads(path.read_bytes())
    assert daemon["Label"] == macos.LABEL == path.stem
    assert daemon["KeepAlive"] is True and daemon["RunAtLoad"] is True
    assert daemon["ThrottleInterval"] >= 10
    assert daemon["ProgramArguments"][0] == f"{macos.VENV}/bin/shadowmap"
    assert daemon["ProgramArguments"][1:] == ["agent", "run"]
    assert daemon["StandardOutPath"].startswith("/var/log/shadowmap/")
    assert daemon["StandardErrorPath"].startswith("/var/log/shadowmap/")
    env = daemon["EnvironmentVariables"]
    assert env["SHADOWMAP_COLLECTOR_URL"] == spec.collector_url
    assert env["SHADOWMAP_ENROLL_SECRET_FILE"] == macos.SECRET_FILE
    assert env["SHADOWMAP_AGENT_MODE"] == "system"
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_payload_files(built):
    spec, work = built
    root = work / "payload"
    secret = root / macos.SECRET_FILE.lstrip("/")
    assert secret.read_text().strip() == spec.enroll_secret
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    launcher = root / macos.LAUNCHER.lstrip("/")
    assert stat.S_IMODE(launcher.stat().st_mode) == 0o755
    assert f"SHADOWMAP_AGENT_SOCKET={macos.SOCKET}" in launcher.read_text()
    for browser, folder in browsers.HOST_MANIFEST_DIRS["macos"].items():
        manifest = json.loads((root / folder.lstrip("/") / f"{HOST_NAME}.json").read_text())
        assert manifest["path"] == macos.LAUNCHER and manifest["name"] == HOST_NAME
        family = "firefox" if browser == "firefox" else "chromium"
        assert browsers.validate_host_manifest(manifest, family, "macos") == []
        if browser == "firefox":
            assert manifest["allowed_extensions"] == [spec.firefox_extension_id]
        else:
            assert manifest["allowed_origins"] == [spec.chrome_origin]


def test_scripts_are_valid_sh(built):
    _spec, work = built
    for script in (work / "scripts" / "preinstall", work / "scripts" / "postinstall", work / "build-pkg.sh"):
        assert stat.S_IMODE(script.stat().st_mode) == 0o755
        done = subprocess.run(["sh", "-n", str(script)], capture_output=True, text=True, timeout=30)
        assert done.returncode == 0, done.stderr
    postinstall = (work / "scripts" / "postinstall").read_text()
    assert "retry 5 launchctl bootstrap system" in postinstall
    assert "/var/log/shadowmap" in postinstall


def test_the_root_daemon_runs_nothing_a_user_could_replace(built):
    """Homebrew makes folders under /usr/local its user's: the daemon's code lives elsewhere,
    and postinstall refuses to start it under a folder anyone but root may write."""
    _spec, work = built
    daemon = plistlib.loads((work / "payload" / macos.DAEMON_PLIST.lstrip("/")).read_bytes())
    executables = [daemon["ProgramArguments"][0], macos.LAUNCHER, macos.VENV]
    assert not any(path.startswith("/usr/local/") for path in executables), executables
    assert all(path.startswith(macos.PREFIX + "/") and " " not in path for path in executables)
    for script in (work / "scripts" / "postinstall", work / "build-pkg.sh"):
        text = script.read_text()
        assert "@PREFIX@" not in text and "/usr/local" not in text and f"PREFIX={macos.PREFIX}" in text
    postinstall = (work / "scripts" / "postinstall").read_text()
    assert "refusing to start" in postinstall and "stat -f '%u'" in postinstall


def payloads(profile: dict) -> dict[str, dict]:
    return {p["PayloadType"]: p for p in profile["PayloadContent"]}


def test_mobileconfig_structure(built):
    _spec, work = built
    path = work / "shadowmap.mobileconfig"
    profile = plistlib.loads(path.read_bytes())
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert profile["PayloadType"] == "Configuration" and profile["PayloadScope"] == "System"
    uuids = [profile["PayloadUUID"]] + [p["PayloadUUID"] for p in profile["PayloadContent"]]
    identifiers = [p["PayloadIdentifier"] for p in profile["PayloadContent"]]
    assert len(set(uuids)) == len(uuids) and len(set(identifiers)) == len(identifiers)
    for item in profile["PayloadContent"]:
        for key in ("PayloadType", "PayloadVersion", "PayloadIdentifier", "PayloadUUID", "PayloadDisplayName"):
            assert key in item, (item.get("PayloadType"), key)


def test_mobileconfig_browser_policies(built, tmp_path):
    spec, work = built
    found = payloads(plistlib.loads((work / "shadowmap.mobileconfig").read_bytes()))
    meta = {"PayloadType", "PayloadVersion", "PayloadIdentifier", "PayloadUUID", "PayloadDisplayName"}
    for browser in ("chrome", "edge", "brave"):
        policy = {k: v for k, v in found[browsers.MACOS_POLICY_DOMAINS[browser]].items() if k not in meta}
        assert browsers.validate_chromium_policy(policy, browser) == []
        assert policy["ExtensionInstallForcelist"] == [f"{spec.extension_id};{spec.extension_update_url}"]
        assert policy["NativeMessagingAllowlist"] == [HOST_NAME]
    firefox = {k: v for k, v in found["org.mozilla.firefox"].items() if k not in meta}
    assert firefox.pop("EnterprisePoliciesEnabled") is True
    assert browsers.validate_firefox_policy(firefox) == []
    assert firefox["ExtensionSettings"][spec.firefox_extension_id]["installation_mode"] == "force_installed"
    assert browsers.MACOS_POLICY_DOMAINS["brave"] == "com.brave.Browser"
    for domain in (f"com.google.Chrome.extensions.{spec.extension_id}",
                   f"com.microsoft.Edge.extensions.{spec.extension_id}",
                   f"com.brave.Browser.extensions.{spec.extension_id}"):
        storage = {k: v for k, v in found[domain].items() if k not in meta}
        assert storage == browsers.managed_storage(spec)
    # the agent's own reader takes the settings payload as the managed file it lands in
    settings = {k: v for k, v in found[macos.MANAGED_DOMAIN].items() if k not in meta}
    managed = tmp_path / f"{macos.MANAGED_DOMAIN}.plist"
    managed.write_bytes(plistlib.dumps(settings))
    config = load_config(env={host.AGENT_CONFIG_ENV: str(managed)}, mode="system", platform="darwin")
    assert config.collector_url == spec.collector_url
    assert str(config.enroll_secret_file) == macos.SECRET_FILE


def test_mobileconfig_pppc(built):
    _spec, work = built
    pppc = payloads(plistlib.loads((work / "shadowmap.mobileconfig").read_bytes()))[
        "com.apple.TCC.configuration-profile-policy"]
    (entry,) = pppc["Services"]["SystemPolicyAllFiles"]
    assert entry["IdentifierType"] == "path" and entry["Identifier"].startswith("/")
    assert entry["Allowed"] is True
    assert entry["CodeRequirement"].startswith('identifier "')


@pytest.mark.parametrize("doc, problem", [
    ({"ExtensionInstallForcelist": ["abc;http://x"]}, "forcelist entry"),
    ({"NativeMessagingAllowList": ["x"]}, "not a documented policy"),
    ({"ExtensionSettings": {"a" * 32: {"installation_mode": "forced"}}}, "installation_mode"),
    ({"ExtensionSettings": {"a" * 32: {"installation_mode": "force_installed"}}}, "without update_url"),
    ({"ExtensionSettings": {"a" * 32: {"update_uri": "https://x"}}}, "undocumented keys"),
    ({"NativeMessagingUserLevelHosts": "false"}, "must be a bool"),
])
def test_chromium_validator_catches_near_misses(doc, problem):
    assert any(problem in p for p in browsers.validate_chromium_policy(doc))


@pytest.mark.parametrize("doc, problem", [
    ({"ExtensionSettings": {"x@y": {"installation_mode": "force_installed"}}}, "without install_url"),
    ({"ExtensionSettings": {"x@y": {"installation_mode": "allowed", "update_url": "https://x"}}}, "undocumented"),
    ({"Extensions3rdparty": {}}, "not a documented policy"),
])
def test_firefox_validator_catches_near_misses(doc, problem):
    assert any(problem in p for p in browsers.validate_firefox_policy(doc))


@pytest.mark.parametrize("doc, family, problem", [
    ({"name": "com.shadowmap.bridge", "description": "d", "path": "relative/host", "type": "stdio",
      "allowed_origins": ["chrome-extension://abc/"]}, "chromium", "absolute"),
    ({"name": "Com.Shadowmap", "description": "d", "path": "/x", "type": "stdio",
      "allowed_origins": ["chrome-extension://abc/"]}, "chromium", "lowercase"),
    ({"name": "com.shadowmap.bridge", "description": "d", "path": "/x", "type": "stdio",
      "allowed_origins": ["abc"]}, "chromium", "chrome-extension://"),
    ({"name": "com.shadowmap.bridge", "description": "d", "path": "/x", "type": "stdio",
      "allowed_origins": ["x@y"]}, "firefox", "keys"),
])
def test_host_manifest_validator_catches_near_misses(doc, family, problem):
    assert any(problem in p for p in browsers.validate_host_manifest(doc, family, "macos"))


def test_managed_storage_matches_the_extensions_schema():
    """Chrome drops managed values its extension's managed_schema does not declare."""
    spec = make_spec("https://collector.acme.example", "enroll-Secret_123")
    schema_path = Path(browsers.__file__).resolve().parents[2] / "extension_bridge" / "extension" / "managed_schema.json"
    schema = json.loads(schema_path.read_text())
    storage = browsers.managed_storage(spec)
    assert set(storage) <= set(schema["properties"])
    jsonschema.validate(storage, schema)


def retirements(db: Path, device_id: str) -> list[dict]:
    with sqlite3.connect(db) as conn:
        return [json.loads(body)["data"] for (body,) in conn.execute(
            "SELECT body FROM events WHERE type = 'agent.retiring' AND device_id = ?", (device_id,))]


def test_the_uninstall_script_retires_the_agent_then_removes_everything(collector, tmp_path):
    """uninstall.sh run for real with sh, on the payload laid out under a fake root: every
    absolute path of the script moved under it, the macOS-only launchctl and pkgutil replaced
    by stand-ins that log their arguments, the agent's shadowmap command the real one. The
    real collector receives agent.retiring (reason uninstall), launchd is told to drop the
    daemon, nothing of the payload is left and the pkg's receipt is forgotten."""
    spec = make_spec(collector["url"], collector["secret"])
    macos.build(spec, tmp_path / "out")
    work = tmp_path / "out" / "macos"
    script = (work / "uninstall.sh").read_text()
    assert script == (work / "payload" / macos.UNINSTALLER.lstrip("/")).read_text()
    assert stat.S_IMODE((work / "uninstall.sh").stat().st_mode) == 0o755
    assert subprocess.run(["sh", "-n", str(work / "uninstall.sh")], timeout=30).returncode == 0
    # the collector is told before the daemon and the files go
    assert script.index("agent retire --reason uninstall") < script.index("launchctl bootout") \
        < script.index('rm -rf "$PREFIX"')

    root = tmp_path / "root"
    shutil.copytree(work / "payload", root, symlinks=True)
    venv_bin = root / macos.VENV.lstrip("/") / "bin"
    venv_bin.mkdir(parents=True)
    (venv_bin / "shadowmap").symlink_to(Path(sys.executable).parent / "shadowmap")
    state = root / macos.STATE_DIR.lstrip("/")
    enrolled = subprocess.run([str(venv_bin / "shadowmap"), "agent", "enroll", "--collector", spec.collector_url,
                               "--secret-file", str(root / macos.SECRET_FILE.lstrip("/")), "--state-dir", str(state)],
                              capture_output=True, text=True, timeout=60, env={**os.environ, "SHADOWMAP_AGENT_CONFIG": ""})
    assert enrolled.returncode == 0, enrolled.stderr
    device_id = json.loads((state / "enrollment.json").read_text())["device_id"]
    (root / "var" / "log" / "shadowmap").mkdir(parents=True)
    (root / "var" / "log" / "shadowmap" / "agent.log").write_text("old log\n")

    stand_ins = tmp_path / "stand-ins"
    stand_ins.mkdir()
    calls = tmp_path / "calls.log"
    for tool in ("launchctl", "pkgutil"):
        (stand_ins / tool).write_text(f'#!/bin/sh\necho "{tool} $*" >> "{calls}"\n')
        (stand_ins / tool).chmod(0o755)
    moved = re.sub(r'(?<=[="\s])/(Library|var/log)/', f"{root}/\\1/", script)
    assert re.findall(r'(?:^|[="\s])/(?:Library|var/log)/', moved) == []    # every path is under the root
    (tmp_path / "uninstall.sh").write_text(moved)
    done = subprocess.run(["sh", str(tmp_path / "uninstall.sh")], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PATH": f"{stand_ins}:{os.environ['PATH']}", "SHADOWMAP_AGENT_CONFIG": ""})
    assert done.returncode == 0, done.stderr
    assert "the collector knows this device is retiring (uninstall)" in done.stdout

    assert retirements(collector["db"], device_id) == [{"reason": "uninstall"}]
    assert calls.read_text().splitlines() == [f"launchctl bootout system/{macos.LABEL}",
                                              f"pkgutil --forget {macos.LABEL}"]
    left = sorted(str(p.relative_to(root)) for p in root.rglob("*") if not p.is_dir())
    assert left == [], f"left after the uninstall: {left}"
