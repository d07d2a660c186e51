"""Risk flags for AI agents' and MCP servers' set-up, each with its evidence.

The facts (which launchers fetch and run code, which servers run shells or write files, which
settings switch approvals off, what prompt injection looks like) are data in
``detectors/data/agent_risks.yaml``; this module only applies them. Evidence says what was
seen in words a responder can act on: a launcher and its package, a setting and its value, a
file mode, a code point and its line. Never an argument value, an environment value or the
file's text, which is where tokens live."""
from __future__ import annotations

import functools
import os
import re
import stat
import unicodedata
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

import yaml

from shadowmap.agent.discovery.launchers import launcher_name, package_of
from shadowmap.detectors.catalog import BUNDLED_CATALOG

RULES_FILE = BUNDLED_CATALOG.parent / "agent_risks.yaml"
MAX_RISKS = 20  # the contract's cap per event
# Invisible and direction-changing characters: zero-width (U+200B-U+200F), bidirectional
# embeddings and isolates (U+202A-U+202E, U+2066-U+2069), word joiners and invisible operators
# (U+2060-U+2064), a byte-order mark inside the text, and Unicode tag characters (U+E0000-U+E007F,
# the "ASCII smuggling" range).
_HIDDEN = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\U000e0000-\U000e007f]")
_SYSTEM_FOLDERS = r"^(/(etc|usr|var|bin|sbin|lib|lib64|opt|boot|System|Library|private)(/|$)|[A-Za-z]:[\\/](Windows|Program Files)([\\/]|$))"
_ENV_REFERENCE = re.compile(r"^\s*(\$\{[^}]+\}|\$[A-Za-z_][A-Za-z0-9_]*|%[A-Za-z_][A-Za-z0-9_]*%|env:.*|\{env:[^}]+\})\s*$")


@dataclass(frozen=True)
class Risk:
    flag: str
    evidence: str

    def as_event(self) -> dict[str, str]:
        return {"flag": self.flag, "evidence": self.evidence[:300]}


@functools.cache
def rules() -> dict[str, Any]:
    with open(RULES_FILE, encoding="utf-8") as fh:
        loaded = yaml.safe_load(fh)
    injections = [re.compile(m["pattern"], re.I) for m in loaded["injection_markers"]]
    return {**loaded, "compiled_injections": injections}


def _names(key: str) -> set[str]:
    return {entry["name"].lower() for entry in rules()[key]}


def _base_name(package: str) -> str:
    """A package without its version or tag: ``@scope/pkg@1.2`` → ``@scope/pkg``, ``img:1`` → ``img``,
    ``pkg==1.0`` → ``pkg``, ``docker.io/mcp/fetch`` → ``mcp/fetch``."""
    name = package.lower().split("@sha256:")[0]
    name = re.split(r"[=<>!~]=|[<>]", name)[0]
    if name.startswith("@"):
        scope, _, rest = name.partition("/")
        name = scope + "/" + rest.split("@")[0]
    else:
        name = name.split("@")[0]
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        name = name[: len(name) - len(last)] + last.split(":")[0]
    for registry in ("docker.io/", "ghcr.io/", "index.docker.io/"):
        name = name.removeprefix(registry)
    return name


def _pinned(package: str, launcher: str, grammar: dict[str, Any]) -> bool:
    """Whether the package names an exact version (not "latest")."""
    lowered = package.lower()
    if grammar.get("digest") and grammar["digest"] in lowered:
        return True
    markers = [grammar["pin"]] + ([grammar["also_pin"]] if grammar.get("also_pin") else [])
    body = lowered[1:] if lowered.startswith("@") else lowered          # an npm scope's @ is no pin
    if launcher in ("docker", "podman"):
        body = body.rsplit("/", 1)[-1]                                   # a registry's port is no tag
    for marker in markers:
        if marker in body:
            version = body.split(marker, 1)[1]
            return bool(version) and version not in ("latest", "*", "x", "next")
    return False


def _fetch_exec(command: str, args: list[str], package: str | None) -> Risk | None:
    launcher = launcher_name(command)
    if launcher in ("cmd", "cmd.exe") and len(args) > 1:                 # cmd /c npx -y pkg
        launcher, args = launcher_name(args[1]), args[2:]
    grammar = rules()["fetch_exec_launchers"].get(launcher)
    if grammar is None or package is None:
        return None
    if launcher in ("pnpm",) and "dlx" not in args:
        return None
    if launcher == "uv" and not {"tool", "x"} & set(args[:2]) and "run" not in args[:2]:
        return None
    if launcher == "pipx" and "run" not in args[:2]:                     # pipx install/list run nothing
        return None
    if launcher in ("docker", "podman") and "run" not in args[:3]:
        return None
    if _pinned(package, launcher, grammar):
        return None
    return Risk("remote_fetch_exec", f"{launcher} runs {_base_name(package)} from its registry without a pinned version")


