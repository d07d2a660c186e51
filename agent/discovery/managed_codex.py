"""Drift from Codex's admin-enforced requirements (requirements.toml): the approval policies and
sandbox modes a user may pick, and the MCP servers they may enable (name and identity). Codex
reads them from a system file and, on macOS, from MDM-managed preferences (base64 TOML); an
earlier layer wins per field. A user config (~/.codex/config.toml, a project's
.codex/config.toml, their profiles) asking for what they forbid is managed_settings_drift:
Codex silently falls back or disables the server, so what the user set up is not what runs.
``command_line_drift`` judges a running codex's flags the same way: process discovery keeps only
``run_settings`` of a codex command line and attaches the drift to its ai_tool.observed.
Facts (paths, keys) are data in detectors/data/managed_settings.yaml with their sources."""
from __future__ import annotations

import base64
import binascii
import functools
import os
import plistlib
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from shadowmap.agent.discovery.protection import MACOS_MANAGED_PREFERENCES
from shadowmap.agent.discovery.risks import Risk
from shadowmap.detectors.catalog import BUNDLED_CATALOG

FACTS_FILE = BUNDLED_CATALOG.parent / "managed_settings.yaml"
MAX_BYTES = 1024 * 1024


@functools.cache
def facts() -> dict[str, Any]:
    with open(FACTS_FILE, encoding="utf-8") as fh:
        loaded: dict[str, Any] = yaml.safe_load(fh)
    return loaded


@dataclass(frozen=True)
class CodexRequirements:
    """What the requirements allow; None where a field is not constrained."""
    allowed: tuple[tuple[str, tuple[str, ...]], ...]        # (config key, allowed values)
    mcp_servers: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] | None   # (name, identity items)

    @classmethod
    def of(cls, doc: Any) -> CodexRequirements | None:
        if not isinstance(doc, dict):
            return None
        allowed = []
        for requirement, setting in facts()["codex"]["allowed_values"].items():
            values = doc.get(requirement)
            if isinstance(values, list):
                allowed.append((setting, tuple(str(v) for v in values if isinstance(v, str))))
        servers = doc.get("mcp_servers")
        listed = None
        if isinstance(servers, dict):
            keys = facts()["codex"]["mcp_identity_keys"]
            listed = tuple(sorted(
                (str(name), tuple(sorted((k, str(v)) for k, v in (entry.get("identity") or {}).items()
                                         if k in keys and isinstance(v, str))))
                for name, entry in servers.items() if isinstance(entry, dict)
                and isinstance(entry.get("identity", {}), dict)))
        if not allowed and listed is None:
            return None
        return cls(tuple(allowed), listed)

    def merged_over(self, later: CodexRequirements | None) -> CodexRequirements:
        """This layer over a later (lower-precedence) one: a field set here wins."""
        if later is None:
            return self
        mine = dict(self.allowed)
        fields = tuple((k, v) for k, v in later.allowed if k not in mine) + self.allowed
        return CodexRequirements(tuple(sorted(fields)),
                                 self.mcp_servers if self.mcp_servers is not None else later.mcp_servers)


def under(root: Path, path: str) -> Path:
    return Path(path) if root == Path("/") else root / str(PurePosixPath(path.replace("\\", "/"))).lstrip("/")


def _read_toml(path: Path) -> Any:
    try:
        if path.stat().st_size > MAX_BYTES:
            return None
        return tomllib.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None


def _read_mdm(path: Path) -> Any:
    """The TOML that macOS managed preferences carry base64-encoded under the documented key."""
    mdm = facts()["codex"]["macos_mdm"]
    try:
        if path.stat().st_size > MAX_BYTES:
            return None
        prefs = plistlib.loads(path.read_bytes())
        encoded = prefs.get(mdm["key"]) if isinstance(prefs, dict) else None
        if not isinstance(encoded, (str, bytes)):
            return None
        return tomllib.loads(base64.b64decode(encoded, validate=False).decode("utf-8"))
    except (OSError, ValueError, binascii.Error, plistlib.InvalidFileException):
        return None


def load(platform: str, root: Path = Path("/"), env: Mapping[str, str] | None = None) -> CodexRequirements | None:
    key = "linux" if platform.startswith("linux") else platform
    codex = facts()["codex"]
    layers: list[CodexRequirements | None] = []
    if key == "darwin":
        plist = f"{MACOS_MANAGED_PREFERENCES}/{codex['macos_mdm']['domain']}.plist"
        layers.append(CodexRequirements.of(_read_mdm(under(root, plist))))
    system_file = codex["requirements_files"].get(key)
    if system_file:
        program_data = (env if env is not None else os.environ).get("ProgramData", "C:/ProgramData")
        layers.append(CodexRequirements.of(_read_toml(under(root, system_file.replace("%ProgramData%", program_data)))))
    merged: CodexRequirements | None = None
    for layer in reversed(layers):                 # lowest precedence first
        if layer is not None:
            merged = layer.merged_over(merged)
    return merged


