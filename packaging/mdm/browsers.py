"""Browser facts for machine-wide installs, as data, and the documents built from them.

Locations and policy keys are the ones the browsers document:
- Chrome native messaging: developer.chrome.com/docs/extensions/develop/concepts/native-messaging
  ("Native messaging host location"); Edge: learn.microsoft.com/microsoft-edge/extensions/
  developer-guide/native-messaging; Firefox: developer.mozilla.org/docs/Mozilla/Add-ons/
  WebExtensions/Native_manifests ("Manifest location").
- Chrome policies: chromeenterprise.google/policies (ExtensionInstallForcelist,
  ExtensionSettings, NativeMessagingAllowlist, ...); the same names for Edge
  (learn.microsoft.com/deployedge/microsoft-edge-policies); Firefox:
  mozilla.github.io/policy-templates (ExtensionSettings, 3rdparty).
- Brave: policies under Software\\Policies\\BraveSoftware\\Brave (Windows), /etc/brave/policies
  (Linux) and com.brave.Browser (macOS), as brave-core's policy-template configuration
  (writer_configuration.py) and support.brave.com/hc/en-us/articles/360039248271 give. Its
  native host is found where Chromium's is (extension_bridge/browsers.py says why), so the
  Chromium host manifest and registry key below serve Brave too.
The places themselves are declared once, in the contract (schema/host.v1.json).
"""
from __future__ import annotations

from shadowmap.contract import host
from shadowmap.contract.host import CHROMIUM_FAMILY, HOST_DESCRIPTION, HOST_NAME, MANAGED_STORAGE_DEFAULTS
from shadowmap.mdm.spec import PackageSpec

__all__ = ["CHROMIUM_FAMILY", "HOST_DESCRIPTION", "HOST_NAME", "MANAGED_STORAGE_DEFAULTS"]

POLICY_FILE_NAME = "shadowmap.json"


def _first_of_each(places: dict[str, str]) -> dict[str, str]:
    """browser -> place, keeping only the first browser of those that share a place (Brave
    reads Chromium's machine-wide folders and registry key: one file serves both)."""
    kept: dict[str, str] = {}
    for browser, place in places.items():
        if place not in kept.values():
            kept[browser] = place
    return kept


# The places are the contract's (schema/host.v1.json "browsers").
# OS -> browser -> system-wide folder for the native-messaging host manifest
HOST_MANIFEST_DIRS: dict[str, dict[str, str]] = {
    os_name: _first_of_each({browser: scopes["system"] for browser, scopes in by_browser.items()})
    for os_name, by_browser in host.MANIFEST_DIRS.items()
}
# Windows finds host manifests through the registry: HKLM\<key>\<host name> = manifest path
WINDOWS_HOST_REGISTRY_KEYS: dict[str, str] = _first_of_each(host.WINDOWS_HOST_KEYS)
# Linux: every *.json in these folders is read as mandatory policy
LINUX_POLICY_DIRS: dict[str, str] = host.LINUX_POLICY_DIRS
# Windows: HKLM policy roots
WINDOWS_POLICY_KEYS: dict[str, str] = host.WINDOWS_POLICY_KEYS
# macOS managed-preference domains (mobileconfig PayloadType)
MACOS_POLICY_DOMAINS: dict[str, str] = host.MACOS_POLICY_DOMAINS

# Documented Chromium-family policies we may set, with the JSON type of their value.
CHROMIUM_POLICY_KEYS: dict[str, type] = {
    "ExtensionInstallForcelist": list,
    "ExtensionInstallAllowlist": list,
    "ExtensionSettings": dict,
    "NativeMessagingAllowlist": list,
    "NativeMessagingBlocklist": list,
    "NativeMessagingUserLevelHosts": bool,
    "3rdparty": dict,            # extensions' managed storage, in JSON policy files (Linux)
}
# ExtensionSettings: documented per-extension keys and installation modes (Chrome and Edge)
CHROMIUM_EXTENSION_SETTING_KEYS = frozenset({
    "installation_mode", "update_url", "blocked_permissions", "minimum_version_required",
    "runtime_blocked_hosts", "runtime_allowed_hosts", "toolbar_pin", "blocked_install_message",
    "override_update_url", "file_url_navigation_allowed",
})
CHROMIUM_INSTALLATION_MODES = frozenset({"blocked", "allowed", "force_installed", "normal_installed", "removed"})
CHROMIUM_TOOLBAR_PIN = frozenset({"force_pinned", "default_unpinned"})

