"""Where each browser looks for native-messaging host manifests, per OS and scope, as pure
functions (tested for every OS on any OS) over the facts in the contract
(schema/host.v1.json, shadowmap.contract.host).

Linux and macOS: a folder the browser searches for `<host name>.json`. Windows: a registry
key (HKCU for a user, HKLM for the machine) whose default value is the manifest's path.
Sources: Chrome's and Edge's native-messaging docs, MDN's for Firefox; Brave documents
none and reads Chromium's machine-wide places (host.v1.json's browsers_note says why).
"""
from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import PurePath, PurePosixPath, PureWindowsPath

from shadowmap.contract.host import (
    BROWSERS,
    CHROMIUM_FAMILY,
    HOST_NAME,
    MANIFEST_DIRS,
    PLATFORMS,
    SCOPES,
    WINDOWS_HIVES,
    WINDOWS_HOST_KEYS,
    WINDOWS_MANIFEST_DIRS,
    platform_of,
)

__all__ = ["BROWSERS", "CHROMIUM_FAMILY", "HOST_NAME", "PLATFORMS", "SCOPES", "Location", "current_platform",
           "manifest_location", "registry_file", "write_registry_key"]


@dataclass(frozen=True)
class Location:
    """Where one browser's host manifest goes: the file, and on Windows the registry key
    (full path, hive included) whose default value must name that file."""

    manifest: PurePath
    registry_key: str | None = None


def current_platform(name: str | None = None) -> str:
    return platform_of(name or sys.platform)


def _check(browser: str, scope: str, platform: str) -> None:
    if browser not in BROWSERS:
        raise ValueError(f"unknown browser {browser!r}; expected one of {', '.join(BROWSERS)}")
    if scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r}; expected user or system")
    if platform not in PLATFORMS:
        raise ValueError(f"unknown platform {platform!r}; expected one of {', '.join(PLATFORMS)}")


def _expand_windows(path: str, env: Mapping[str, str]) -> str:
    for name, value in env.items():
        path = path.replace(f"%{name}%", value)
    if "%" in path:
        raise ValueError(f"cannot expand {path!r}: set LOCALAPPDATA / ProgramData")
    return path


def manifest_location(browser: str, scope: str, platform: str, home: str,
                      env: Mapping[str, str] | None = None) -> Location:
    """The documented location for `browser` on `platform` (pure: home and env are given)."""
    _check(browser, scope, platform)
    file_name = f"{HOST_NAME}.json"
    if platform == "windows":
        windows_folder = PureWindowsPath(_expand_windows(WINDOWS_MANIFEST_DIRS[scope], env or {}))
        # one manifest per browser family: Firefox's differs (allowed_extensions)
        name = f"{HOST_NAME}.firefox.json" if browser == "firefox" else file_name
        key = f"{WINDOWS_HIVES[scope]}\\{WINDOWS_HOST_KEYS[browser]}\\{HOST_NAME}"
        return Location(windows_folder / name, key)
    folder = MANIFEST_DIRS[platform][browser][scope]
    if folder.startswith("~/"):
        folder = str(PurePosixPath(home) / folder[2:])
    return Location(PurePosixPath(folder) / file_name)


def registry_file(key: str, manifest: PurePath) -> str:
    """A .reg file that points `key` at `manifest` (for admins who deploy .reg files)."""
    escaped = str(manifest).replace("\\", "\\\\").replace('"', '\\"')
    return f'Windows Registry Editor Version 5.00\r\n\r\n[{key}]\r\n@="{escaped}"\r\n'


def write_registry_key(key: str, manifest: PurePath) -> None:
    """Set the key's default value with winreg (Windows only)."""
    if sys.platform != "win32":  # (also tells the type checker the rest is Windows-only)
        raise OSError(f"{key}: the registry exists only on Windows")
    import winreg

    hive_name, _, sub_key = key.partition("\\")
    hive = {"HKEY_CURRENT_USER": winreg.HKEY_CURRENT_USER, "HKEY_LOCAL_MACHINE": winreg.HKEY_LOCAL_MACHINE}[hive_name]
    with winreg.CreateKey(hive, sub_key) as handle:
        winreg.SetValueEx(handle, "", 0, winreg.REG_SZ, str(manifest))
