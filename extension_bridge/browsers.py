"""Where each browser looks for native-messaging host manifests, per OS and scope, as data
and pure functions (tested for every OS on any OS).

Linux and macOS: a folder the browser searches for `<host name>.json`. Windows: a registry
key (HKCU for a user, HKLM for the machine) whose default value is the manifest's path.
Sources: Chrome's and Edge's native-messaging docs, MDN's for Firefox. Brave documents
none; it is a Chromium-branded build of Chromium, so Chromium's code decides
(chrome/common/chrome_paths.cc, DIR_NATIVE_MESSAGING / DIR_USER_NATIVE_MESSAGING;
chrome/browser/extensions/api/messaging/native_process_launcher_win.cc): per user, the
NativeMessagingHosts folder of its own profile (~/.config/BraveSoftware/Brave-Browser,
set by brave-core's chrome_paths_linux.cc); machine-wide, Chromium's system folders; on
Windows, Chromium's key (then Chrome's). Brave's own folders under /etc/opt/brave or
Software\\BraveSoftware are not read by that code.
"""
from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import PurePath, PurePosixPath, PureWindowsPath

HOST_NAME = "com.shadowmap.bridge"
PLATFORMS = ("linux", "macos", "windows")
SCOPES = ("user", "system")
CHROMIUM_FAMILY = ("chrome", "chromium", "edge", "brave")
BROWSERS = (*CHROMIUM_FAMILY, "firefox")

# platform -> browser -> scope -> folder ("~" is the user's home)
MANIFEST_DIRS: dict[str, dict[str, dict[str, str]]] = {
    "linux": {
        "chrome": {"user": "~/.config/google-chrome/NativeMessagingHosts",
                   "system": "/etc/opt/chrome/native-messaging-hosts"},
        "chromium": {"user": "~/.config/chromium/NativeMessagingHosts",
                     "system": "/etc/chromium/native-messaging-hosts"},
        "edge": {"user": "~/.config/microsoft-edge/NativeMessagingHosts",
                 "system": "/etc/opt/edge/native-messaging-hosts"},
        "brave": {"user": "~/.config/BraveSoftware/Brave-Browser/NativeMessagingHosts",
                  "system": "/etc/chromium/native-messaging-hosts"},        # Chromium's: see above
        "firefox": {"user": "~/.mozilla/native-messaging-hosts",
                    "system": "/usr/lib/mozilla/native-messaging-hosts"},
    },
    "macos": {
        "chrome": {"user": "~/Library/Application Support/Google/Chrome/NativeMessagingHosts",
                   "system": "/Library/Google/Chrome/NativeMessagingHosts"},
        "chromium": {"user": "~/Library/Application Support/Chromium/NativeMessagingHosts",
                     "system": "/Library/Application Support/Chromium/NativeMessagingHosts"},
        "edge": {"user": "~/Library/Application Support/Microsoft Edge/NativeMessagingHosts",
                 "system": "/Library/Microsoft/Edge/NativeMessagingHosts"},
        "brave": {"user": "~/Library/Application Support/BraveSoftware/Brave-Browser/NativeMessagingHosts",
                  "system": "/Library/Application Support/Chromium/NativeMessagingHosts"},  # Chromium's
        "firefox": {"user": "~/Library/Application Support/Mozilla/NativeMessagingHosts",
                    "system": "/Library/Application Support/Mozilla/NativeMessagingHosts"},
    },
}
# Windows: the registry key under HKCU (user) or HKLM (system) naming the manifest
WINDOWS_KEYS = {
    "chrome": r"Software\Google\Chrome\NativeMessagingHosts",
    "chromium": r"Software\Chromium\NativeMessagingHosts",
    "edge": r"Software\Microsoft\Edge\NativeMessagingHosts",
    "brave": r"Software\Chromium\NativeMessagingHosts",        # Chromium-branded: Chromium's key
    "firefox": r"Software\Mozilla\NativeMessagingHosts",
}
WINDOWS_HIVES = {"user": "HKEY_CURRENT_USER", "system": "HKEY_LOCAL_MACHINE"}
# Windows keeps the manifest wherever the key says: ours live beside the launcher
WINDOWS_MANIFEST_DIRS = {"user": r"%LOCALAPPDATA%\shadowmap\bridge", "system": r"%ProgramData%\shadowmap\bridge"}


@dataclass(frozen=True)
class Location:
    """Where one browser's host manifest goes: the file, and on Windows the registry key
    (full path, hive included) whose default value must name that file."""

    manifest: PurePath
    registry_key: str | None = None


def current_platform(name: str | None = None) -> str:
    name = name or sys.platform
    if name.startswith("linux"):
        return "linux"
    if name == "darwin":
        return "macos"
    if name in ("win32", "cygwin"):
        return "windows"
    raise ValueError(f"unsupported platform {name!r}")


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
        folder = PureWindowsPath(_expand_windows(WINDOWS_MANIFEST_DIRS[scope], env or {}))
        # one manifest per browser family: Firefox's differs (allowed_extensions)
        name = f"{HOST_NAME}.firefox.json" if browser == "firefox" else file_name
        key = f"{WINDOWS_HIVES[scope]}\\{WINDOWS_KEYS[browser]}\\{HOST_NAME}"
        return Location(folder / name, key)
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
    import winreg  # type: ignore[import-not-found]  # only on Windows

    hive_name, _, sub_key = key.partition("\\")
    hive = {"HKEY_CURRENT_USER": winreg.HKEY_CURRENT_USER, "HKEY_LOCAL_MACHINE": winreg.HKEY_LOCAL_MACHINE}[hive_name]
    with winreg.CreateKey(hive, sub_key) as handle:
        winreg.SetValueEx(handle, "", 0, winreg.REG_SZ, str(manifest))
