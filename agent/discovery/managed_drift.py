"""Drift between an AI tool's managed settings (what the organisation deployed) and a user's own
configs (what they ask it to run). Claude Code's managed-settings.json can list the MCP servers
users may run (allowedMcpServers: undefined means any, [] means none) and those they may not
(deniedMcpServers, which wins), each entry naming exactly one of serverName, serverCommand (the
command and its arguments, matched exactly) or serverUrl (a pattern where * matches anything),
and can switch bypassPermissions mode off (disableBypassPermissionsMode: "disable")
(code.claude.com/docs/en/managed-mcp and /settings). A user config that asks for what these
forbid is reported as the risk flag managed_settings_drift, with the rule it meets.

The same comparison for Codex's requirements.toml (managed_codex), VS Code's enterprise
policies for Copilot chat (managed_vscode) and GitHub Copilot's file-based managed-settings.json
(the same allow and deny entries as Claude Code's, read here): ``load`` gathers every tool's managed settings on
this device into one ``Managed``, and the drift functions judge a config by the tool it
belongs to. Cursor is not compared: no stored Cursor documentation names a managed-settings
file or policy on the device."""
from __future__ import annotations

import fnmatch
import json
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from shadowmap.agent.discovery import managed_codex, managed_vscode, winpolicy
from shadowmap.agent.discovery.risks import Risk

# where Claude Code reads its managed settings (its docs); the catalog watches them too
CLAUDE_MANAGED_SETTINGS = {
    "linux": Path("/etc/claude-code/managed-settings.json"),
    "darwin": Path("/Library/Application Support/ClaudeCode/managed-settings.json"),
    "win32": Path("C:/Program Files/ClaudeCode/managed-settings.json"),
}
CLAUDE_CODE_FILES = (".claude.json", ".mcp.json", ".claude/settings.json", ".claude/settings.local.json")
MAX_BYTES = 1024 * 1024


@dataclass(frozen=True)
class ClaudeManaged:
    """What Claude Code's managed settings forbid (None: that list is not set)."""
    allowed: tuple[dict, ...] | None
    denied: tuple[dict, ...]
    bypass_disabled: bool

    @classmethod
    def of(cls, doc: Any) -> ClaudeManaged | None:
        if not isinstance(doc, dict):
            return None
        allowed = doc.get("allowedMcpServers")
        denied = doc.get("deniedMcpServers")
        return cls(tuple(e for e in allowed if isinstance(e, dict)) if isinstance(allowed, list) else None,
                   tuple(e for e in denied if isinstance(e, dict)) if isinstance(denied, list) else (),
                   doc.get("disableBypassPermissionsMode") == "disable")


def load_claude(platform: str = sys.platform, root: Path = Path("/")) -> ClaudeManaged | None:
    key = "linux" if platform.startswith("linux") else platform
    path = CLAUDE_MANAGED_SETTINGS.get(key)
    if path is None:
        return None
    target = path if root == Path("/") else root / str(path).lstrip("/")
    try:
        if target.stat().st_size > MAX_BYTES:
            return None
        return ClaudeManaged.of(json.loads(target.read_text("utf-8")))
    except (OSError, ValueError):
        return None


def claude_applies(path: str) -> bool:
    """Whether a config file is one of Claude Code's own (its managed settings govern it)."""
    normalized = path.replace("\\", "/")
    return any(normalized.endswith("/" + name) or normalized == name for name in CLAUDE_CODE_FILES)


def _matches(entry: dict, name: str, command: list[str] | None, url: str | None) -> str | None:
    """How an allow/deny entry names this server, or None when it does not."""
    if "serverName" in entry and entry["serverName"] == name:
        return f"serverName {name!r}"
    if "serverCommand" in entry and command is not None and entry["serverCommand"] == command:
        return "its exact serverCommand"
    if "serverUrl" in entry and url and fnmatch.fnmatchcase(url, str(entry["serverUrl"])):
        return f"serverUrl {entry['serverUrl']!r}"
    return None


def claude_server_drift(managed: ClaudeManaged, spec: dict, name: str) -> Risk | None:
    command = spec.get("command") if isinstance(spec.get("command"), str) else None
    args = [a for a in spec.get("args", []) if isinstance(a, str)] if isinstance(spec.get("args"), list) else []
    argv = [command, *args] if command else None
    url = next((spec[k] for k in ("url", "serverUrl", "httpUrl") if isinstance(spec.get(k), str)), None)
    for entry in managed.denied:
        how = _matches(entry, name, argv, url)
        if how:
            return Risk("managed_settings_drift", f"server '{name[:60]}' is denied by the managed deniedMcpServers ({how})")
    if managed.allowed is not None and not any(_matches(e, name, argv, url) for e in managed.allowed):
        return Risk("managed_settings_drift", f"server '{name[:60]}' is not in the managed allowedMcpServers")
    return None


