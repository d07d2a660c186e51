"""AI tool configs and AI workspaces: which files to look at, and what is in them.

Targets are the catalog's ``config_paths`` in each user's home, plus the marker files of
project folders that are AI workspaces (``.cursor/``, ``CLAUDE.md``, ``AGENTS.md``,
``.aider*``, ...) and the ``.env`` files beside them. Each file is read (bounded), its MCP
servers inventoried and its text scanned by the detectors; a secret found raises the finding
"AI tool with production read access via copied secrets" with keyed hashes, never values.
"""
from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shadowmap.agent.discovery import Observation, managed_drift, mcp, risks
from shadowmap.detectors.hashing import Scan, Summarize

if TYPE_CHECKING:
    from shadowmap.detectors.catalog import Catalog

log = logging.getLogger(__name__)

FINDING_TITLE = "AI tool with production read access via copied secrets"
MAX_FILE_BYTES = 512 * 1024      # a config bigger than this is scanned in its first 512 KiB
CHUNK_CHARS = 16 * 1024          # the engine lock is taken per chunk: pastes never wait long
CHUNK_OVERLAP = 1024
# what a config may hold that gives an AI tool production access
SECRET_CLASSES = {"secret"}
CREDENTIAL_ENTITIES = {"DB_CONNECTION_URL"}
# a folder holding one of these is an AI workspace (marker -> tool)
WORKSPACE_MARKERS = {
    ".cursor": "cursor", ".cursorrules": "cursor", "CLAUDE.md": "claude-code", ".claude": "claude-code",
    ".mcp.json": "claude-code", "AGENTS.md": "codex-cli", "GEMINI.md": "gemini-cli", ".gemini": "gemini-cli",
    ".windsurf": "windsurf", ".windsurfrules": "windsurf", ".aider.conf.yml": "aider",
}
MARKER_PREFIXES = {".aider": "aider"}
# files scanned inside a workspace (plus every .env* and .aider* at its top)
WORKSPACE_FILES = (
    ".mcp.json", ".cursor/mcp.json", ".vscode/mcp.json", ".vscode/settings.json",
    ".claude/settings.json", ".claude/settings.local.json", ".gemini/settings.json",
    ".windsurf/mcp.json", "CLAUDE.md", "AGENTS.md", "GEMINI.md", ".cursorrules", ".windsurfrules",
    "CLAUDE.local.md", ".github/copilot-instructions.md", ".codex/config.toml", ".cursor/cli.json",
)
TOP_GLOBS = (".env*", ".aider*")
MAX_TOP_GLOB = 20
WORKSPACE_DEPTH = 2
MAX_WORKSPACES = 500


@dataclass(frozen=True)
class Target:
    path: Path
    tool_id: str | None
    user: str
    workspace: str | None = None
    home: str | None = None     # the user's home, for configs found in one


def expand(pattern: str, home: Path, platform: str = sys.platform) -> Path | None:
    """A catalog config path for one home; None where it does not apply on this OS."""
    if "Library/" in pattern and platform != "darwin":
        return None                       # macOS-only locations are not watched elsewhere
    if pattern.startswith("~"):
        return home / pattern[2:] if pattern.startswith("~/") else home
    if pattern.startswith("%APPDATA%"):
        return home / "AppData" / "Roaming" / pattern[len("%APPDATA%/"):] if platform == "win32" else None
    if pattern.startswith("%"):
        return None
    return Path(pattern)


def tool_config_targets(catalog: Catalog, homes: Iterable[tuple[str, Path]], system_user: str) -> list[Target]:
    targets: dict[Path, Target] = {}
    for user, home in homes:
        for tool in catalog.tools:
            for pattern in getattr(tool, "config_paths", ()):
                path = expand(pattern, home)
                if path is not None and path not in targets:
                    owner = user if pattern.startswith(("~", "%")) else system_user
                    in_home = pattern.startswith(("~", "%"))
                    targets[path] = Target(path, tool.id, owner, home=str(home) if in_home else None)
        for pattern, tool_id in risks.home_settings_files():     # settings only the risk rules read
            path = expand(pattern, home)
            if path is not None and path not in targets:
                targets[path] = Target(path, tool_id, user, home=str(home))
    return list(targets.values())


