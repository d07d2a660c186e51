"""Browser-extension source: extensions installed in Chrome, Chromium, Edge, Brave and Firefox
profiles on disk (every profile; every user's home when the agent runs as root). Reports AI
extensions listed in the catalog and any extension whose host permissions reach AI hosts."""
from __future__ import annotations

import json
import ntpath
import os
import re
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shadowmap.agent.discovery import Observation
from shadowmap.contract.host import CHROMIUM_EXTENSION_ID, FIREFOX_ADDON_ID

if TYPE_CHECKING:
    from shadowmap.detectors.catalog import Catalog

# profile roots relative to a home, per platform: browser -> folders that hold profiles
CHROMIUM_ROOTS: dict[str, dict[str, tuple[str, ...]]] = {
    "linux": {
        "chrome": (".config/google-chrome",), "chromium": (".config/chromium",),
        "edge": (".config/microsoft-edge",), "brave": (".config/BraveSoftware/Brave-Browser",),
    },
    "darwin": {
        "chrome": ("Library/Application Support/Google/Chrome",),
        "chromium": ("Library/Application Support/Chromium",),
        "edge": ("Library/Application Support/Microsoft Edge",),
        "brave": ("Library/Application Support/BraveSoftware/Brave-Browser",),
    },
    "win32": {
        "chrome": ("AppData/Local/Google/Chrome/User Data",),
        "chromium": ("AppData/Local/Chromium/User Data",),
        "edge": ("AppData/Local/Microsoft/Edge/User Data",),
        "brave": ("AppData/Local/BraveSoftware/Brave-Browser/User Data",),
    },
}
FIREFOX_ROOTS = {
    "linux": (".mozilla/firefox",), "darwin": ("Library/Application Support/Firefox/Profiles",),
    "win32": ("AppData/Roaming/Mozilla/Firefox/Profiles",),
}
ALL_SITES = {"<all_urls>", "*://*/*", "http://*/*", "https://*/*", "*://*/"}
MAX_MANIFEST_BYTES = 1 << 20
_MSG = re.compile(r"^__MSG_(\w+)__$")


# Windows profile folders under C:\Users that are not a person's home
WINDOWS_NON_PROFILES = frozenset({"public", "default", "default user", "all users", "defaultapppool"})


def user_homes(platform: str = sys.platform) -> list[tuple[str, Path]]:
    """(user, home) for the agent's user, or for every login user when privileged (root on
    POSIX; the service's LocalSystem or an elevated administrator on Windows)."""
    if platform == "win32":
        if _windows_elevated():
            return windows_homes(Path(ntpath.join(os.environ.get("SYSTEMDRIVE") or "C:", "\\Users")))
        return [(os.environ.get("USERNAME") or Path.home().name, Path.home())]
    if os.geteuid() == 0:
        import pwd  # POSIX only
        homes = [(p.pw_name, Path(p.pw_dir)) for p in pwd.getpwall()
                 if (p.pw_uid >= 1000 or p.pw_uid == 0) and p.pw_dir not in ("/", "/nonexistent")]
        return [(u, h) for u, h in homes if h.is_dir()]
    return [(os.environ.get("USER") or Path.home().name, Path.home())]


def windows_homes(users_root: Path) -> list[tuple[str, Path]]:
    """Every person's profile folder under users_root (C:\\Users): real folders only (the
    "Default User" / "All Users" junctions and links are skipped), not Public or Default.
    The folder name stands for the user (Windows names a profile after its account)."""
    try:
        entries = sorted(users_root.iterdir())
    except OSError:
        return []
    homes = []
    for entry in entries:
        if entry.name.lower() in WINDOWS_NON_PROFILES or entry.name.startswith("."):
            continue
        try:
            if entry.is_symlink() or _is_junction(entry) or not entry.is_dir():
                continue
        except OSError:
            continue
        homes.append((entry.name, entry))
    return homes


