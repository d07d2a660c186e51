"""Folders recently opened in VS Code and its forks (Cursor, Windsurf, VSCodium): each
window's ``User/workspaceStorage/<hash>/workspace.json`` names its folder as a ``file://``
URI. Those folders are candidate AI workspaces; the caller checks them for markers
(``.cursor/``, ``CLAUDE.md``, ``AGENTS.md``, ``.aider*``...). Targeted reads of a few small
files, never a walk or a recursive watch of the home."""
from __future__ import annotations

import json
import os
import re
import stat
import time
from pathlib import Path
from urllib.parse import unquote, urlsplit

from shadowmap.agent.discovery.configs import expand

EDITORS = ("Code", "Code - Insiders", "VSCodium", "Cursor", "Windsurf")
STORAGE_PATTERNS = (                        # configs.expand picks the ones of this OS
    "~/.config/{app}/User/workspaceStorage",
    "~/Library/Application Support/{app}/User/workspaceStorage",
    "%APPDATA%/{app}/User/workspaceStorage",
)
MAX_RECENT = 100                  # newest windows across all editors of one home
MAX_AGE_DAYS = 90                 # a folder not opened for this long is not "in use"
MAX_ENTRIES = 5000                # workspaceStorage folders looked at per editor
MAX_FILE_BYTES = 64 * 1024
_DRIVE = re.compile(r"^/[A-Za-z]:")


def folder_of_uri(uri: object) -> Path | None:
    """The local folder a ``file://`` URI names (remote, untitled and other schemes: None)."""
    if not isinstance(uri, str) or len(uri) > 4096:
        return None
    try:
        parts = urlsplit(uri)
    except ValueError:
        return None
    if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
        return None
    path = unquote(parts.path)
    if _DRIVE.match(path):                    # file:///c%3A/Users/a/src -> c:/Users/a/src
        path = path[1:]
    return Path(path) if path and (os.path.isabs(path) or _DRIVE.match("/" + path)) else None


def storage_dirs(home: Path) -> list[Path]:
    found = []
    for pattern in STORAGE_PATTERNS:
        for app in EDITORS:
            path = expand(pattern.format(app=app), home)
            if path is not None and path.is_dir():
                found.append(path)
    return found


def _windows(storage: Path) -> list[tuple[float, Path]]:
    """(mtime, workspace.json) of each window the editor remembers."""
    found = []
    try:
        with os.scandir(storage) as entries:
            for n, entry in enumerate(entries):
                if n >= MAX_ENTRIES:
                    break
                candidate = Path(entry.path) / "workspace.json"
                try:
                    st = candidate.stat()
                except OSError:
                    continue
                if stat.S_ISREG(st.st_mode):      # a FIFO planted here would block the pass
                    found.append((st.st_mtime, candidate))
    except OSError:
        pass
    return found


def recent_folders(home: Path, now: float | None = None) -> list[Path]:
    """Folders opened in the editors of one home, newest first, existing ones only."""
    horizon = (time.time() if now is None else now) - MAX_AGE_DAYS * 86400
    windows = sorted((w for storage in storage_dirs(home) for w in _windows(storage)), reverse=True)
    folders: list[Path] = []
    for mtime, path in windows:
        if mtime < horizon or len(folders) >= MAX_RECENT:
            break
        try:
            with open(path, "rb") as fh:
                doc = json.loads(fh.read(MAX_FILE_BYTES))
        except (OSError, ValueError):
            continue
        folder = folder_of_uri(doc.get("folder")) if isinstance(doc, dict) else None
        if folder is not None and folder not in folders and folder.is_dir():
            folders.append(folder)
    return folders