def workspace_tool(folder: Path) -> str | None:
    """The tool a folder is an AI workspace of, or None when it is not one."""
    try:
        names = {entry.name for entry in os.scandir(folder)}
    except OSError:
        return None
    for marker, tool_id in WORKSPACE_MARKERS.items():
        if marker in names:
            return tool_id
    for name in names:
        for prefix, tool_id in MARKER_PREFIXES.items():
            if name.startswith(prefix):
                return tool_id
    return None


def find_workspaces(roots: Iterable[Path], depth: int = WORKSPACE_DEPTH) -> list[Path]:
    """AI workspaces at most ``depth`` levels under each root (hidden folders skipped)."""
    found: list[Path] = []
    level = [r for r in roots if r.is_dir()]
    for _ in range(depth + 1):
        below: list[Path] = []
        for folder in level:
            if workspace_tool(folder):
                found.append(folder)
            try:
                below.extend(Path(e.path) for e in os.scandir(folder)
                             if e.is_dir(follow_symlinks=False) and not e.name.startswith("."))
            except OSError:
                continue
        level = below[:MAX_WORKSPACES * 10]
        if len(found) >= MAX_WORKSPACES:
            break
    return found[:MAX_WORKSPACES]


def claude_code_projects(home: Path) -> list[Path]:
    """Project folders Claude Code has been used in (the keys of ~/.claude.json projects)."""
    path = home / ".claude.json"
    try:
        if path.stat().st_size > 16 * MAX_FILE_BYTES:
            return []
        projects = json.loads(path.read_text("utf-8")).get("projects", {})
    except (OSError, ValueError, AttributeError):
        return []
    return [Path(p) for p in projects if isinstance(p, str) and os.path.isabs(p)] if isinstance(projects, dict) else []


def workspace_targets(folder: Path, user: str) -> list[Target]:
    tool_id = workspace_tool(folder)
    if tool_id is None:
        return []
    paths = [folder / rel for rel in WORKSPACE_FILES]
    for pattern in TOP_GLOBS:
        try:
            paths.extend(sorted(folder.glob(pattern))[:MAX_TOP_GLOB])
        except OSError:
            continue
    unique = dict.fromkeys(p for p in paths if p.is_file())
    return [Target(p, tool_id, user, str(folder)) for p in unique]


