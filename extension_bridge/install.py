"""Register the native host with a browser: a launcher script plus the host manifest.

The browser finds `com.shadowmap.bridge.json` in its NativeMessagingHosts folder (per
profile when a --user-data-dir is given, else the documented per-user or system location
for the OS: browsers.py), checks the caller against `allowed_origins` (Chromium family)
or `allowed_extensions` (Firefox), and runs the absolute `path` in it: our launcher, which
execs this venv's python on extension_bridge.host. On Windows the manifest's path is also
written to the browser's registry key (winreg), with a .reg file beside it for admins.
"""
from __future__ import annotations

import importlib
import json
import os
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

from shadowmap.bridge.browsers import (
    BROWSERS,
    CHROMIUM_FAMILY,
    HOST_NAME,
    SCOPES,
    current_platform,
    manifest_location,
    registry_file,
    write_registry_key,
)
from shadowmap.bridge.extension_id import committed_extension_id
from shadowmap.contract.host import FIREFOX_ADDON_ID, HOST_DESCRIPTION, LAUNCHER_NAME
from shadowmap.ipc.agent_link import SOCKET_ENV

__all__ = ["BROWSERS", "SCOPES", "HOST_NAME", "install", "host_manifest", "manifest_dir"]

# where the launcher lives by default: beside the agent's state (docs/internals.md)
STATE_DIRS = {"user": "~/.local/state/shadowmap", "system": "/var/lib/shadowmap"}


@dataclass(frozen=True)
class Installed:
    manifest: Path
    launcher: Path
    extension_id: str
    registry_key: str | None = None
    reg_file: Path | None = None


def manifest_dir(browser: str, scope: str = "user", user_data_dir: Path | None = None) -> Path:
    if user_data_dir is not None:
        return Path(user_data_dir).expanduser().resolve() / "NativeMessagingHosts"
    location = manifest_location(browser, scope, current_platform(), str(Path.home()), os.environ)
    return Path(location.manifest).parent


def default_launcher_dir(scope: str) -> Path:
    state = os.environ.get("SHADOWMAP_STATE_DIR") or STATE_DIRS[scope]
    return Path(state).expanduser().resolve() / "bridge"


# The host is stdlib-only, so it runs with -S (no site: skipping site-packages and
# editable-install hooks halves its start). The packages it needs are loaded straight from
# their folders, which works from a wheel and from a source checkout alike (where
# shadowmap.bridge lives in extension_bridge/).
HOST_PACKAGES = ("shadowmap", "shadowmap.contract", "shadowmap.ipc", "shadowmap.bridge")


def package_folders() -> dict[str, str]:
    folders = {}
    for name in HOST_PACKAGES:
        module = importlib.import_module(name)
        assert module.__file__ is not None, name  # a regular package, loaded from its folder
        folders[name] = str(Path(module.__file__).resolve().parent)
    return folders


def host_command(folders: dict[str, str] | None = None) -> str:
    """The -c program that starts the host from its package folders without `site`."""
    folders = folders or package_folders()
    # one line, so it also fits the Windows launcher's `-c "..."`
    return ("import sys, importlib.util as u; "
            "[(s := u.spec_from_file_location(n, d + '/__init__.py', submodule_search_locations=[d]), "
            "sys.modules.__setitem__(n, m := u.module_from_spec(s)), s.loader.exec_module(m)) "
            f"for n, d in {list(folders.items())!r}]; "
            "from shadowmap.bridge.host import main; sys.exit(main())")


def launcher_script(python: str, socket_path: Path | None) -> str:
    # -I: ignore PYTHON* variables and the user site, so the browser's environment cannot
    # change which code the host runs
    lines = ["#!/bin/sh", "# shadowmap native-messaging host launcher (written by `shadowmap bridge install`)"]
    if socket_path is not None:
        lines.append(f"{SOCKET_ENV}={shlex.quote(str(socket_path))}")
        lines.append(f"export {SOCKET_ENV}")
    lines.append(f'exec {shlex.quote(python)} -I -S -c {shlex.quote(host_command())} "$@"')
    return "\n".join(lines) + "\n"


