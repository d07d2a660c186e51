"""The AI-tool catalog: which hosts, processes and apps are AI tools, and whose.

The data lives in ``detectors/data/catalog/*.yaml`` (one file per area, merged; an id,
host, process or bundle id may be claimed by one tool only across all files) and each file
is validated against ``schema/catalog.v1.json`` when loaded. Import-light on purpose (YAML + JSON Schema only):
the native host and the collector use it without loading Presidio or spaCy.
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from functools import lru_cache
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

import jsonschema
import yaml

from shadowmap import contract

BUNDLED_CATALOG = Path(__file__).resolve().parent / "data" / "catalog"
SCHEMA_NAME = "catalog.v1.json"
_EXECUTABLE_SUFFIXES = (".exe",)
# libyaml's safe loader when present: the same safe subset, several times faster.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class CatalogError(ValueError):
    """The catalog file is unreadable or breaks the schema; the message names tool and field."""


@dataclass(frozen=True)
class AITool:
    id: str
    name: str
    vendor: str
    category: str
    domains: tuple[str, ...] = ()
    api_domains: tuple[str, ...] = ()
    process_names: tuple[str, ...] = ()
    bundle_ids: tuple[str, ...] = ()
    cmdline_patterns: tuple[str, ...] = ()
    local_ports: tuple[int, ...] = ()
    browser_extension_ids: tuple[str, ...] = ()
    config_paths: tuple[str, ...] = ()
    coding_agent: bool = False          # works in its cwd: its git repository is reported
    # without signatures: ("none", the source showing it is web/API/extension only) or
    # ("unknown", what was searched); () when not recorded
    local_footprint: tuple[str, ...] = ()

    @classmethod
    def from_dict(cls, data: dict) -> AITool:
        # every list field of the schema is a tuple here; scalars pass through (the schema
        # checked their types when the file was loaded)
        values: dict[str, Any] = {f.name: tuple(data[f.name]) if isinstance(data.get(f.name), list) else data[f.name]
                                  for f in fields(cls) if f.name in data}
        if isinstance(data.get("local_footprint"), dict):
            values["local_footprint"] = next(iter(data["local_footprint"].items()))
        return cls(**values)

    @property
    def signed(self) -> bool:
        """The tool has a process, app, command-line or port signature."""
        return bool(self.process_names or self.bundle_ids or self.cmdline_patterns or self.local_ports)


def normalize_host(host: str) -> str | None:
    """Lowercase host without port, trailing dot or (if a URL was given) scheme and path."""
    if not isinstance(host, str):
        return None
    host = host.strip()
    if "://" in host:
        try:
            host = urlsplit(host).hostname or ""
        except ValueError:
            return None
    elif host.startswith("["):
        return None  # an IPv6 literal is never a catalog host
    else:
        host = host.split("/", 1)[0].rsplit("@", 1)[-1].split(":", 1)[0]
    host = host.lower().rstrip(".")
    return host if host and len(host) <= 253 else None


class Catalog:
    def __init__(self, tools: list[AITool]):
        self.tools: tuple[AITool, ...] = tuple(tools)
        self._by_id: dict[str, AITool] = {}
        self._by_host: dict[str, AITool] = {}
        self._by_process: dict[str, AITool] = {}
        self._by_bundle: dict[str, AITool] = {}
        for tool in self.tools:
            _claim(self._by_id, tool.id, tool, "id")
            if tool.signed and tool.local_footprint:
                raise CatalogError(f"tool {tool.id!r}: local_footprint is for tools without process signatures, "
                                   f"and this one has them")
            for host in (*tool.domains, *tool.api_domains):
                _claim(self._by_host, host, tool, "domain")
            for process in tool.process_names:
                _claim(self._by_process, process, tool, "process name")
            for bundle in tool.bundle_ids:
                _claim(self._by_bundle, bundle, tool, "bundle id")

    def by_id(self, tool_id: str) -> AITool | None:
        return self._by_id.get(tool_id) if isinstance(tool_id, str) else None

    def match_domain(self, host: str) -> AITool | None:
        """The tool for a host: an exact listed host or any subdomain of one (the most
        specific listing wins). Case-insensitive; port, scheme and path are ignored."""
        normalized = normalize_host(host)
        if not normalized:
            return None
        labels = normalized.split(".")
        for i in range(len(labels) - 1):
            tool = self._by_host.get(".".join(labels[i:]))
            if tool is not None:
                return tool
        return None

    def match_process(self, name: str) -> AITool | None:
        """The tool for an executable name (a path's last part; ``.exe`` ignored), in the exact
        case listed. A name in another case is another program: "claude" is Claude Code and
        "Claude" the desktop app, and Copilot Money's "Copilot" is not GitHub Copilot's
        "copilot". A tool whose Linux build names its executable in lowercase ("cursor" for the
        macOS "Cursor") lists that name too; no case is guessed."""
        if not isinstance(name, str) or not name.strip():
            return None
        name = name.strip().replace("\\", "/").rsplit("/", 1)[-1]
        for suffix in _EXECUTABLE_SUFFIXES:
            if name.lower().endswith(suffix):
                name = name[: -len(suffix)]
        return self._by_process.get(name)

    def match_bundle(self, bundle_id: str) -> AITool | None:
        return self._by_bundle.get(bundle_id) if isinstance(bundle_id, str) else None

    def web_domains(self) -> list[str]:
        """Every web host of every tool, sorted (the browser extension's match list)."""
        return sorted({host for tool in self.tools for host in tool.domains})


def signature_coverage(catalog: Catalog | None = None) -> dict[str, Any]:
    """How many catalog tools have process/app signatures, and what the others are marked:
    no local footprint (web, API or extension only, with the source) or unknown (with what was
    searched). ``unmarked`` lists the tools that are neither signed nor marked."""
    catalog = catalog if catalog is not None else load_catalog()
    signed = [t.id for t in catalog.tools if t.signed]
    marked: dict[str, list[str]] = {"none": [], "unknown": []}
    unmarked = []
    for tool in catalog.tools:
        if tool.signed:
            continue
        if tool.local_footprint:
            marked[tool.local_footprint[0]].append(tool.id)
        else:
            unmarked.append(tool.id)
    return {"tools": len(catalog.tools), "signed": len(signed), "no_local_footprint": len(marked["none"]),
            "unknown": len(marked["unknown"]), "unmarked": unmarked,
            "no_local_footprint_ids": marked["none"], "unknown_ids": marked["unknown"]}


def _claim(table: dict[str, AITool], key: str, tool: AITool, what: str) -> None:
    owner = table.get(key)
    if owner is not None and owner.id != tool.id:
        raise CatalogError(f"tool {tool.id!r}: {what} {key!r} is already listed by tool {owner.id!r}")
    if owner is not None and what == "id":
        raise CatalogError(f"tool id {key!r} is listed twice")
    table[key] = tool


def _validate(data: object, source: str) -> dict[str, Any]:
    """``data`` once it meets the catalog schema, else CatalogError naming the tool and field."""
    validator = jsonschema.Draft202012Validator(contract.load(SCHEMA_NAME))
    error = jsonschema.exceptions.best_match(validator.iter_errors(data))
    if error is None:
        return cast(dict[str, Any], data)       # the schema's top level is an object
    path = list(error.absolute_path)
    where = "/".join(str(p) for p in path) or "(top level)"
    if len(path) >= 2 and path[0] == "tools" and isinstance(path[1], int) and isinstance(data, dict):
        tool = data["tools"][path[1]]
        tool_id = tool.get("id") if isinstance(tool, dict) else None
        field = "/".join(str(p) for p in path[2:]) or "(the tool entry)"
        where = f"tool {tool_id or '#' + str(path[1])!r}, field {field}"
    raise CatalogError(f"{source}: {where}: {error.message[:300]}")


def parse_catalog(data: object, source: str = "catalog") -> Catalog:
    document = _validate(data, source)
    return Catalog([AITool.from_dict(item) for item in document["tools"]])


def _read_file(path: Path) -> list[AITool]:
    try:
        data = yaml.load(path.read_text("utf-8"), Loader=_YAML_LOADER)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise CatalogError(f"cannot read catalog {path}: {exc}") from None
    _validate(data, str(path))
    return [AITool.from_dict(item) for item in data["tools"]]


def _read(path: Path) -> Catalog:
    """A catalog file, or a folder whose *.yaml files are merged in name order."""
    files = sorted(path.glob("*.yaml")) if path.is_dir() else [path]
    if not files:
        raise CatalogError(f"no catalog files in {path}")
    return Catalog([tool for file in files for tool in _read_file(file)])


@lru_cache(maxsize=1)
def _bundled() -> Catalog:
    return _read(BUNDLED_CATALOG)


def load_catalog(path: str | Path | None = None) -> Catalog:
    """The bundled catalog (loaded once, then cached), or the one at ``path``."""
    return _bundled() if path is None else _read(Path(path))