def claude_settings_drift(managed: ClaudeManaged, doc: Any) -> Risk | None:
    mode = doc.get("permissions", {}).get("defaultMode") if isinstance(doc, dict) and \
        isinstance(doc.get("permissions"), dict) else None
    if managed.bypass_disabled and mode == "bypassPermissions":
        return Risk("managed_settings_drift", "permissions.defaultMode is bypassPermissions while the managed "
                                              "settings disable that mode")
    return None


def load_copilot(platform: str = sys.platform, root: Path = Path("/"),
                 env: Mapping[str, str] | None = None) -> ClaudeManaged | None:
    """GitHub Copilot's file-based managed-settings.json: the same allow and deny entries as Claude
    Code's, and permissions.disableBypassPermissionsMode (managed_settings.yaml, with sources)."""
    key = "linux" if platform.startswith("linux") else platform
    path = managed_codex.facts()["github_copilot"]["files"].get(key)
    if not path:
        return None
    program_files = (env if env is not None else os.environ).get("ProgramFiles", "C:/Program Files")
    target = managed_codex.under(root, path.replace("%ProgramFiles%", program_files))
    try:
        if target.stat().st_size > MAX_BYTES:
            return None
        doc = json.loads(target.read_text("utf-8"))
    except (OSError, ValueError):
        return None
    found = ClaudeManaged.of(doc)
    permissions = doc.get("permissions") if isinstance(doc, dict) else None
    bypass = isinstance(permissions, dict) and permissions.get("disableBypassPermissionsMode") == "disable"
    return replace(found, bypass_disabled=bypass) if found is not None else None


def copilot_applies(path: str) -> bool:
    normalized = path.replace("\\", "/")
    return any(normalized.endswith("/" + name) or normalized == name
               for name in managed_codex.facts()["github_copilot"]["config_files"])


def copilot_server_drift(managed: ClaudeManaged, spec: dict, name: str) -> Risk | None:
    drift = claude_server_drift(managed, spec, name)
    return Risk(drift.flag, drift.evidence.replace("the managed ", "GitHub Copilot's managed ")) if drift else None


def copilot_settings_drift(managed: ClaudeManaged, doc: Any) -> Risk | None:
    setting = managed_codex.facts()["github_copilot"]["bypass_setting"]
    if managed.bypass_disabled and managed_vscode.setting(doc, setting) is True:
        return Risk("managed_settings_drift", f"{setting} is true while GitHub Copilot's managed settings disable "
                                              "bypass (permissions.disableBypassPermissionsMode)")
    return None


@dataclass(frozen=True)
class Managed:
    """Every AI tool's managed settings found on this device (None: that tool has none)."""
    claude: ClaudeManaged | None = None
    codex: managed_codex.CodexRequirements | None = None
    vscode: managed_vscode.VSCodePolicies | None = None
    copilot: ClaudeManaged | None = None


def load(platform: str = sys.platform, root: Path = Path("/"), env: Mapping[str, str] | None = None,
         read_registry: managed_vscode.RegistryReader = winpolicy.read_tree) -> Managed | None:
    """What the organisation enforces on this device, or None when it enforces nothing we compare."""
    found = Managed(load_claude(platform, root), managed_codex.load(platform, root, env),
                    managed_vscode.load(platform, root, read_registry), load_copilot(platform, root, env))
    return None if found == Managed() else found


def applies(path: str) -> bool:
    """Whether a config file belongs to a tool whose managed settings we compare."""
    return claude_applies(path) or managed_codex.applies(path) or managed_vscode.applies(path) \
        or copilot_applies(path)


def server_drift(managed: Managed, spec: dict, name: str, path: str) -> Risk | None:
    """An MCP server in the config at ``path`` that its tool's managed settings forbid (the first
    rule that does, when two tools govern the file: VS Code's policies, then Copilot's settings)."""
    found: list[Risk | None] = []
    if managed.claude is not None and claude_applies(path):
        found.append(claude_server_drift(managed.claude, spec, name))
    if managed.codex is not None and managed_codex.applies(path):
        found.append(managed_codex.server_drift(managed.codex, spec, name))
    if managed.vscode is not None and managed_vscode.applies(path):
        found.append(managed_vscode.server_drift(managed.vscode, name))
    if managed.copilot is not None and copilot_applies(path):
        found.append(copilot_server_drift(managed.copilot, spec, name))
    return next((risk for risk in found if risk is not None), None)


def settings_drift(managed: Managed, doc: Any, path: str) -> list[Risk]:
    """Settings in the config at ``path`` that its tool's managed settings forbid."""
    found: list[Risk] = []
    if managed.claude is not None and claude_applies(path):
        drift = claude_settings_drift(managed.claude, doc)
        found.extend([drift] if drift else [])
    if managed.codex is not None and managed_codex.applies(path):
        found.extend(managed_codex.settings_drift(managed.codex, doc))
    if managed.vscode is not None and managed_vscode.applies(path):
        found.extend(managed_vscode.settings_drift(managed.vscode, doc))
    if managed.copilot is not None and copilot_applies(path):
        drift = copilot_settings_drift(managed.copilot, doc)
        found.extend([drift] if drift else [])
    return found
