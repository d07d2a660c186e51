"""Process source: running processes matched against the catalog by executable name, macOS
bundle id (read from the app's Info.plist) or command-line pattern. The version comes from
metadata on disk (bundle plist, the npm package.json of a node CLI, an Electron app's
package.json, the dist-info of a pip/pipx-installed console script), never by running the
binary. Of a command line only what a managed-settings check or a risk rule reads is kept (a
codex's approval and sandbox flags, an agent CLI's options that switch approvals off, enum
values only): never prompts, other values or paths."""
from __future__ import annotations

import importlib.metadata
import json
import os
import plistlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psutil

from shadowmap.agent.discovery import Observation, managed_codex
from shadowmap.agent.discovery.risks import MAX_RISKS, Risk, command_line_risks
from shadowmap.detectors.ai_names import looks_like_ai

if TYPE_CHECKING:
    from shadowmap.detectors.catalog import Catalog

ATTRS = ["pid", "name", "exe", "cmdline", "username", "cwd"]
# what a process outside the catalog is reported by: a plain program or module name (never an
# option, a value or a path's folders: that is where tokens and user names live)
_PLAIN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$")
MAX_CMDLINE_CHARS = 4096          # patterns look at the start of very long command lines only
PACKAGE_WALK_DEPTH = 6
_APP_MARK = ".app/Contents/"


@dataclass(frozen=True)
class ProcessMatch:
    tool_id: str | None         # None: not in the catalog, but its name looks like an AI tool's
    pid: int
    name: str
    exe: str | None
    user: str | None
    matched_by: str
    version: str | None
    cwd: str | None
    # the documented settings its command line asks for (codex only: managed_codex.run_settings)
    run_settings: tuple[managed_codex.RunSetting, ...] = ()
    # approvals switched off by its own options (agent_risks.yaml command_line: gemini --yolo...)
    risks: tuple[Risk, ...] = ()


@lru_cache(maxsize=256)
def _bundle_info(app_dir: str, mtime: float) -> tuple[str | None, str | None]:
    try:
        with open(os.path.join(app_dir, "Contents", "Info.plist"), "rb") as fh:
            info = plistlib.load(fh)
    except (OSError, plistlib.InvalidFileException, ValueError):
        return None, None
    ident, version = info.get("CFBundleIdentifier"), info.get("CFBundleShortVersionString")
    return (ident if isinstance(ident, str) else None, str(version)[:64] if version else None)


def bundle_of(exe: str | None) -> tuple[str | None, str | None]:
    """(bundle id, version) of the macOS app an executable lives in, or (None, None)."""
    if not exe or _APP_MARK not in exe:
        return None, None
    app_dir = exe[: exe.index(_APP_MARK) + len(".app")]
    try:
        mtime = os.stat(os.path.join(app_dir, "Contents", "Info.plist")).st_mtime
    except OSError:
        return None, None
    return _bundle_info(app_dir, mtime)


