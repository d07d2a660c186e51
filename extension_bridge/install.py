"""Register the native host with a browser: a launcher script plus the host manifest.

The browser finds `com.shadowmap.bridge.json` in its NativeMessagingHosts folder (per
profile when a --user-data-dir is given, else the documented per-user or system folder on
Linux), checks the caller against `allowed_origins`, and runs the absolute `path` in it:
our launcher, which execs this venv's python on extension_bridge.host.
"""
from __future__ import annotations

import json
import os
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

from extension_bridge.agent_link import SOCKET_ENV
from extension_bridge.extension_id import committed_extension_id

HOST_NAME = "com.shadowmap.bridge"
HOST_DESCRIPTION = "shadowmap native host: relays paste checks from the browser to the local agent"
LAUNCHER_NAME = "shadowmap-bridge-host"

# browser -> scope -> folder for host manifests (Chromium's documented Linux locations)
MANIFEST_DIRS: dict[str, dict[str, str]] = {
    "chromium": {"user": "~/.config/chromium/NativeMessagingHosts", "system": "/etc/chromium/native-messaging-hosts"},
    "chrome": {"user": "~/.config/google-chrome/NativeMessagingHosts", "system": "/etc/opt/chrome/native-messaging-hosts"},
}
BROWSERS = tuple(MANIFEST_DIRS)
SCOPES = ("user", "system")
# where the launcher lives by default: beside the agent's state (docs/internals.md)
STATE_DIRS = {"user": "~/.local/state/shadowmap", "system": "/var/lib/shadowmap"}


@dataclass(frozen=True)
class Installed:
    manifest: Path
    launcher: Path
    extension_id: str


def manifest_dir(browser: str, scope: str = "user", user_data_dir: Path | None = None) -> Path:
    if user_data_dir is not None:
        return Path(user_data_dir).expanduser().resolve() / "NativeMessagingHosts"
    return Path(MANIFEST_DIRS[browser][scope]).expanduser()


def default_launcher_dir(scope: str) -> Path:
    state = os.environ.get("SHADOWMAP_STATE_DIR") or STATE_DIRS[scope]
    return Path(state).expanduser().resolve() / "bridge"


def launcher_script(python: str, socket_path: Path | None) -> str:
    # -I: ignore PYTHON* variables and the user site, so the browser's environment cannot
    # change which code the host runs; the venv's site-packages still apply
    lines = ["#!/bin/sh", "# shadowmap native-messaging host launcher (written by `shadowmap bridge install`)"]
    if socket_path is not None:
        lines.append(f"{SOCKET_ENV}={shlex.quote(str(socket_path))}")
        lines.append(f"export {SOCKET_ENV}")
    lines.append(f'exec {shlex.quote(python)} -I -m extension_bridge.host "$@"')
    return "\n".join(lines) + "\n"


def host_manifest(launcher: Path, extension_id: str) -> dict:
    return {
        "name": HOST_NAME,
        "description": HOST_DESCRIPTION,
        "path": str(launcher),
        "type": "stdio",
        "allowed_origins": [f"chrome-extension://{extension_id}/"],
    }


def _write(path: Path, text: str, mode: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, "utf-8")
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
    if browser not in MANIFEST_DIRS:
        raise ValueError(f"unknown browser {browser!r}; expected one of {', '.join(BROWSERS)}")
    if scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r}; expected user or system")
    ext_id = extension_id or committed_extension_id()
    if len(ext_id) != 32 or not set(ext_id) <= set("abcdefghijklmnop"):
        raise ValueError(f"{ext_id!r} is not a Chromium extension id (32 letters a-p)")
    folder = Path(launcher_dir).expanduser().resolve() if launcher_dir else default_launcher_dir(scope)
    launcher = folder / LAUNCHER_NAME
    resolved_socket = Path(socket_path).expanduser().resolve() if socket_path else None
    # sys.executable, not resolved: resolving a venv's python symlink would leave the venv
    _write(launcher, launcher_script(python or sys.executable, resolved_socket), 0o755)
    manifest = manifest_dir(browser, scope, user_data_dir) / f"{HOST_NAME}.json"
    _write(manifest, json.dumps(host_manifest(launcher, ext_id), indent=2) + "\n", 0o644)
    return Installed(manifest=manifest, launcher=launcher, extension_id=ext_id)