def _allowed_paths(args: list[str]) -> list[str]:
    """Arguments that look like folders (a filesystem server's allowed directories)."""
    found = []
    for arg in args:
        if arg.startswith("-") or "=" in arg or "://" in arg:
            continue
        if arg in ("/", "~", ".") or arg.startswith(("/", "~/", "$HOME", "%USERPROFILE%")) or re.match(r"^[A-Za-z]:[\\/]", arg):
            found.append(arg)
    return found


def _outside(path: str, workspace: str | None, home: str | None) -> str | None:
    """Why a folder a server may write lies outside its workspace, or None when it does not."""
    if path in ("/", "\\") or re.fullmatch(r"[A-Za-z]:[\\/]?", path):
        return "the whole disk"
    if path in ("~", "$HOME", "%USERPROFILE%") or (home and path.rstrip("/\\") == home.rstrip("/\\")):
        return "the whole home folder"
    if re.match(_SYSTEM_FOLDERS, path, re.I):
        return "a system folder"
    if workspace is None:          # a user-level config: any folder short of the home or the system is its choice
        return None
    pure = PureWindowsPath if re.match(r"^[A-Za-z]:", path) else PurePosixPath
    try:
        pure(path).relative_to(pure(workspace))
    except ValueError:
        return "a folder outside its project"
    return None


def _literal_secret_env(spec: dict) -> list[str]:
    words = rules()["secret_env_words"]
    named = []
    for mapping in (spec.get("env"), spec.get("headers")):
        if not isinstance(mapping, dict):
            continue
        for key, value in mapping.items():
            if not isinstance(value, str) or not value.strip() or _ENV_REFERENCE.match(value):
                continue
            lowered = str(key).lower()
            if any(word in lowered for word in words) or lowered == "authorization":
                named.append(str(key)[:64])
    return sorted(set(named))


def server_risks(spec: dict, name: str, workspace: str | None, home: str | None,
                 is_catalog_host: Any = None) -> list[Risk]:
    """The risk flags of one MCP server entry (the config's own spec, with its arguments: they
    are read here and only the evidence leaves)."""
    command = spec.get("command") if isinstance(spec.get("command"), str) else None
    found = _launch_risks(command, spec, name, workspace, home) if command else []
    origin = spec.get("url") or spec.get("serverUrl") or spec.get("httpUrl")
    if isinstance(origin, str) and is_catalog_host is not None:
        host = re.sub(r"^[a-z]+://", "", origin.strip().lower()).split("/")[0].split("@")[-1].split(":")[0]
        if host and host not in ("localhost", "127.0.0.1", "::1") and not is_catalog_host(host):
            found.append(Risk("network_egress", f"remote server at {host}, not a catalogued AI tool's host"))
    secrets = _literal_secret_env(spec)
    if secrets:
        found.append(Risk("plaintext_secret", f"{', '.join(secrets[:5])} written as literal values in the config"))
    return found[:MAX_RISKS]


def _launch_risks(command: str, spec: dict, name: str, workspace: str | None, home: str | None) -> list[Risk]:
    """What a local (stdio) server's launcher, package and arguments say."""
    args = [a for a in spec.get("args", []) if isinstance(a, str)] if isinstance(spec.get("args"), list) else []
    package = package_of(command, args)
    base = _base_name(package) if package else ""
    launcher = launcher_name(command)
    found = [risk for risk in (_fetch_exec(command, args, package),) if risk]
    if base in _names("shell_exec_packages"):
        found.append(Risk("shell_exec", f"{base} runs shell commands"))
    elif launcher in rules()["shell_commands"]:
        found.append(Risk("shell_exec", f"launched through the {launcher} shell"))
    elif any(w in name.lower() or w in base for w in rules()["shell_name_words"]):
        found.append(Risk("shell_exec", f"server '{name[:60]}' ({base or launcher}) is named for shell access"))
    if base in _names("filesystem_packages"):
        for path in _allowed_paths(args):
            why = _outside(path, workspace, home)
            if why:
                found.append(Risk("filesystem_write_outside_workspace",
                                  f"{base} may write {why} ({_shown_path(path, home)})"))
                break
    if base in _names("fetch_packages"):
        found.append(Risk("network_egress", f"{base} fetches any URL it is given"))
    return found


def _shown_path(path: str, home: str | None) -> str:
    if home and path.startswith(home):
        return "~" + path[len(home):]
    return path[:120]


def _dotted(doc: Any, key: str) -> Any:
    """A value by dotted path; a key that itself holds dots (VS Code's "chat.tools.autoApprove")
    is tried whole first."""
    if isinstance(doc, dict) and key in doc:
        return doc[key]
    head, _, rest = key.partition(".")
    if not rest or not isinstance(doc, dict):
        return None
    return _dotted(doc.get(head), rest)


