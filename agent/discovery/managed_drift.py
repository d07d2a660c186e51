"""Drift between an AI tool's managed settings (what the organisation deployed) and a user's own
configs (what they ask it to run). Claude Code's managed-settings.json can list the MCP servers
users may run (allowedMcpServers: undefined means any, [] means none) and those they may not
(deniedMcpServers, which wins), each entry naming exactly one of serverName, serverCommand (the
command and its arguments, matched exactly) or serverUrl (a pattern where * matches anything),
and can switch bypassPermissions mode off (disableBypassPermissionsMode: "disable")
(code.claude.com/docs/en/managed-mcp and /settings). A user config that asks for what these
forbid is reported as the risk flag managed_settings_drift, with the rule it meets.

The same comparison for Codex's requirements.toml (managed_codex) and VS Code's enterprise
policies for Copilot chat (managed_vscode): ``load`` gathers every tool's managed settings on
this device into one ``Managed``, and the drift functions judge a config by the tool it
belongs to. Cursor is not compared: no stored Cursor documentation names a managed-settings
file or policy on the device."""
from __future__ import annotations

import fnmatch
import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Managed:
    """Every AI tool's managed settings found on this device (None: that tool has none)."""
    claude: ClaudeManaged | None = None
    codex: managed_codex.CodexRequirements | None = None
    vscode: managed_vscode.VSCodePolicies | None = None


def load(platform: str = sys.platform, root: Path = Path("/"), env: Mapping[str, str] | None = None,
         read_registry: managed_vscode.RegistryReader = winpolicy.read_tree) -> Managed | None:
    """What the organisation enforces on this device, or None when it enforces nothing we compare."""
    found = Managed(load_claude(platform, root), managed_codex.load(platform, root, env),
                    managed_vscode.load(platform, root, read_registry))
    return None if found == Managed() else found


def applies(path: str) -> bool:
    """Whether a config file belongs to a tool whose managed settings we compare."""
    return claude_applies(path) or managed_codex.applies(path) or managed_vscode.applies(path)


def server_drift(managed: Managed, spec: dict, name: str, path: str) -> Risk | None:
    """An MCP server in the config at ``path`` that its tool's managed settings forbid."""
    if managed.claude is not None and claude_applies(path):
        return claude_server_drift(managed.claude, spec, name)
    if managed.codex is not None and managed_codex.applies(path):
        return managed_codex.server_drift(managed.codex, spec, name)
    if managed.vscode is not None and managed_vscode.applies(path):
        return managed_vscode.server_drift(managed.vscode, name)
    return None


def settings_drift(managed: Managed, doc: Any, path: str) -> list[Risk]:
    """Settings in the config at ``path`` that its tool's managed settings forbid."""
    if managed.claude is not None and claude_applies(path):
        drift = claude_settings_drift(managed.claude, doc)
        return [drift] if drift else []
    if managed.codex is not None and managed_codex.applies(path):
        return managed_codex.settings_drift(managed.codex, doc)
    if managed.vscode is not None and managed_vscode.applies(path):
        return managed_vscode.settings_drift(managed.vscode, doc)
    return []