# Firefox enterprise policies (policies.json / org.mozilla.firefox / registry)
FIREFOX_POLICY_KEYS: dict[str, type] = {
    "ExtensionSettings": dict,
    "3rdparty": dict,
}
FIREFOX_EXTENSION_SETTING_KEYS = frozenset({
    "installation_mode", "install_url", "install_sources", "allowed_types", "blocked_install_message",
    "restricted_domains", "updates_disabled", "default_area", "private_browsing",
})
FIREFOX_INSTALLATION_MODES = frozenset({"allowed", "blocked", "force_installed", "normal_installed"})


def managed_storage(spec: PackageSpec) -> dict:
    return dict(MANAGED_STORAGE_DEFAULTS)


def chromium_host_manifest(spec: PackageSpec, launcher: str) -> dict:
    return {"name": HOST_NAME, "description": HOST_DESCRIPTION, "path": launcher, "type": "stdio",
            "allowed_origins": [spec.chrome_origin]}


def firefox_host_manifest(spec: PackageSpec, launcher: str) -> dict:
    return {"name": HOST_NAME, "description": HOST_DESCRIPTION, "path": launcher, "type": "stdio",
            "allowed_extensions": [spec.firefox_extension_id]}


def host_manifest(browser: str, spec: PackageSpec, launcher: str) -> dict:
    if browser == "firefox":
        return firefox_host_manifest(spec, launcher)
    return chromium_host_manifest(spec, launcher)


def chromium_policy(spec: PackageSpec) -> dict:
    """Force-install the extension, pin it, and allow only our native host system-wide."""
    # Edge force-installs Chrome Web Store items with the same update URL (Edge docs)
    update_url = spec.extension_update_url
    return {
        "ExtensionInstallForcelist": [f"{spec.extension_id};{update_url}"],
        "ExtensionSettings": {
            spec.extension_id: {"installation_mode": "force_installed", "update_url": update_url,
                                "toolbar_pin": "force_pinned"},
        },
        "NativeMessagingAllowlist": [HOST_NAME],
        # a per-user host could impersonate ours; only hosts installed by the admin run
        "NativeMessagingUserLevelHosts": False,
    }


def linux_chromium_policy(spec: PackageSpec) -> dict:
    """The policy file for /etc/.../policies/managed/: the policies plus managed storage."""
    return {**chromium_policy(spec), "3rdparty": {"extensions": {spec.extension_id: managed_storage(spec)}}}


def firefox_policy(spec: PackageSpec) -> dict:
    """The `policies` object of Firefox's policies.json (same keys in the plist and registry)."""
    setting: dict = {"installation_mode": "allowed"}
    if spec.firefox_install_url:
        setting = {"installation_mode": "force_installed", "install_url": spec.firefox_install_url}
    return {
        "ExtensionSettings": {spec.firefox_extension_id: setting},
        "3rdparty": {"Extensions": {spec.firefox_extension_id: managed_storage(spec)}},
    }


# Native-messaging host manifest keys, as Chrome and Firefox document them
HOST_MANIFEST_KEYS = {
    "chromium": frozenset({"name", "description", "path", "type", "allowed_origins"}),
    "firefox": frozenset({"name", "description", "path", "type", "allowed_extensions"}),
}


