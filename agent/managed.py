"""Settings an administrator manages through the OS: Linux ``/etc/shadowmap/agent.toml``,
macOS managed preferences (``/Library/Managed Preferences/dev.shadowmap.agent.plist``, what
an MDM configuration profile installs), Windows the policy registry key
``HKLM\\SOFTWARE\\Policies\\shadowmap\\Agent`` or ``%ProgramData%\\shadowmap\\agent.toml``.
``SHADOWMAP_AGENT_CONFIG`` names another file (a .toml or .plist), or "" for none.

Keys are the setting names of agent/settings.py (``MANAGED_KEYS``: every field of
AgentConfig). A bad file raises ManagedConfigError naming the file and the key."""
from __future__ import annotations

import os
import plistlib
import sys
import tomllib
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from shadowmap.contract import host

# the places are the contract's (schema/host.v1.json "agent_managed_config"); the MDM packages write them
LINUX_FILE = Path(host.AGENT_CONFIG_LINUX_FILE)
MACOS_PLIST = Path(host.AGENT_CONFIG_MACOS_PLIST)
WINDOWS_KEY = host.AGENT_POLICY_KEY
# Windows environment names are case-insensitive: PROGRAMDATA is %ProgramData%
WINDOWS_FILE = Path(os.environ.get("PROGRAMDATA", r"C:\ProgramData")) / "shadowmap" / "agent.toml"
ENV_FILE = host.AGENT_CONFIG_ENV
# plist bookkeeping keys an MDM adds, ignored
_PLIST_EXTRA = {"PayloadUUID", "PayloadIdentifier", "PayloadType", "PayloadVersion", "PayloadDisplayName"}


class ManagedConfigError(ValueError):
    """The managed configuration is unreadable or has a bad key or value."""


def _read_toml(path: Path) -> dict:
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ManagedConfigError(f"{path}: not valid TOML: {exc}") from None
    # [agent] table or top-level keys, both accepted
    return data.get("agent", data) if isinstance(data.get("agent"), dict) else data


def _read_plist(path: Path) -> dict:
    try:
        with open(path, "rb") as fh:
            data = plistlib.load(fh)
    except (plistlib.InvalidFileException, ValueError) as exc:
        raise ManagedConfigError(f"{path}: not a valid property list: {exc}") from None
    if not isinstance(data, dict):
        raise ManagedConfigError(f"{path}: the property list must be a dictionary")
    return {k: v for k, v in data.items() if k not in _PLIST_EXTRA}


def registry_values(entries: Iterable[tuple[str, Any, int]]) -> dict:
    """Registry (name, value, type) triples as settings: REG_DWORD/QWORD are numbers,
    REG_MULTI_SZ lists, REG_SZ strings (converted like the environment)."""
    reg_dword, reg_qword, reg_multi_sz = 4, 11, 7
    values: dict[str, Any] = {}
    for name, value, kind in entries:
        if kind in (reg_dword, reg_qword):
            values[name] = int(value)
        elif kind == reg_multi_sz:
            values[name] = [str(v) for v in value]
        else:
            values[name] = str(value)
    return values


def _read_registry() -> dict:
    import winreg  # Windows only (typeshed declares its functions for win32 only: ignored below)
    try:
        key = winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE, WINDOWS_KEY)  # type: ignore[attr-defined]
    except OSError:
        return {}
    entries, index = [], 0
    with key:
        while True:
            try:
                entries.append(winreg.EnumValue(key, index))  # type: ignore[attr-defined]
            except OSError:
                break
            index += 1
    return registry_values(entries)


def read_file(path: Path) -> tuple[dict, str]:
    try:
        data = _read_plist(path) if path.suffix == ".plist" else _read_toml(path)
    except FileNotFoundError:
        return {}, str(path)
    except OSError as exc:
        raise ManagedConfigError(f"{path}: cannot be read: {exc.strerror}") from None
    return data, str(path)


def read_managed(env: Mapping[str, str], platform: str = sys.platform) -> tuple[dict, str]:
    """(raw settings, where they came from); ({}, "") when nothing is managed."""
    if ENV_FILE in env:
        return read_file(Path(env[ENV_FILE])) if env[ENV_FILE] else ({}, "")
    if platform == "darwin":
        return read_file(MACOS_PLIST)
    if platform == "win32":
        values = _read_registry()
        return (values, f"HKLM\\{WINDOWS_KEY}") if values else read_file(WINDOWS_FILE)
    return read_file(LINUX_FILE)


def convert(source: str, key: str, value: Any, convert_str: Callable[[str], Any], default: Any) -> Any:
    """A managed value of the setting's type, or ManagedConfigError naming source and key."""
    if isinstance(value, str):
        try:
            return convert_str(value)
        except ValueError:
            pass
    elif isinstance(default, bool):
        if isinstance(value, bool):
            return value
    elif isinstance(default, (int, float)) and isinstance(value, (int, float)) and not isinstance(value, bool):
        return type(default)(value)
    elif isinstance(default, tuple) and isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    kind = {bool: "true or false", int: "an integer", float: "a number", tuple: "a list of strings"}.get(
        type(default), "a string")
    raise ManagedConfigError(f"{source}: {key} must be {kind}, not {value!r}")