def chunks(text: str, size: int = CHUNK_CHARS, overlap: int = CHUNK_OVERLAP) -> Iterable[tuple[int, str]]:
    """(offset, piece) covering text; pieces overlap so a value on a boundary is seen whole."""
    if len(text) <= size:
        yield 0, text
        return
    start = 0
    while start < len(text):
        end = min(len(text), start + size)
        if end < len(text):
            cut = text.rfind("\n", start + size // 2, end)
            end = cut + 1 if cut > 0 else end
        yield start, text[start:end]
        if end >= len(text):
            return
        start = max(start + 1, end - overlap)


class ConfigScanner:
    """Reads and scans one target. ``scan`` is the detector engine's ``scan`` (thread-safe
    wrapper); ``summarize`` is shadowmap.detectors.hashing.summarize; ``org_key`` gives the hash key."""

    def __init__(self, scan: Scan | None, summarize: Summarize | None, org_key: Callable[[], bytes],
                 is_catalog_host: Callable[[str], bool] | None = None):
        self.scan_text = scan
        self.summarize = summarize
        self.org_key = org_key
        self.is_catalog_host = is_catalog_host
        self.managed: managed_drift.Managed | None = None   # set by discovery before each pass

    def read(self, path: Path) -> str | None:
        try:
            with open(path, "rb") as fh:
                raw = fh.read(MAX_FILE_BYTES)
        except OSError as exc:               # unreadable, vanished, a directory: never fatal
            log.debug("cannot read %s: %s", path, exc)
            return None
        return raw.decode("utf-8", errors="replace")

    def findings(self, text: str) -> list[dict]:
        if self.scan_text is None or self.summarize is None:
            return []
        seen: dict[tuple, Any] = {}
        for offset, piece in chunks(text):
            for f in self.scan_text(piece):
                moved = replace(f, start=f.start + offset, end=f.end + offset)
                seen.setdefault((moved.entity_type, moved.start, moved.end), moved)
        wanted = [f for f in seen.values()
                  if f.data_class in SECRET_CLASSES or f.entity_type in CREDENTIAL_ENTITIES]
        return self.summarize(sorted(wanted, key=lambda f: f.start), text, self.org_key())[:50]

    def scan(self, target: Target) -> tuple[list[Observation], bool]:
        """Observations from one file, and whether it could be read."""
        text = self.read(target.path)
        if text is None:
            return [], False
        found: list[Observation] = []
        path = str(target.path)[:1024]
        home = target.home or _home_of(target.path)

        drift_applies = self.managed is not None and managed_drift.applies(path)

        def judge(spec: dict, name: str, workspace: str | None) -> list[dict]:
            where = workspace or target.workspace
            found = risks.server_risks(spec, name, where, home, self.is_catalog_host)
            drift = managed_drift.server_drift(self.managed, spec, name, path) if drift_applies and self.managed else None
            return [r.as_event() for r in (*found, *([drift] if drift else []))][:risks.MAX_RISKS]

        doc = mcp.parse_document(text, path)
        servers = mcp.servers(doc, judge)
        for server in servers:
            data = {"tool_id": target.tool_id, "config_path": path, **server}
            if target.workspace and "workspace" not in data:
                data["workspace"] = target.workspace[:1024]
            key = ("mcp_server", target.user, path, data.get("workspace"), server["name"])
            found.append(Observation("mcp_server.observed", key, json.dumps(data, sort_keys=True),
                                     target.user, data))
        summary = self.findings(text)
        if summary:
            data = {"finding": FINDING_TITLE, "severity": "critical", "tool_id": target.tool_id,
                    "path": path, "findings": summary}
            if target.workspace:
                data["workspace"] = target.workspace[:1024]
            fingerprint = json.dumps(sorted(h for f in summary for h in f["hashes"]))
            found.append(Observation("ai_config.finding", ("config_finding", target.user, path),
                                     fingerprint, target.user, data, daily=False))
        risk = self.file_risks(target, text, doc, holds_secrets=bool(summary) or any(
            r["flag"] == "plaintext_secret" for s in servers for r in s.get("risks", ())))
        if risk is not None:
            found.append(risk)
        return found, True

    def file_risks(self, target: Target, text: str, doc: Any, holds_secrets: bool) -> Observation | None:
        """An ai_config.risk observation for the file's own risks: agent settings that switch
        approvals off, hidden text in instruction files, loose file modes."""
        path = str(target.path)[:1024]
        found = risks.settings_risks(doc, path)
        if self.managed is not None and managed_drift.applies(path):
            found.extend(managed_drift.settings_drift(self.managed, doc, path))
        if risks.is_instruction_file(path):
            found.extend(risks.instruction_risks(text))
        found.extend(risks.mode_risks(target.path, holds_secrets))
        if not found:
            return None
        data: dict[str, Any] = {"tool_id": target.tool_id, "path": path,
                                "risks": [r.as_event() for r in found[:risks.MAX_RISKS]]}
        if target.workspace:
            data["workspace"] = target.workspace[:1024]
        return Observation("ai_config.risk", ("config_risk", target.user, path),
                           json.dumps(data["risks"], sort_keys=True), target.user, data)


def _home_of(path: Path) -> str | None:
    """The home folder a config path lies in (/home/<u>, /Users/<u>, C:\\Users\\<u>, /root)."""
    parts = path.parts
    for i, part in enumerate(parts[:-1]):
        if part in ("home", "Users") and i + 1 < len(parts) - 1:
            return str(Path(*parts[:i + 2]))
    return "/root" if parts[:2] == ("/", "root") else None
