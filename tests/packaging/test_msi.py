"""The Windows MSI: built for real with wixl, its tables read back with msiinfo.

The Windows payload (Python runtime, service host) can only be built on Windows; here it
is a folder with the layout docs/deploy.md gives, holding small files. What is checked
is what the MSI does with it: files, service, registry, properties, custom actions."""
from __future__ import annotations

import json
import subprocess
import xml.etree.ElementTree as ET

import pytest

from shadowmap.mdm import browsers, payload, windows
from shadowmap.mdm.spec import HOST_NAME, make_spec


def table(msi, name: str) -> list[dict]:
    """Rows of an MSI table as dicts (msiinfo export: header, types, key line, rows)."""
    text = subprocess.run(["msiinfo", "export", str(msi), name], capture_output=True, text=True,
                          check=True, timeout=60).stdout
    lines = text.split("\r\n") if "\r\n" in text else text.splitlines()
    columns = lines[0].split("\t")
    return [dict(zip(columns, line.split("\t"))) for line in lines[3:] if line]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    work = tmp_path_factory.mktemp("msi")
    layout = work / "payload"
    for rel in (windows.SERVICE_EXE, "python/python.exe", "python/Lib/site-packages/shadowmap/__init__.py"):
        (layout / rel).parent.mkdir(parents=True, exist_ok=True)
        (layout / rel).write_bytes(f"payload file {rel}\n".encode())
    spec = make_spec("https://collector.acme.example:8443", "enroll-Secret_123", version="1.2.3")
    wxs, msi = windows.build(spec, work / "out", layout)
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
    assert "--collector \"[COLLECTORURL]\"" in service["Arguments"]
    assert "--enroll-secret-file \"[DATAFOLDER]enroll_secret\"" in service["Arguments"]
    files = {row["File"]: row for row in table(msi, "File")}
    components = {row["Component"]: row for row in table(msi, "Component")}
    key_file = files[components[service["Component_"]]["KeyPath"]]
    assert key_file["FileName"].endswith("shadowmap-service.exe")
    (control,) = table(msi, "ServiceControl")
    # start on install (1), stop on install+uninstall (2|32), remove on uninstall (128)
    assert int(control["Event"]) == 1 | 2 | 32 | 128
    actions = {row["Action"]: row for row in table(msi, "CustomAction")}
    recovery = actions["ServiceRecovery"]
    assert recovery["Source"] == "SC" and "restart/5000" in recovery["Target"]
    assert int(recovery["Type"]) & 0x400 and int(recovery["Type"]) & 0x800      # deferred, as SYSTEM


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


def test_msi_carries_payload_and_host_manifests(built, tmp_path):
    spec, wxs, msi = built
    names = {row["FileName"].split("|")[-1] for row in table(msi, "File")}
    assert {"shadowmap-service.exe", "python.exe", f"{HOST_NAME}.chromium.json",
            f"{HOST_NAME}.firefox.json", "shadowmap-bridge-host.bat"} <= names
    manifest = json.loads((wxs.parent / "generated" / "hosts" / f"{HOST_NAME}.chromium.json").read_text())
    assert manifest["allowed_origins"] == [spec.chrome_origin]
    assert manifest["path"].endswith("shadowmap-bridge-host.bat")
    assert browsers.validate_host_manifest(manifest, "chromium", "windows") == []
    ET.parse(wxs)                                                 # the WiX source is well-formed
    streams = subprocess.run(["msiinfo", "streams", str(msi)], capture_output=True, text=True, timeout=60).stdout
    assert "shadowmap.cab" in streams


def test_missing_payload_is_a_clear_error(tmp_path):
    spec = make_spec("https://collector.acme.example", "enroll-Secret_123")
    with pytest.raises(payload.BuildError, match="docs/deploy.md"):
        windows.build(spec, tmp_path / "out", tmp_path / "empty")