def windows_launcher(python: str, socket_path: Path | None) -> str:
    lines = ["@echo off", "rem shadowmap native-messaging host launcher (written by `shadowmap bridge install`)"]
    if socket_path is not None:
        lines.append(f'set "{SOCKET_ENV}={socket_path}"')
    lines.append(f'"{python}" -I -S -c "{host_command()}" %*')
    return "\r\n".join(lines) + "\r\n"


def host_manifest(launcher: Path, extension_id: str, browser: str = "chromium") -> dict:
    manifest: dict[str, object] = {"name": HOST_NAME, "description": HOST_DESCRIPTION, "path": str(launcher), "type": "stdio"}
    if browser == "firefox":
        manifest["allowed_extensions"] = [extension_id]
    else:
        manifest["allowed_origins"] = [f"chrome-extension://{extension_id}/"]
    return manifest


def check_extension_id(browser: str, ext_id: str) -> None:
    if browser == "firefox":
        if not ext_id or len(ext_id) > 80 or ext_id.count("@") != 1 or any(c.isspace() for c in ext_id):
            raise ValueError(f"{ext_id!r} is not a Firefox add-on id (like {FIREFOX_ADDON_ID})")
    elif len(ext_id) != 32 or not set(ext_id) <= set("abcdefghijklmnop"):
        raise ValueError(f"{ext_id!r} is not a Chromium extension id (32 letters a-p)")


def _write(path: Path, text: str, mode: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, "utf-8", newline="")
    tmp.chmod(mode)
    tmp.replace(path)  # atomic: a browser starting now sees the old or the new file


def install(
    browser: str = "chromium",
    scope: str = "user",
    user_data_dir: Path | None = None,
    extension_id: str | None = None,
    socket_path: Path | None = None,
    launcher_dir: Path | None = None,
    python: str | None = None,
) -> Installed:
    if browser not in BROWSERS:
        raise ValueError(f"unknown browser {browser!r}; expected one of {', '.join(BROWSERS)}")
    if scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r}; expected user or system")
    if user_data_dir is not None and browser not in CHROMIUM_FAMILY:
        raise ValueError("--user-data-dir is for Chromium-family browsers; Firefox reads only its own folders")
    ext_id = extension_id or (FIREFOX_ADDON_ID if browser == "firefox" else committed_extension_id())
    check_extension_id(browser, ext_id)
    platform = current_platform()
    folder = Path(launcher_dir).expanduser().resolve() if launcher_dir else default_launcher_dir(scope)
    resolved_socket = Path(socket_path).expanduser().resolve() if socket_path else None
    # sys.executable, not resolved: resolving a venv's python symlink would leave the venv
    interpreter = python or sys.executable
    if platform == "windows":
        launcher = folder / f"{LAUNCHER_NAME}.bat"
        _write(launcher, windows_launcher(interpreter, resolved_socket), 0o755)
    else:
        launcher = folder / LAUNCHER_NAME
        _write(launcher, launcher_script(interpreter, resolved_socket), 0o755)
    registry_key = reg_file = None
    if user_data_dir is not None:
        manifest = manifest_dir(browser, scope, user_data_dir) / f"{HOST_NAME}.json"
    else:
        location = manifest_location(browser, scope, platform, str(Path.home()), os.environ)
        manifest, registry_key = Path(location.manifest), location.registry_key
    _write(manifest, json.dumps(host_manifest(launcher, ext_id, browser), indent=2) + "\n", 0o644)
    if registry_key is not None:
        reg_file = manifest.with_name(f"{HOST_NAME}.{browser}.reg")
        _write(reg_file, registry_file(registry_key, manifest), 0o644)
        write_registry_key(registry_key, manifest)
    return Installed(manifest=manifest, launcher=launcher, extension_id=ext_id,
                     registry_key=registry_key, reg_file=reg_file)
