"""MCP servers declared in AI tool configs: Claude desktop / Claude Code / Cursor / Windsurf /
Cline / Gemini (``mcpServers``), VS Code (``servers``, or ``mcp.servers`` in settings.json),
Codex (``[mcp_servers.*]`` in TOML), Continue (a ``mcpServers`` list in YAML), OpenCode
(``mcp``, command arrays), Goose (``extensions`` in YAML, ``cmd``/``envs``).

Only the launcher, the package it runs and a remote server's origin are kept. Arguments,
environment values and URL paths or queries are where tokens live: never kept."""
from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import yaml

from shadowmap.agent.discovery.launchers import package_of

_JSONC_COMMENT = re.compile(r'("(?:\\.|[^"\\])*")|//[^\n]*|/\*.*?\*/', re.S)
_TRAILING_COMMA = re.compile(r'("(?:\\.|[^"\\])*")|,(\s*[}\]])')


def parse_document(text: str, path: str) -> Any:
    """JSON (with VS Code's comments and trailing commas), TOML or YAML by file name; None
    when the text is not a document of that kind."""
    name = path.lower()
    try:
        if name.endswith(".toml"):
            return tomllib.loads(text)
        if name.endswith((".yaml", ".yml")):
            return yaml.safe_load(text)
        try:
            return json.loads(text)
        except ValueError:
            cleaned = _JSONC_COMMENT.sub(lambda m: m.group(1) or "", text)
            cleaned = _TRAILING_COMMA.sub(lambda m: m.group(1) or m.group(2), cleaned)
            return json.loads(cleaned)
    except (ValueError, tomllib.TOMLDecodeError, yaml.YAMLError, RecursionError):
        return None


# Goose's extension types that run or reach an MCP server (builtin ones are Goose's own code)
GOOSE_EXTERNAL_TYPES = ("stdio", "sse", "streamable_http")


def normalized(spec: dict) -> dict:
    """One server entry in the common shape (command, args, env, url, type) whatever the tool's
    dialect: Goose's cmd/envs/uri, OpenCode's command array and environment, local/remote."""
    out = dict(spec)
    if "command" not in out and isinstance(out.get("cmd"), str):
        out["command"] = out["cmd"]
    command = out.get("command")
    if isinstance(command, list) and command and all(isinstance(c, str) for c in command):
        args = out.get("args")
        extra: list[Any] = args if isinstance(args, list) else []
        out["command"], out["args"] = command[0], [*command[1:], *extra]
    for alias in ("envs", "environment"):
        if "env" not in out and isinstance(out.get(alias), dict):
            out["env"] = out[alias]
    if "url" not in out and isinstance(out.get("uri"), str):
        out["url"] = out["uri"]
    out["type"] = {"local": "stdio", "remote": "http", "streamable_http": "http"}.get(str(out.get("type")),
                                                                                       out.get("type"))
    return out


def _server_tables(doc: Any) -> Iterator[tuple[str | None, dict]]:
    """(workspace or None, {name: server}) tables found in a parsed config."""
    if not isinstance(doc, dict):
        return
    for key in ("mcpServers", "servers", "mcp_servers", "context_servers"):
        table = doc.get(key)
        if isinstance(table, dict):
            yield None, table
        elif isinstance(table, list):         # Continue: a list of {name, command, ...}
            yield None, {str(s.get("name", f"server-{i}")): s for i, s in enumerate(table) if isinstance(s, dict)}
    mcp = doc.get("mcp")
    if isinstance(mcp, dict) and isinstance(mcp.get("servers"), dict):
        yield None, mcp["servers"]
    elif isinstance(mcp, dict):                 # OpenCode: {name: {type: local|remote, command: [...]}}
        yield None, {k: v for k, v in mcp.items() if isinstance(v, dict) and v.get("type") in ("local", "remote")}
    extensions = doc.get("extensions")          # Goose: {key: {type: stdio|sse|..., cmd, args, envs}}
    if isinstance(extensions, dict):
        yield None, {k: v for k, v in extensions.items()
                     if isinstance(v, dict) and v.get("type") in GOOSE_EXTERNAL_TYPES}
    projects = doc.get("projects")              # ~/.claude.json: per-project servers
    if isinstance(projects, dict):
        for folder, project in projects.items():
            if isinstance(project, dict) and isinstance(project.get("mcpServers"), dict):
                yield str(folder), project["mcpServers"]


def url_origin(url: Any) -> str | None:
    if not isinstance(url, str):
        return None
    try:
        parts = urlsplit(url.strip())
        host, port = parts.hostname, parts.port
    except ValueError:
        return None
    if not parts.scheme or not host:
        return None
    return f"{parts.scheme}://{host}{f':{port}' if port else ''}"[:300]


# judges one server's own spec (with its arguments) by its name and workspace: the risks'
# evidence, already free of argument and environment values
Judge = Callable[[dict, str, "str | None"], list[dict]]


def servers(doc: Any, judge: Judge | None = None) -> list[dict]:
    """Inventory entries: name, transport, command, package, url_origin, env_keys, workspace,
    and the risks ``judge`` finds in each."""
    found = []
    for workspace, table in _server_tables(doc):
        for name, spec in table.items():
            if not isinstance(spec, dict):
                continue
            spec = normalized(spec)
            entry = _entry(str(name), spec, workspace)
            risks = judge(spec, str(name), workspace) if judge is not None else []
            if risks:
                entry["risks"] = risks
            found.append(entry)
    return found


def _transport(spec: dict, command: str | None, origin: str | None) -> str:
    declared = str(spec.get("type") or spec.get("transport") or "").lower()
    if declared in ("http", "streamable-http", "streamablehttp"):
        return "http"
    if declared == "sse":
        return "sse"
    if command:
        return "stdio"
    return "http" if origin else "unknown"


def _entry(name: str, spec: dict, workspace: str | None) -> dict[str, Any]:
    command = spec.get("command") if isinstance(spec.get("command"), str) else None
    args = [a for a in spec.get("args", []) if isinstance(a, str)] if isinstance(spec.get("args"), list) else []
    origin = url_origin(spec.get("url") or spec.get("serverUrl") or spec.get("httpUrl"))
    entry: dict[str, Any] = {"name": name[:200], "transport": _transport(spec, command, origin)}
    if command:
        entry["command"] = os.path.basename(command.strip())[:256] or command[:256]
        package = package_of(command, args)
        if package:
            entry["package"] = package[:256]
    if origin:
        entry["url_origin"] = origin
    named = [m for m in (spec.get("env"), spec.get("headers")) if isinstance(m, dict)]
    keys = sorted({str(k)[:128] for mapping in named for k in mapping})[:50]
    if keys:
        entry["env_keys"] = keys
    if workspace:
        entry["workspace"] = workspace[:1024]
    return entry