def settings_risks(doc: Any, path: str) -> list[Risk]:
    """Approvals or the sandbox switched off in an agent's settings file."""
    found: list[Risk] = []
    normalized = path.replace("\\", "/")
    for rule in rules()["settings"]:
        if not any(normalized.endswith(suffix) for suffix in rule["file"]):
            continue
        value = _dotted(doc, rule["key"])
        if value is None:
            continue
        if "contains" in rule:
            items = value if isinstance(value, list) else []
            for item in items:
                flag = rule["contains"].get(str(item).lower()) if isinstance(item, str) else None
                if flag:
                    found.append(Risk(flag, f"{rule['key']} includes {str(item)[:60]} ({rule['tool_id']})"))
            continue
        text = str(value).lower() if not isinstance(value, bool) else ("true" if value else "false")
        flag = rule["values"].get(text)
        if flag:
            found.append(Risk(flag, f"{rule['key']} is {str(value)[:40]} ({rule['tool_id']})"))
    return found


def home_settings_files() -> list[tuple[str, str]]:
    """(``~/...`` pattern, tool id) of the settings files the rules read in each home beyond the
    catalog's config paths (Cursor's CLI config)."""
    return [(pattern, rule["tool_id"]) for rule in rules()["settings"] for pattern in rule.get("home", ())]


def command_line_risks(tool_id: str | None, argv: list[str]) -> list[Risk]:
    """Approvals switched off for one run by an agent CLI's own options (``gemini --yolo``,
    ``claude --permission-mode bypassPermissions``). The evidence quotes the option and, for an
    option taking a value, only a value the rules list: a prompt or a path never survives."""
    found: list[Risk] = []
    for rule in rules().get("command_line", ()):
        if rule["tool_id"] != tool_id:
            continue
        flags, valued = rule.get("flags", {}), rule.get("value_options", {})
        args = iter(argv[1:])
        for arg in args:
            if not isinstance(arg, str) or arg == "--":      # after --, words are the prompt's
                break
            option, has_value, inline = arg.partition("=")
            if option in flags:
                if not (has_value and inline.strip().lower() in ("false", "0")):
                    found.append(Risk(flags[option], f"{tool_id} runs with {option}"))
            elif option in valued:
                value = inline if has_value else next(args, "")
                flag = valued[option].get(value.strip().lower()) if isinstance(value, str) else None
                if flag:
                    found.append(Risk(flag, f"{tool_id} runs with {option} {value.strip()[:40]}"))
    return list(dict.fromkeys(found))[:MAX_RISKS]


def instruction_risks(text: str) -> list[Risk]:
    """Hidden characters and prompt-injection text in an instruction file."""
    found: list[Risk] = []
    hidden: dict[str, int] = {}
    first_line = 0
    for number, line in enumerate(text.splitlines(), 1):
        for match in _HIDDEN.finditer(line if number > 1 else line.lstrip("\ufeff")):
            code = f"U+{ord(match.group()):04X}"
            hidden[code] = hidden.get(code, 0) + 1
            first_line = first_line or number
    if hidden:
        codes = ", ".join(f"{count} × {code} ({unicodedata.name(chr(int(code[2:], 16)), 'unnamed').lower()})"
                          for code, count in sorted(hidden.items())[:4])
        found.append(Risk("hidden_unicode", f"invisible characters from line {first_line}: {codes}"))
    for pattern in rules()["compiled_injections"]:
        match = pattern.search(text)
        if match:
            at_line = text.count("\n", 0, match.start()) + 1
            found.append(Risk("prompt_injection_marker",
                              f"line {at_line}: text that tries to override the agent's instructions"))
            break
    return found


def is_instruction_file(path: str) -> bool:
    normalized = path.replace("\\", "/")
    return any(normalized.endswith("/" + name) or normalized == name for name in rules()["instruction_files"]) or (
        "/.cursor/rules/" in normalized and normalized.endswith(".mdc"))


def mode_risks(path: Path, holds_secrets: bool) -> list[Risk]:
    """File modes that let other local users rewrite an AI config (any) or read it (when it
    holds credentials). POSIX only: Windows ACLs are not modes."""
    if os.name != "posix":
        return []
    try:
        mode = path.stat().st_mode
    except OSError:
        return []
    found = []
    if mode & stat.S_IWOTH:
        found.append(Risk("world_writable_config", f"mode {stat.filemode(mode)}: any local user can rewrite it"))
    if holds_secrets and mode & stat.S_IROTH:
        found.append(Risk("world_readable_config", f"mode {stat.filemode(mode)}: any local user can read its credentials"))
    return found