def applies(path: str) -> bool:
    normalized = path.replace("\\", "/")
    return any(normalized.endswith("/" + name) or normalized == name for name in facts()["codex"]["config_files"])


def server_drift(required: CodexRequirements, spec: dict, name: str) -> Risk | None:
    """A server the requirements' allowlist would disable: not listed, or another identity."""
    if required.mcp_servers is None or spec.get("enabled") is False:
        return None
    listed = dict(required.mcp_servers)
    if name not in listed:
        return Risk("managed_settings_drift", f"server '{name[:60]}' is not in the managed requirements' "
                                              "mcp_servers allowlist (Codex disables it)")
    identity = dict(listed[name])
    if not identity or any(spec.get(k) != v for k, v in identity.items()):
        which = " and ".join(sorted(identity)) or "identity"
        return Risk("managed_settings_drift", f"server '{name[:60]}' is in the managed mcp_servers allowlist, "
                                              f"but its {which} differs from the approved one (Codex disables it)")
    return None


def settings_drift(required: CodexRequirements, doc: Any) -> list[Risk]:
    """approval_policy / sandbox_mode values (top level and per profile) the requirements do not allow."""
    if not isinstance(doc, dict):
        return []
    scopes: list[tuple[str, dict]] = [("", doc)]
    profiles = doc.get("profiles")
    if isinstance(profiles, dict):
        scopes += [(f"profiles.{str(n)[:40]}.", p) for n, p in profiles.items() if isinstance(p, dict)]
    found = []
    for setting, allowed in required.allowed:
        for prefix, scope in scopes:
            value = scope.get(setting)
            if isinstance(value, str) and value not in allowed:
                found.append(Risk("managed_settings_drift",
                                  f"{prefix}{setting} is {value[:40]} while the managed requirements allow only "
                                  f"{', '.join(allowed)[:120] or 'none'}"))
    return found


_ENUM_VALUE = re.compile(r"^[a-z][a-z-]{0,39}$")
TOOL_ID = "codex-cli"            # the catalog's id of the Codex CLI, whose processes are judged
UNDOCUMENTED = "another value"   # stands in for a value that is not an enum word (never kept)

RunSetting = tuple[str, str, str]    # (config key, value, the option that set it)


def run_settings(argv: list[str]) -> tuple[RunSetting, ...]:
    """The settings a codex command line asks for, in order, and nothing else of it: the keys
    and options are the documented ones, a value that is not an enum word becomes UNDOCUMENTED
    (a prompt or a token never survives)."""
    cli = facts()["codex"]["command_line"]
    found: list[RunSetting] = []
    args = iter(argv[1:])
    for arg in args:
        option, has_value, inline = arg.partition("=")
        if option in cli["value_options"]:
            value = inline if has_value else next(args, "")
            found.append((cli["value_options"][option], value, option))
        elif arg in cli["fixed_options"]:
            found.extend((key, value, arg) for key, value in cli["fixed_options"][arg].items())
        elif option in cli["config_options"]:
            pair = inline if has_value else next(args, "")
            key, _, value = pair.partition("=")
            if key.strip() in cli_keys():
                found.append((key.strip(), value.strip().strip("\"'"), f"{option} {key.strip()}"))
    return tuple((key, value if _ENUM_VALUE.match(value) else UNDOCUMENTED, option)
                 for key, value, option in found)


def cli_keys() -> set[str]:
    return set(facts()["codex"]["allowed_values"].values())


def run_drift(required: CodexRequirements, settings: tuple[RunSetting, ...]) -> list[Risk]:
    """A running codex started with an approval policy or sandbox mode the requirements do not
    allow (Codex falls back to an allowed one: the run is not what was asked for)."""
    allowed = dict(required.allowed)
    found = []
    for key, value, option in settings:
        if key in allowed and value not in allowed[key]:
            found.append(Risk("managed_settings_drift",
                              f"codex runs with {option} ({key} {value}) while the managed requirements allow only "
                              f"{', '.join(allowed[key])[:120] or 'none'}"))
    return found


def command_line_drift(required: CodexRequirements, argv: list[str]) -> list[Risk]:
    """run_drift of a whole command line. Only a documented value is quoted back; anything else
    on the command line is never kept."""
    return run_drift(required, run_settings(argv))
