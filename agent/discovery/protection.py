"""Is the extension where the company put it? For each Chromium-family browser whose enterprise
policy on this device force-installs the shadowmap extension, the state of the extension in
every profile of that browser: enabled, disabled, or missing. The agent reports these in its
heartbeat; the collector raises "Protection disabled" when one is not enabled.

Which extension is ours: the contract's id, and any force-installed id whose managed storage
(the policy's "3rdparty" section) carries the extension's own settings (a self-hosted build
signed with the organisation's key has an id of its own). Policies are read where the browsers
document them: JSON files in the managed policy folders on Linux, the managed-preferences
plists on macOS, the HKLM policy keys on Windows (winpolicy turns a key into the same document;
the macOS and winreg reads are verified by reading only)."""
from __future__ import annotations

import json
import plistlib
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from shadowmap.agent.discovery import winpolicy
from shadowmap.agent.discovery.extensions import CHROMIUM_ROOTS
from shadowmap.contract.host import (
    CHROMIUM_EXTENSION_ID,
    LINUX_POLICY_DIRS,
    MACOS_POLICY_DOMAINS,
    MANAGED_STORAGE_DEFAULTS,
    WINDOWS_POLICY_KEYS,
)

MACOS_MANAGED_PREFERENCES = Path("/Library/Managed Preferences")
# Folders of a Chromium user-data dir that hold Preferences but are no user's profile: the
# profile picker's and guest mode's (extensions do not run there). Readers of Chromium
# profiles skip them by these names (e.g. a Local State info_cache reader ignoring
# "System Profile" and "Guest Profile"; a profile enumerator's CHROMIUM_NON_PROFILE_DIRS).
NON_PROFILE_DIRS = frozenset({"System Profile", "Guest Profile"})
MAX_POLICY_BYTES = 1024 * 1024
MAX_STATES = 50  # the contract's cap per heartbeat


def _read(path: Path) -> Any:
    try:
        if path.stat().st_size > MAX_POLICY_BYTES:
            return None
        raw = path.read_bytes()
        return plistlib.loads(raw) if path.suffix == ".plist" else json.loads(raw)
    except (OSError, ValueError, plistlib.InvalidFileException):
        return None


def our_ids(policy: dict) -> set[str]:
    """The ids a policy document force-installs that are the shadowmap extension."""
    forced: set[str] = set()
    for entry in policy.get("ExtensionInstallForcelist") or []:
        if isinstance(entry, str):
            forced.add(entry.split(";", 1)[0].strip())
    settings = policy.get("ExtensionSettings") or {}
    if isinstance(settings, dict):
        forced |= {ext_id for ext_id, s in settings.items()
                   if isinstance(s, dict) and s.get("installation_mode") == "force_installed"}
    storage = (policy.get("3rdparty") or {}).get("extensions") or {} if isinstance(policy.get("3rdparty"), dict) else {}
    marked = {ext_id for ext_id, values in storage.items()
              if isinstance(values, dict) and set(MANAGED_STORAGE_DEFAULTS) <= set(values)}
    return {ext_id for ext_id in forced if ext_id == CHROMIUM_EXTENSION_ID or ext_id in marked}


def all_our_ids(platform: str = sys.platform, policy_root: Path = Path("/")) -> set[str]:
    """Every id the shadowmap extension may have on this device: the contract's, and each
    self-hosted id a browser policy force-installs."""
    return {CHROMIUM_EXTENSION_ID}.union(*managed_ids(platform, policy_root).values())


def managed_ids(platform: str = sys.platform, policy_root: Path = Path("/"),
                read_registry: Callable[[str], dict | None] = winpolicy.read_tree) -> dict[str, set[str]]:
    """browser -> the shadowmap extension ids its enterprise policy force-installs."""
    found: dict[str, set[str]] = {}
    if platform.startswith("linux"):
        for browser, folder in LINUX_POLICY_DIRS.items():
            ids: set[str] = set()
            directory = policy_root / folder.lstrip("/")
            for path in sorted(directory.glob("*.json")) if directory.is_dir() else []:
                doc = _read(path)
                if isinstance(doc, dict):
                    ids |= our_ids(doc)
            if ids:
                found[browser] = ids
    elif platform == "darwin":
        for browser, domain in MACOS_POLICY_DOMAINS.items():
            doc = _read(policy_root / MACOS_MANAGED_PREFERENCES.relative_to("/") / f"{domain}.plist")
            if isinstance(doc, dict) and our_ids(doc):
                found[browser] = our_ids(doc)
    elif platform == "win32":
        for browser in CHROMIUM_ROOTS["win32"]:          # the Chromium family (Firefox has its own policies)
            ids = our_ids(winpolicy.policy_document(read_registry(WINDOWS_POLICY_KEYS[browser])))
            if ids:
                found[browser] = ids
    return found


def extension_state(profile: Path, ids: set[str]) -> str:
    installed = [i for i in ids if (profile / "Extensions" / i).is_dir()]
    if not installed:
        return "missing"
    prefs = _read(profile / "Preferences") or {}
    settings = prefs.get("extensions", {}).get("settings", {}) if isinstance(prefs, dict) else {}
    for ext_id in installed:
        entry = settings.get(ext_id) if isinstance(settings, dict) else None
        if not isinstance(entry, dict) or entry.get("state") != 0:   # 0: disabled; absent: enabled
            return "enabled"
    return "disabled"


def profiles(root: Path) -> list[Path]:
    """A user-data dir's profiles: Default and "Profile N" (each has its own Preferences), not
    the System and Guest profiles."""
    try:
        return sorted(p for p in root.iterdir()
                      if p.name not in NON_PROFILE_DIRS and p.is_dir() and (p / "Preferences").is_file())
    except OSError:
        return []


def extension_states(homes: Iterable[tuple[str, Path]], platform: str = sys.platform, policy_root: Path = Path("/"),
                     read_registry: Callable[[str], dict | None] = winpolicy.read_tree) -> list[dict[str, str]]:
    """The heartbeat's `extensions`: one entry per profile of each browser that must run the extension."""
    managed = managed_ids(platform, policy_root, read_registry)
    key = "linux" if platform.startswith("linux") else platform
    states: list[dict[str, str]] = []
    for user, home in homes:
        for browser, ids in managed.items():
            for rel in CHROMIUM_ROOTS.get(key, {}).get(browser, ()):
                for profile in profiles(home / rel):
                    states.append({"browser": browser, "profile": profile.name[:256], "profile_user": user[:256],
                                   "state": extension_state(profile, ids)})
    return states[:MAX_STATES]
