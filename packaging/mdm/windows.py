"""`shadowmap package windows`: a WiX source for a per-machine MSI, built with wixl.

The MSI installs the agent payload into Program Files\\shadowmap (users may read and run,
never write), registers the ShadowmapAgent service (automatic, restarted on failure),
writes the enroll secret to ProgramData\\shadowmap (SYSTEM and Administrators only), and
sets the registry keys that register the native-messaging host and the browser policies
for Chrome, Chromium, Edge and Firefox. COLLECTORURL and ENROLLSECRET are public MSI
properties: `msiexec /i shadowmap-agent.msi COLLECTORURL=... ENROLLSECRET=...` overrides the
values built in.

The payload is `python\\`: CPython 3.11 for Windows (the embeddable distribution) with the
agent, its pinned packages and pywin32 in Lib\\site-packages, and pywin32's service host
pythonservice.exe beside python.exe. It is built on Windows by
packaging/mdm/templates/windows/build-payload.ps1 (docs/deploy.md); `build` refuses a payload that
lacks the service host or any package of the Windows lock (windows_payload.py). The
service takes no arguments: pythonservice.exe loads PYTHON_CLASS (agent/winservice.py),
and the agent reads its settings from the managed-configuration key the MSI writes
(HKLM\\SOFTWARE\\Policies\\shadowmap\\Agent, agent/managed.py).

wixl (Debian's msitools) has no ServiceConfig or LockPermissions support, so failure
actions, ACLs and the service's PythonClass value are set by deferred custom actions
running the Windows tools sc.exe, icacls.exe and reg.exe as LocalSystem. A planned
uninstall (not a major upgrade's removal of the old version) first runs the installed
agent's `shadowmap agent retire`, as the .deb's prerm does, so the collector expects the
device's silence.
"""
from __future__ import annotations

import json
import os
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path

from shadowmap.contract import host
from shadowmap.mdm import browsers, payload, windows_payload
from shadowmap.mdm.spec import HOST_NAME, PackageSpec

SERVICE_NAME = host.WINDOWS_SERVICE_NAME
PUBLIC_PROPERTIES = ("COLLECTORURL", "ENROLLSECRET")
# pywin32's service host, copied beside python.exe so it finds python311.dll
SERVICE_EXE = "python/pythonservice.exe"
# the class pythonservice.exe runs, read from Services\<name>\PythonClass (agent/winservice.py)
PYTHON_CLASS = "shadowmap.agent.winservice.ShadowmapService"
REQUIRED_PAYLOAD = (SERVICE_EXE, "python/python.exe", "python/pywintypes311.dll",
                    f"{windows_payload.SITE_PACKAGES}/shadowmap/agent/winservice.py")
UPGRADE_CODE = "{6F1E1C39-4D0B-4C59-9B8A-5A3C7E2D9B41}"   # never changes: upgrades replace in place
GUID_NAMESPACE = uuid.UUID("9a3c1f53-2b1e-4b8e-a0c1-5d7e3f0b6a21")
WIX_NS = "http://schemas.microsoft.com/wix/2006/wi"
# well-known SIDs, so the ACLs do not depend on the display language
SID_SYSTEM, SID_ADMINS, SID_USERS = "*S-1-5-18", "*S-1-5-32-544", "*S-1-5-32-545"
HOST_FILES = {"chromium": f"{HOST_NAME}.chromium.json", "firefox": f"{HOST_NAME}.firefox.json"}
LAUNCHER = f"bin/{host.LAUNCHER_NAME}.bat"
# the agent's managed configuration (agent/managed.py reads this key on Windows)
AGENT_POLICY_KEY = host.AGENT_POLICY_KEY
AGENT_SETTINGS = {"mode": "system", "collector_url": "[COLLECTORURL]", "state_dir": "[DATAFOLDER]state",
                  "enroll_secret_file": "[DATAFOLDER]enroll_secret"}

ET.register_namespace("", WIX_NS)


def _el(parent: ET.Element | None, tag: str, **attrs: str) -> ET.Element:
    attrs = {k.rstrip("_"): v for k, v in attrs.items()}
    if parent is None:
        return ET.Element(f"{{{WIX_NS}}}{tag}", attrs)
    return ET.SubElement(parent, f"{{{WIX_NS}}}{tag}", attrs)


def _guid(name: str) -> str:
    return "{" + str(uuid.uuid5(GUID_NAMESPACE, name)).upper() + "}"


def _id(prefix: str, name: str) -> str:
    # MSI identifiers: letters, digits, underscores, dots; at most 72 characters
    return f"{prefix}_{uuid.uuid5(GUID_NAMESPACE, name).hex[:24]}"


def launcher_bat() -> str:
    # Chrome and Firefox run .bat hosts through cmd.exe; -I keeps the user's environment out
    return "\r\n".join(["@echo off", '"%~dp0..\\python\\python.exe" -I -m shadowmap.bridge.host %*', ""])