def validate_host_manifest(doc: dict, family: str, os_name: str) -> list[str]:
    """Problems with a host manifest for a browser family on an OS; [] when valid."""
    problems = []
    if set(doc) != HOST_MANIFEST_KEYS[family]:
        problems.append(f"keys {sorted(doc)} are not {sorted(HOST_MANIFEST_KEYS[family])}")
    name = str(doc.get("name", ""))
    if not name or not all(c.islower() or c.isdigit() or c in "._" for c in name):
        problems.append(f"name {name!r} must be lowercase letters, digits, dots and underscores")
    if doc.get("type") != "stdio":
        problems.append("type must be 'stdio'")
    # Linux and macOS need an absolute path; Windows may give it relative to the manifest
    if os_name != "windows" and not str(doc.get("path", "")).startswith("/"):
        problems.append("path must be absolute")
    origins = doc.get("allowed_origins", [])
    if family == "chromium" and not all(str(o).startswith("chrome-extension://") and str(o).endswith("/")
                                        for o in origins):
        problems.append("allowed_origins must be chrome-extension://<id>/ entries")
    return problems


def _check_keys(doc: dict, documented: dict[str, type], where: str) -> list[str]:
    problems = []
    for key, value in doc.items():
        expected = documented.get(key)
        if expected is None:
            problems.append(f"{where}: {key!r} is not a documented policy")
        elif not isinstance(value, expected):
            problems.append(f"{where}: {key} must be a {expected.__name__}")
    return problems


def validate_chromium_policy(doc: dict, where: str = "policy") -> list[str]:
    """Problems with a Chrome/Chromium/Edge policy document; [] when it is valid."""
    problems = _check_keys(doc, CHROMIUM_POLICY_KEYS, where)
    for entry in doc.get("ExtensionInstallForcelist", []):
        ext_id, _, url = str(entry).partition(";")
        if len(ext_id) != 32 or not url.startswith("https://"):
            problems.append(f"{where}: forcelist entry {entry!r} is not '<id>;<https update url>'")
    for list_key in ("NativeMessagingAllowlist", "NativeMessagingBlocklist", "ExtensionInstallAllowlist"):
        if not all(isinstance(item, str) for item in doc.get(list_key, [])):
            problems.append(f"{where}: {list_key} must list strings")
    if set(doc.get("3rdparty", {})) - {"extensions"}:
        problems.append(f"{where}: 3rdparty holds only 'extensions'")
    for ext_id, setting in doc.get("ExtensionSettings", {}).items():
        unknown = set(setting) - CHROMIUM_EXTENSION_SETTING_KEYS
        if unknown:
            problems.append(f"{where}: ExtensionSettings[{ext_id}] has undocumented keys {sorted(unknown)}")
        if setting.get("installation_mode", "allowed") not in CHROMIUM_INSTALLATION_MODES:
            problems.append(f"{where}: ExtensionSettings[{ext_id}] has an unknown installation_mode")
        if "toolbar_pin" in setting and setting["toolbar_pin"] not in CHROMIUM_TOOLBAR_PIN:
            problems.append(f"{where}: ExtensionSettings[{ext_id}] has an unknown toolbar_pin")
        if setting.get("installation_mode") in ("force_installed", "normal_installed") and "update_url" not in setting:
            problems.append(f"{where}: ExtensionSettings[{ext_id}] force-installs without update_url")
    return problems


def validate_firefox_policy(doc: dict, where: str = "firefox policy") -> list[str]:
    problems = _check_keys(doc, FIREFOX_POLICY_KEYS, where)
    for ext_id, setting in doc.get("ExtensionSettings", {}).items():
        unknown = set(setting) - FIREFOX_EXTENSION_SETTING_KEYS
        if unknown:
            problems.append(f"{where}: ExtensionSettings[{ext_id}] has undocumented keys {sorted(unknown)}")
        mode = setting.get("installation_mode")
        if mode not in FIREFOX_INSTALLATION_MODES:
            problems.append(f"{where}: ExtensionSettings[{ext_id}] has an unknown installation_mode")
        if mode in ("force_installed", "normal_installed") and "install_url" not in setting:
            problems.append(f"{where}: ExtensionSettings[{ext_id}] force-installs without install_url")
    third = doc.get("3rdparty", {})
    if set(third) - {"Extensions"}:
        problems.append(f"{where}: 3rdparty holds only 'Extensions'")
    return problems