def _is_junction(path: Path) -> bool:
    """A reparse point (junction or link): Python 3.11's is_symlink misses junctions."""
    reparse_point = 0x400                  # FILE_ATTRIBUTE_REPARSE_POINT; 0 off Windows
    return bool(getattr(path.lstat(), "st_file_attributes", 0) & reparse_point)


def _windows_elevated() -> bool:
    """Windows only (unverified here): LocalSystem and elevated administrators count."""
    if sys.platform != "win32":
        return False                      # ctypes.windll is Windows only
    import ctypes
    try:
        return bool(ctypes.windll.shell32.IsUserAnAdmin())
    except (AttributeError, OSError):
        return False


def _read_json(path: Path) -> Any:
    try:
        if path.stat().st_size > MAX_MANIFEST_BYTES:
            return None
        return json.loads(path.read_text("utf-8-sig"))
    except (OSError, ValueError):
        return None


def _localized(manifest: dict, folder: Path, value: Any) -> str:
    text = value if isinstance(value, str) else ""
    match = _MSG.match(text)
    if not match:
        return text
    locale = manifest.get("default_locale") or "en"
    messages = _read_json(folder / "_locales" / str(locale) / "messages.json") or {}
    wanted = match.group(1).lower()
    for key, entry in messages.items() if isinstance(messages, dict) else ():
        if key.lower() == wanted and isinstance(entry, dict):
            return str(entry.get("message", text))
    return text