def generated_files(spec: PackageSpec, files_dir: Path) -> None:
    """Files that do not depend on Windows binaries: host manifests and the host launcher."""
    # the manifest's path may be relative to the manifest on Windows: keep it relative
    relative = "..\\" + LAUNCHER.replace("/", "\\")
    for family, name in HOST_FILES.items():
        manifest = browsers.host_manifest(family, spec, relative)
        (files_dir / "hosts").mkdir(parents=True, exist_ok=True)
        (files_dir / "hosts" / name).write_text(json.dumps(manifest, indent=2) + "\n", "utf-8")
    (files_dir / "bin").mkdir(parents=True, exist_ok=True)
    (files_dir / LAUNCHER).write_bytes(launcher_bat().encode("ascii"))


def _storage_rows(key: str, spec: PackageSpec) -> list[tuple[str, str, str, str]]:
    """The extension's managed storage as registry values: booleans and numbers as DWORDs."""
    rows = []
    for name, value in browsers.managed_storage(spec).items():
        if isinstance(value, (bool, int)):
            rows.append((key, name, "integer", str(int(value))))
        else:
            rows.append((key, name, "string", str(value)))
    return rows


def registry_values(spec: PackageSpec) -> list[tuple[str, str, str, str]]:
    """(key under HKLM, value name or "" for the default value, type, value) rows."""
    rows: list[tuple[str, str, str, str]] = []
    for browser, key in browsers.WINDOWS_HOST_REGISTRY_KEYS.items():
        family = "firefox" if browser == "firefox" else "chromium"
        rows.append((f"{key}\\{HOST_NAME}", "", "string", f"[INSTALLFOLDER]hosts\\{HOST_FILES[family]}"))
    policy = browsers.chromium_policy(spec)
    for browser in browsers.CHROMIUM_FAMILY:
        root = browsers.WINDOWS_POLICY_KEYS[browser]
        for name, value in policy.items():
            if isinstance(value, list):          # list policies: a subkey of "1", "2", ... values
                rows += [(f"{root}\\{name}", str(i), "string", item) for i, item in enumerate(value, 1)]
            elif isinstance(value, bool):
                rows.append((root, name, "integer", "1" if value else "0"))
            else:                                # dictionary policies: one JSON string
                rows.append((root, name, "string", json.dumps(value, separators=(",", ":"))))
        rows += _storage_rows(f"{root}\\3rdparty\\extensions\\{spec.extension_id}\\policy", spec)
    firefox = browsers.firefox_policy(spec)
    fx_root = browsers.WINDOWS_POLICY_KEYS["firefox"]
    rows.append((fx_root, "ExtensionSettings", "string",
                 json.dumps(firefox["ExtensionSettings"], separators=(",", ":"))))
    rows += _storage_rows(f"{fx_root}\\3rdparty\\Extensions\\{spec.firefox_extension_id}", spec)
    rows += [(AGENT_POLICY_KEY, name, "string", value) for name, value in AGENT_SETTINGS.items()]
    # what an Intune registry detection rule looks for
    rows.append(("Software\\shadowmap\\Agent", "CollectorUrl", "string", "[COLLECTORURL]"))
    return rows


# Windows tools the custom actions run, each found through a property set at install time
TOOLS = {"ICACLS": "icacls.exe", "CMD": "cmd.exe", "SC": "sc.exe", "REG": "reg.exe"}
# the installed agent's own interpreter, for the uninstall's retire step
AGENT_PYTHON = ("AGENTPYTHON", "[INSTALLFOLDER]python\\python.exe")
# a planned removal, not the old product's removal inside a major upgrade
UNINSTALLING = 'REMOVE~="ALL" AND NOT UPGRADINGPRODUCTCODE'
# actions whose failure must not fail the install or removal (Return="ignore")
NEVER_FAIL = {"RetireAgent"}


