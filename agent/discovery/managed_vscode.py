"""Drift from VS Code's enterprise policies for Copilot chat: ChatMCP (chat.mcp.access) "none"
takes every MCP server away, ChatToolsAutoApprove (chat.tools.global.autoApprove) false forbids
the global auto approve ("YOLO mode"). A policy overrides the setting at every level, so a user's
settings.json or mcp.json asking for them is not what runs: managed_settings_drift. Policies are
read where VS Code reads them: /etc/vscode/policy.json on Linux, the managed preferences of
com.microsoft.VSCode on macOS, HKLM\\Software\\Policies\\Microsoft\\VSCode on Windows (through
winpolicy; verified by reading only). Facts are data in detectors/data/managed_settings.yaml."""
from __future__ import annotations

import json
import plistlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shadowmap.agent.discovery import winpolicy
from shadowmap.agent.discovery.managed_codex import MAX_BYTES, facts, under
from shadowmap.agent.discovery.protection import MACOS_MANAGED_PREFERENCES
from shadowmap.agent.discovery.risks import Risk

RegistryReader = Callable[[str], "dict[str, Any] | None"]


@dataclass(frozen=True)
class VSCodePolicies:
    """The policies that bear on AI agents, by policy name (only those set)."""
    values: tuple[tuple[str, Any], ...]

    @classmethod
    def of(cls, doc: Any) -> VSCodePolicies | None:
        if not isinstance(doc, dict):
            return None
        known = facts()["vscode"]["policies"]
        found = tuple(sorted((name, doc[name]) for name in known if name in doc and isinstance(doc[name], (str, int))))
        return cls(found) if found else None

    def get(self, name: str) -> Any:
        return dict(self.values).get(name)


def _read(path: Path) -> Any:
    try:
        if path.stat().st_size > MAX_BYTES:
            return None
        raw = path.read_bytes()
        return plistlib.loads(raw) if path.suffix == ".plist" else json.loads(raw)
    except (OSError, ValueError, plistlib.InvalidFileException):
        return None


def load(platform: str, root: Path = Path("/"),
         read_registry: RegistryReader = winpolicy.read_tree) -> VSCodePolicies | None:
    key = "linux" if platform.startswith("linux") else platform
    vscode = facts()["vscode"]
    if key == "win32":
        tree = read_registry(vscode["windows_key"])
        return VSCodePolicies.of((tree or {}).get("values"))
    if key == "darwin":
        path = f"{MACOS_MANAGED_PREFERENCES}/{vscode['macos_domain']}.plist"
    else:
        path = vscode["policy_files"].get(key)
    return VSCodePolicies.of(_read(under(root, path))) if path else None


def applies(path: str) -> bool:
    normalized = path.replace("\\", "/")
    return any(normalized.endswith("/" + name) or normalized == name for name in facts()["vscode"]["config_files"])


def _is_false(value: Any) -> bool:
    """A boolean policy switched off: false in JSON and plists, 0 as a registry DWORD."""
    return value is False or (isinstance(value, int) and not isinstance(value, bool) and value == 0)


def setting(doc: Any, key: str) -> Any:
    """A VS Code setting: a flat dotted key ("chat.tools.global.autoApprove") or nested objects."""
    if not isinstance(doc, dict):
        return None
    if key in doc:
        return doc[key]
    head, _, rest = key.partition(".")
    return setting(doc.get(head), rest) if rest else doc.get(head)


def server_drift(policies: VSCodePolicies, name: str) -> Risk | None:
    rule = facts()["vscode"]["policies"]["ChatMCP"]
    if policies.get("ChatMCP") == rule["no_servers_when"]:
        return Risk("managed_settings_drift", f"server '{name[:60]}' is configured while the VS Code policy ChatMCP "
                                              f"({rule['setting']}) is '{rule['no_servers_when']}': no MCP server runs")
    return None


def settings_drift(policies: VSCodePolicies, doc: Any) -> list[Risk]:
    rule = facts()["vscode"]["policies"]["ChatToolsAutoApprove"]
    if _is_false(policies.get("ChatToolsAutoApprove")) and setting(doc, rule["setting"]) is True:
        return [Risk("managed_settings_drift", f"{rule['setting']} is true while the VS Code policy "
                                               "ChatToolsAutoApprove forbids global auto approve")]
    return []