def _strings(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


# Where Chromium says an extension came from (Preferences extensions.settings.<id>.location,
# mojom ManifestLocation): chrome.management calls 2, 3 and 6 "sideload" (another program put
# it there) and 4 and 8 "development" (unpacked, or --load-extension); neither came from a store
# or the admin's policy (1 internal/store, 7 and 9 policy, 5 and 10 component).
SIDELOADED_LOCATIONS = {2: "put there by another program (external preferences)",
                        3: "put there by another program (the registry)",
                        6: "put there by another program (external update URL)",
                        4: "loaded unpacked (developer mode)", 8: "loaded from the command line (--load-extension)"}


def _chromium_extensions(root: Path) -> Iterator[tuple[str, str, dict, Path, bool, str | None]]:
    """(profile, extension id, manifest, folder, enabled, how it was sideloaded or None) under a
    Chromium user-data dir."""
    try:
        profiles = sorted(p for p in root.iterdir() if (p / "Extensions").is_dir())
    except OSError:
        return
    for profile in profiles:
        disabled = _disabled_ids(profile)
        sideloaded = sideload_reasons(profile)
        for ext_dir in sorted(p for p in (profile / "Extensions").iterdir() if p.is_dir()):
            versions = sorted((v for v in ext_dir.iterdir() if (v / "manifest.json").is_file()),
                              key=lambda v: v.stat().st_mtime)
            if not versions:
                continue
            manifest = _read_json(versions[-1] / "manifest.json")
            if isinstance(manifest, dict):
                yield (profile.name, ext_dir.name, manifest, versions[-1], ext_dir.name not in disabled,
                       sideloaded.get(ext_dir.name))


def sideload_reasons(profile: Path) -> dict[str, str]:
    """extension id -> how it was sideloaded, for the profile's extensions that did not come from
    a store or a policy (Preferences' location)."""
    prefs = _read_json(profile / "Preferences") or {}
    settings = prefs.get("extensions", {}).get("settings", {}) if isinstance(prefs, dict) else {}
    if not isinstance(settings, dict):
        return {}
    return {ext_id: SIDELOADED_LOCATIONS[s["location"]] for ext_id, s in settings.items()
            if isinstance(s, dict) and s.get("location") in SIDELOADED_LOCATIONS}


def _disabled_ids(profile: Path) -> set[str]:
    prefs = _read_json(profile / "Preferences") or {}
    settings = prefs.get("extensions", {}).get("settings", {}) if isinstance(prefs, dict) else {}
    if not isinstance(settings, dict):
        return set()
    return {ext_id for ext_id, s in settings.items() if isinstance(s, dict) and s.get("state") == 0}


# What Firefox's add-on database (a profile's extensions.json, written by
# toolkit/mozapps/extensions/internal/XPIDatabase: PROP_JSON_FIELDS, plus `location`, the
# install location's name) says of an add-on that did not come from AMO or the admin's policy:
# - foreignInstall: true: installed by another program, not through Firefox;
# - location: app-temporary (loaded from about:debugging, unsigned by design) or one of the
#   folders other programs drop add-ons into (XPIProvider's KEY_APP_GLOBAL, KEY_APP_SYSTEM_LOCAL,
#   KEY_APP_SYSTEM_SHARE, KEY_APP_SYSTEM_USER: /usr/{lib,share}/mozilla/extensions,
#   ~/.mozilla/extensions, the application folder);
# - signedState (AddonManager.SIGNEDSTATE_*): -2 broken, -1 unknown, 0 missing (unsigned),
#   1 preliminary, 2 signed, 3 system, 4 privileged; absent when signing is not required. An
#   add-on that is not signed by Mozilla where Firefox requires it (AddonInternal.isCorrectlySigned:
#   not for temporary and built-in add-ons, nor for app-system-share/-local outside macOS) runs
#   only where signature checks were switched off.
FIREFOX_SIDELOAD_LOCATIONS = {
    "app-temporary": "loaded temporarily (about:debugging)",
    "app-global": "put in Firefox's application folder by another program",
    "app-system-local": "put in a system add-on folder by another program",
    "app-system-share": "put in a system add-on folder by another program",
    "app-system-user": "put in the user's add-on folder (~/.mozilla/extensions) by another program",
}
FIREFOX_UNSIGNED_STATES = {-2: "its signature is broken", -1: "signed by a certificate Mozilla does not trust",
                           0: "not signed by Mozilla"}
FIREFOX_UNSIGNED_ALLOWED = {"app-temporary", "app-builtin", "app-system-defaults"}
FIREFOX_UNSIGNED_ALLOWED_OFF_MACOS = {"app-system-share", "app-system-local"}


def firefox_sideload_reason(addon: dict, platform: str) -> str | None:
    """How a Firefox add-on came in outside AMO and policy, or None: the documented fields only."""
    reasons = []
    location = addon.get("location")
    if isinstance(location, str) and location in FIREFOX_SIDELOAD_LOCATIONS:
        reasons.append(FIREFOX_SIDELOAD_LOCATIONS[location])
    if addon.get("foreignInstall") is True and location not in FIREFOX_SIDELOAD_LOCATIONS:
        reasons.append("installed by another program (foreignInstall)")
    state = addon.get("signedState")
    exempt = location in FIREFOX_UNSIGNED_ALLOWED or (
        location in FIREFOX_UNSIGNED_ALLOWED_OFF_MACOS and platform != "darwin")
    if isinstance(state, int) and not isinstance(state, bool) and state in FIREFOX_UNSIGNED_STATES and not exempt:
        reasons.append(f"{FIREFOX_UNSIGNED_STATES[state]} (signedState {state})")
    return "; ".join(reasons) or None


def _firefox_addons(root: Path) -> Iterator[tuple[str, dict]]:
    try:
        profiles = sorted(p for p in root.iterdir() if (p / "extensions.json").is_file())
    except OSError:
        return
    for profile in profiles:
        data = _read_json(profile / "extensions.json") or {}
        for addon in data.get("addons", []) if isinstance(data, dict) else []:
            if isinstance(addon, dict) and addon.get("type") == "extension" and addon.get("location") != "app-builtin":
                yield profile.name, addon


class ExtensionInventory:
    def __init__(self, catalog: Catalog, platform: str = sys.platform):
        self.catalog = catalog
        self.platform = "linux" if platform.startswith("linux") else platform
        self.by_extension = {ext: tool.id for tool in catalog.tools
                             for ext in getattr(tool, "browser_extension_ids", ())}
        # shadowmap's own extension, loaded unpacked by developers: never flagged as sideloaded
        self.own_ids = {CHROMIUM_EXTENSION_ID, FIREFOX_ADDON_ID}

    def ai_hosts(self, patterns: Iterable[str]) -> tuple[list[str], bool]:
        """The catalog hosts that match patterns reach, and whether they reach every site."""
        hosts: set[str] = set()
        all_sites = False
        for pattern in patterns:
            if pattern in ALL_SITES:
                all_sites = True
                continue
            host = pattern.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0].lower()
            if host in ("*", ""):
                all_sites = True
                continue
            tool = self.catalog.match_domain(host.lstrip("*."))
            if tool is not None:
                hosts.add(host.lstrip("*."))
        return sorted(hosts), all_sites

    def scan(self, homes: Iterable[tuple[str, Path]] | None = None) -> list[Observation]:
        found: list[Observation] = []
        for user, home in user_homes() if homes is None else homes:
            for browser, roots in CHROMIUM_ROOTS.get(self.platform, {}).items():
                for rel in roots:
                    for profile, ext_id, manifest, folder, enabled, sideloaded in _chromium_extensions(home / rel):
                        hosts = [*_strings(manifest.get("host_permissions")),
                                 *_strings(manifest.get("optional_host_permissions")),
                                 *(m for cs in manifest.get("content_scripts", []) if isinstance(cs, dict)
                                   for m in _strings(cs.get("matches")))]
                        perms = _strings(manifest.get("permissions"))
                        if manifest.get("manifest_version") == 2:     # MV2 mixes hosts into permissions
                            hosts += [p for p in perms if "://" in p or p in ALL_SITES]
                        name = _localized(manifest, folder, manifest.get("name"))
                        self._add(found, user, browser, profile, ext_id, name, manifest.get("version"),
                                  enabled, sorted(set(perms + hosts)), hosts, sideloaded)
            for rel in FIREFOX_ROOTS.get(self.platform, ()):
                for profile, addon in _firefox_addons(home / rel):
                    granted = addon.get("userPermissions") or {}
                    perms = _strings(granted.get("permissions")) if isinstance(granted, dict) else []
                    hosts = _strings(granted.get("origins")) if isinstance(granted, dict) else []
                    locale = addon.get("defaultLocale") or {}
                    title = locale.get("name") if isinstance(locale, dict) else None
                    self._add(found, user, "firefox", profile, str(addon.get("id", "")), title or "",
                              addon.get("version"), bool(addon.get("active", True)),
                              sorted(set(perms + hosts)), hosts, firefox_sideload_reason(addon, self.platform))
        return found

    def _add(self, found: list[Observation], user: str, browser: str, profile: str, ext_id: str,
             name: str, version: Any, enabled: bool, permissions: list[str], hosts: list[str],
             sideloaded: str | None = None) -> None:
        tool_id = self.by_extension.get(ext_id)
        ai_hosts, all_sites = self.ai_hosts(hosts)
        if tool_id is None and not ai_hosts and not all_sites:
            return
        data: dict[str, Any] = {
            "tool_id": tool_id, "browser": browser, "profile": profile[:256], "profile_user": user[:256],
            "extension_id": ext_id[:256], "name": (name or ext_id)[:256], "enabled": enabled,
            "permissions": [p[:300] for p in permissions[:200]], "ai_hosts": ai_hosts[:200],
            "all_sites": all_sites,
        }
        if version:
            data["version"] = str(version)[:64]
        if sideloaded and ext_id not in self.own_ids:
            data["risks"] = [{"flag": "sideloaded_extension", "evidence": f"not from a store or policy: {sideloaded}"}]
        key = ("browser_extension", user, browser, profile, ext_id)
        fingerprint = json.dumps([data.get("version"), enabled, data["permissions"]])
        found.append(Observation("browser_extension.observed", key, fingerprint, user, data))