# Standard action sequence numbers: InstallInitialize 1500, StopServices 1900, DeleteServices
# 2000, RemoveRegistryValues 2600, RemoveFiles 3500, InstallFiles 4000, InstallServices 5800,
# StartServices 5900, InstallFinalize 6600. Deferred actions must sit
# between InstallInitialize and InstallFinalize; ours are numbered explicitly because
# wixl's After= places them after InstallFinalize.
def custom_actions() -> list[tuple[str, str, str, str, str]]:
    """(id, tool property, arguments, sequence, condition); deferred, as LocalSystem."""
    grant_admin = f"{SID_SYSTEM}:(OI)(CI)F {SID_ADMINS}:(OI)(CI)F"
    installing = 'NOT REMOVE~="ALL"'
    return [
        ("LockInstallFolder", "ICACLS",
         f'"[INSTALLFOLDER]." /inheritance:r /grant:r {grant_admin} {SID_USERS}:(OI)(CI)RX /T /Q',
         "4001", installing),
        # the folder is locked before the secret is written, so the file is born with the
        # folder's SYSTEM/Administrators-only ACL (written first, it was readable by Users
        # through ProgramData's inherited ACL until the lock ran)
        ("LockDataFolder", "ICACLS", f'"[DATAFOLDER]." /inheritance:r /grant:r {grant_admin} /T /Q',
         "4002", installing),
        # ENROLLSECRET is a hidden property: Windows Installer masks it in logs
        ("WriteEnrollSecret", "CMD", '/d /c (echo [ENROLLSECRET])> "[DATAFOLDER]enroll_secret"',
         "4003", installing),
        ("ServiceRecovery", "SC",
         f"failure {SERVICE_NAME} reset= 86400 actions= restart/5000/restart/10000/restart/60000",
         "5801", installing),
        # pythonservice.exe finds its class here; the key exists only once InstallServices ran
        ("ServicePythonClass", "REG",
         f'add "HKLM\\SYSTEM\\CurrentControlSet\\Services\\{SERVICE_NAME}\\PythonClass" /ve /t REG_SZ '
         f'/d "{PYTHON_CLASS}" /f /reg:64',
         "5802", installing),
        # a planned uninstall tells the collector first, while the agent's files, state and
        # managed settings are all still there (as the .deb's prerm does); never fails it
        ("RetireAgent", AGENT_PYTHON[0],
         '-I -m shadowmap.cli agent retire --reason uninstall --state-dir "[DATAFOLDER]state"',
         "1510", UNINSTALLING),
    ]


def wix_source(spec: PackageSpec, payload_dir: Path, files_dir: Path, wxs_dir: Path) -> ET.ElementTree:
    """The WiX document; File sources are relative to wxs_dir (wixl wants relative paths)."""
    root = _el(None, "Wix")
    product = _el(root, "Product", Id="*", Name="shadowmap agent", Language="1033", Version=spec.version,
                  Manufacturer="shadowmap", UpgradeCode=UPGRADE_CODE)
    _el(product, "Package", InstallerVersion="500", Compressed="yes", InstallScope="perMachine",
        Description="shadowmap agent, native host and browser policies")
    _el(product, "MajorUpgrade", DowngradeErrorMessage="A newer shadowmap agent is already installed.")
    _el(product, "Media", Id="1", Cabinet="shadowmap.cab", EmbedCab="yes")
    _el(product, "Property", Id="COLLECTORURL", Value=spec.collector_url)
    _el(product, "Property", Id="ENROLLSECRET", Value=spec.enroll_secret)
    # what WiX's Hidden="yes" writes (wixl lacks it): the secret is masked in installer logs;
    # Secure="yes" is added after the build (secure_properties), wixl owns that property
    _el(product, "Property", Id="MsiHiddenProperties", Value="ENROLLSECRET")
    target = _el(product, "Directory", Id="TARGETDIR", Name="SourceDir")
    install = _el(_el(target, "Directory", Id="ProgramFiles64Folder"), "Directory", Id="INSTALLFOLDER",
                  Name="shadowmap")
    data = _el(_el(target, "Directory", Id="CommonAppDataFolder"), "Directory", Id="DATAFOLDER", Name="shadowmap")
    feature = _el(product, "Feature", Id="Agent", Title="shadowmap agent", Level="1")

    dirs: dict[str, ET.Element] = {"": install}

    def folder(rel: str) -> ET.Element:
        if rel not in dirs:
            parent_rel, _, name = rel.rpartition("/")
            dirs[rel] = _el(folder(parent_rel), "Directory", Id=_id("d", rel), Name=name)
        return dirs[rel]

    sources = [(p.relative_to(base).as_posix(), p) for base in (payload_dir, files_dir)
               for p in sorted(base.rglob("*")) if p.is_file()]
    for rel, source in sources:
        parent_rel = rel.rpartition("/")[0]
        component_id = _id("c", rel)
        comp = _el(folder(parent_rel), "Component", Id=component_id, Guid=_guid(rel), Win64="yes")
        _el(comp, "File", Id=_id("f", rel), Source=os.path.relpath(source, wxs_dir), KeyPath="yes")
        _el(feature, "ComponentRef", Id=component_id)
        if rel == SERVICE_EXE:
            _el(comp, "ServiceInstall", Id="AgentService", Name=SERVICE_NAME, DisplayName="shadowmap agent",
                Description="Checks pastes into AI tools and reports shadow AI to the collector",
                Type="ownProcess", Start="auto", ErrorControl="normal", Account="LocalSystem", Vital="yes")
            _el(comp, "ServiceControl", Id="AgentServiceControl", Name=SERVICE_NAME, Start="install",
                Stop="both", Remove="uninstall", Wait="yes")

    state = _el(data, "Component", Id="DataFolder", Guid=_guid("data-folder"), Win64="yes")
    _el(state, "CreateFolder")
    _el(state, "RemoveFolder", Id="RemoveDataFolder", On="uninstall")
    _el(feature, "ComponentRef", Id="DataFolder")

    reg = _el(install, "Component", Id="Registry", Guid=_guid("registry"), Win64="yes")
    for i, (key, name, kind, value) in enumerate(registry_values(spec)):
        attrs = {"Id": f"reg{i}", "Root": "HKLM", "Key": key, "Type": kind, "Value": value}
        if name:
            attrs["Name"] = name
        if i == 0:
            attrs["KeyPath"] = "yes"
        _el(reg, "RegistryValue", **attrs)
    _el(feature, "ComponentRef", Id="Registry")

    sequence = _el(product, "InstallExecuteSequence")
    for prop, exe in TOOLS.items():
        _el(product, "Property", Id=prop, Value=exe)
        _el(product, "CustomAction", Id=f"Set{prop}", Property=prop, Value=f"[System64Folder]{exe}")
        _el(sequence, "Custom", Action=f"Set{prop}", Before="InstallInitialize")
    prop, value = AGENT_PYTHON
    _el(product, "Property", Id=prop, Value="python.exe")
    _el(product, "CustomAction", Id=f"Set{prop}", Property=prop, Value=value)
    _el(sequence, "Custom", Action=f"Set{prop}", Before="InstallInitialize")
    for action_id, tool, arguments, number, condition in custom_actions():
        _el(product, "CustomAction", Id=action_id, Property=tool, ExeCommand=arguments,
            Execute="deferred", Impersonate="no", Return="ignore" if action_id in NEVER_FAIL else "check",
            HideTarget="yes")
        _el(sequence, "Custom", Action=action_id, Sequence=number).text = condition
    ET.indent(root)
    return ET.ElementTree(root)