@lru_cache(maxsize=512)
def _package_version(path: str, mtime: float) -> str | None:
    try:
        data = json.loads(Path(path).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    version = data.get("version") if isinstance(data, dict) else None
    return str(version)[:64] if isinstance(version, (str, int, float)) else None


def _package_json_version(folder: Path) -> str | None:
    candidate = folder / "package.json"
    try:
        mtime = candidate.stat().st_mtime
    except OSError:
        return None
    return _package_version(str(candidate), mtime)


def package_version(paths: Iterable[str]) -> str | None:
    """The version of the npm package (inside node_modules) or Electron app (resources/app)
    a script or executable belongs to. A package.json elsewhere (a user's project) is ignored."""
    for raw in paths:
        if not raw or not os.path.isabs(raw):
            continue
        path = Path(raw)
        for folder in list(path.parents)[:PACKAGE_WALK_DEPTH]:
            parent = folder.parent
            in_node_modules = parent.name == "node_modules" or (
                parent.name.startswith("@") and parent.parent.name == "node_modules")
            if in_node_modules:
                return _package_json_version(folder)
        version = _package_json_version(path.parent / "resources" / "app")
        if version:
            return version
    return None


_SITE_DIRS = ("lib/python3*/site-packages", "lib/python3*/dist-packages", "Lib/site-packages")
_SCRIPT_GROUPS = ("console_scripts", "gui_scripts")


@lru_cache(maxsize=64)
def _console_scripts(site_dir: str, mtime: float) -> dict[str, str]:
    """console script name -> version of the distribution installing it, from the
    ``*.dist-info`` metadata in one site-packages folder (re-read when the folder changes)."""
    scripts: dict[str, str] = {}
    for dist in importlib.metadata.distributions(path=[site_dir]):
        try:
            version = dist.version
            entry_points = dist.entry_points
        except Exception:            # a broken METADATA must not stop the process pass
            continue
        for entry in entry_points:
            if entry.group in _SCRIPT_GROUPS and version:
                scripts.setdefault(entry.name, str(version)[:64])
    return scripts


def console_script_version(paths: Iterable[str]) -> str | None:
    """The version of the pip/pipx/uv-installed distribution whose console script a process
    runs (``<prefix>/bin/aider`` -> ``<prefix>/lib/python3*/site-packages/aider_chat-*.dist-info``),
    read from its metadata on disk; the tool is never run."""
    for raw in paths:
        if not raw or not os.path.isabs(raw):
            continue
        script = Path(os.path.realpath(raw))
        if script.parent.name not in ("bin", "Scripts"):
            continue
        name = script.name.removesuffix(".exe").removesuffix("-script.py")
        prefix = script.parent.parent
        for pattern in _SITE_DIRS:
            for site_dir in sorted(prefix.glob(pattern)):
                try:
                    mtime = site_dir.stat().st_mtime
                except OSError:
                    continue
                version = _console_scripts(str(site_dir), mtime).get(name)
                if version:
                    return version
    return None


class ProcessMatcher:
    def __init__(self, catalog: Catalog):
        self.catalog = catalog
        self.patterns = [(tool.id, re.compile(p)) for tool in catalog.tools
                         for p in getattr(tool, "cmdline_patterns", ())]

    def match(self, info: dict) -> tuple[str, str, str | None] | None:
        """(tool id, matched_by, version from the bundle) for one process's attrs, or None."""
        exe = info.get("exe") or None
        bundle_id, bundle_version = bundle_of(exe)
        tool = self.catalog.match_bundle(bundle_id) if bundle_id else None
        if tool is not None:
            return tool.id, "bundle_id", bundle_version
        for name in (info.get("name"), os.path.basename(exe) if exe else None):
            tool = self.catalog.match_process(name) if name else None
            if tool is not None:
                return tool.id, "name", bundle_version
        cmdline = info.get("cmdline") or []
        if self.patterns and cmdline:
            line = " ".join(cmdline)[:MAX_CMDLINE_CHARS]
            for tool_id, pattern in self.patterns:
                if pattern.search(line):
                    return tool_id, "cmdline", bundle_version
        return None

    def scan(self, skip_pids: Iterable[int] = ()) -> list[ProcessMatch]:
        """One pass over the process table; processes we may not read are matched on what
        psutil could read (AccessDenied fields come back as None)."""
        skip = set(skip_pids)
        found: list[ProcessMatch] = []
        for proc in psutil.process_iter(ATTRS, ad_value=None):
            info = proc.info
            if info.get("pid") in skip:
                continue
            hit = self.match(info)
            if hit is None:
                unknown = ai_looking_name(info)
                if unknown:
                    found.append(ProcessMatch(None, info["pid"], unknown, info.get("exe"), info.get("username"),
                                              "name", None, info.get("cwd")))
                continue
            tool_id, matched_by, version = hit
            cmdline = info.get("cmdline") or []
            version = version or package_version([info.get("exe") or "", *cmdline[1:3]]) \
                or console_script_version([*cmdline[1:2], info.get("exe") or "", *cmdline[:1]])
            settings = managed_codex.run_settings(cmdline) if tool_id == managed_codex.TOOL_ID else ()
            found.append(ProcessMatch(tool_id, info["pid"], info.get("name") or "", info.get("exe"),
                                      info.get("username"), matched_by, version, info.get("cwd"), settings,
                                      tuple(command_line_risks(tool_id, cmdline))))
        return found


def ai_looking_name(info: dict) -> str | None:
    """The name an uncatalogued process goes by when it looks like an AI tool's: its own name,
    its executable's, or the program or module an interpreter runs (``python -m vllm...``)."""
    exe = info.get("exe") or ""
    cmdline = info.get("cmdline") or []
    candidates = [info.get("name") or "", os.path.basename(exe)]
    candidates += [os.path.basename(arg) for arg in cmdline[1:3] if isinstance(arg, str) and not arg.startswith("-")]
    for candidate in candidates:
        if candidate and _PLAIN_NAME.match(candidate) and looks_like_ai(candidate):
            return candidate
    return None


RunDrift = Callable[[ProcessMatch], list[Risk]]


def observations(matches: Iterable[ProcessMatch], fallback_user: str, drift: RunDrift | None = None) -> list[Observation]:
    """One observation per tool × user × executable (many helper processes are one app). The
    risks ``drift`` finds in any of its processes are merged into it, sorted, so one pass and
    the next give the same fingerprint: a new or gone risk is a change, the same ones are not."""
    seen: dict[tuple, tuple[ProcessMatch, set[Risk]]] = {}
    for m in matches:
        key = ("process", m.tool_id, m.user or fallback_user, m.exe or m.name)
        risks = set(drift(m)) if drift is not None and m.run_settings else set()
        risks.update(m.risks)
        if key in seen:
            seen[key][1].update(risks)
        else:
            seen[key] = (m, risks)
    return [_observation(key, m, sorted(risks, key=lambda r: (r.flag, r.evidence))[:MAX_RISKS], fallback_user)
            for key, (m, risks) in seen.items()]


def _observation(key: tuple, m: ProcessMatch, risks: list[Risk], fallback_user: str) -> Observation:
    data: dict[str, Any] = {"tool_id": m.tool_id, "source": "process", "process": m.name[:256] or "?",
                            "matched_by": m.matched_by}
    if m.exe:
        data["exe"] = m.exe[:1024]
    if m.version:
        data["version"] = m.version
    if m.user:
        data["process_user"] = m.user[:256]
    fingerprint = m.version or ""          # unchanged for a process without risks
    if risks:
        data["risks"] = [r.as_event() for r in risks]
        fingerprint += "|" + json.dumps(data["risks"], sort_keys=True)
    return Observation("ai_tool.observed", key, fingerprint, m.user or fallback_user, data)