def secure_properties(msi: Path) -> None:
    """Mark COLLECTORURL and ENROLLSECRET secure, so values given to msiexec reach the
    elevated (per-machine) install; appended to the list wixl wrote for MajorUpgrade."""
    current = payload.run(["msiinfo", "export", str(msi), "Property"], "msiinfo").stdout
    values = dict(line.split("\t", 1) for line in current.splitlines()[3:] if "\t" in line)
    names = [n for n in values.get("SecureCustomProperties", "").split(";") if n] + list(PUBLIC_PROPERTIES)
    query = (f"UPDATE `Property` SET `Value` = '{';'.join(names)}' "
             "WHERE `Property` = 'SecureCustomProperties'")
    if "SecureCustomProperties" not in values:
        query = f"INSERT INTO `Property` (`Property`, `Value`) VALUES ('SecureCustomProperties', '{';'.join(names)}')"
    payload.run(["msibuild", str(msi), "-q", query], "msibuild")


def build_kit(out_dir: Path, wheelhouse: Path | None = None) -> list[Path]:
    """What the Windows build machine needs to build the payload (build-payload.ps1 and
    its inputs), in out_dir/windows/kit; the wheels come from the cached wheelhouse."""
    wheels = windows_payload.fetch_wheelhouse(wheelhouse or windows_payload.DEFAULT_WHEELHOUSE)
    project = payload.build_project_wheel(out_dir / "windows" / "project-wheel")
    kit = out_dir / "windows" / "kit"
    windows_payload.write_kit(kit, wheels, project)
    return [kit]


def build(spec: PackageSpec, out_dir: Path, payload_dir: Path | None = None) -> list[Path]:
    """Write shadowmap-agent.wxs and build shadowmap-agent.msi with wixl (if a payload is given
    or already in out_dir/windows/payload); returns the written paths."""
    work = out_dir / "windows"
    payload_dir = Path(payload_dir or work / "payload")
    missing = [rel for rel in REQUIRED_PAYLOAD if not (payload_dir / rel).is_file()]
    missing += windows_payload.payload_problems(payload_dir) if not missing else []
    if missing:
        raise payload.BuildError(f"the Windows payload in {payload_dir} lacks {', '.join(missing)}; build it "
                                 "on Windows as docs/deploy.md (Windows) describes")
    files_dir = work / "generated"
    generated_files(spec, files_dir)
    wxs = work / "shadowmap-agent.wxs"
    wix_source(spec, payload_dir.resolve(), files_dir.resolve(), work.resolve()).write(
        wxs, encoding="utf-8", xml_declaration=True)
    msi = (out_dir / f"shadowmap-agent-{spec.version}-x64.msi").resolve()
    payload.run(["wixl", "--arch", "x64", "-o", str(msi), wxs.name], "wixl", cwd=work)
    secure_properties(msi)
    msi.chmod(0o600)
    return [wxs, msi]
