"""Each fact two parts of shadowmap share is declared once, in the contract (schema/), and
read from there. This test fails when one of them is declared a second time anywhere in the
repository's source: a literal copy of a value, or a list literal holding a whole shared set.

What counts: string literals in Python (docstrings and prose with spaces are documentation,
not declarations), JSON values (descriptions aside), JavaScript string literals, and any
line of the other text files the repository ships (templates, scripts). What does not: the
contract's own files, the files generated from it, tests (they pin values on purpose) and
docs (they explain them to people).

A copy that is still being migrated by its owner is listed in PENDING with the reason; the
test also fails when a PENDING entry no longer matches anything, so the list only shrinks.
"""
from __future__ import annotations

import ast
import json
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from shadowmap import contract
from shadowmap.contract import enums, host

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Fact:
    name: str
    home: str                                  # the one place it is declared
    values: tuple[str, ...] = ()               # literal values that must not be repeated
    sets: tuple[frozenset[str], ...] = ()      # whole sets that must not be listed again


def _browser_places() -> tuple[str, ...]:
    places: set[str] = set()
    for facts in host.FACTS["browsers"].values():
        for by_scope in facts["host_manifest_dirs"].values():
            places.update(by_scope.values())
        places.add(facts["host_registry_key"])
        places.update(facts["policy"].values())
    places.update(host.WINDOWS_MANIFEST_DIRS.values())
    return tuple(sorted(places))


def _without(members: tuple[str, ...], *dropped: str) -> frozenset[str]:
    return frozenset(members) - set(dropped)


_IPC = contract.load(contract.IPC_SCHEMA)["$defs"]

FACTS = (
    Fact("native host name", "schema/host.v1.json native_host.name", (host.HOST_NAME,)),
    Fact("host launcher name", "schema/host.v1.json native_host.launcher", (host.LAUNCHER_NAME,)),
    Fact("Chromium extension id", "schema/host.v1.json extension.chromium_id", (host.CHROMIUM_EXTENSION_ID,)),
    Fact("Firefox add-on id", "schema/host.v1.json extension.firefox_id", (host.FIREFOX_ADDON_ID,)),
    Fact("agent socket paths", "schema/host.v1.json agent_address",
         (*host.SYSTEM_SOCKETS.values(), host.USER_SOCKET_RELATIVE)),
    Fact("agent pipe names", "schema/host.v1.json agent_address",
         (host.SYSTEM_PIPE, host.SYSTEM_PIPE.replace("\\", "\\\\"))),
    Fact("agent address variable", "schema/host.v1.json agent_address.env", (host.AGENT_SOCKET_ENV,)),
    Fact("Windows service name", "schema/host.v1.json windows.service_name", (host.WINDOWS_SERVICE_NAME,)),
    Fact("agent managed-config places", "schema/host.v1.json agent_managed_config",
         (host.AGENT_CONFIG_LINUX_FILE, host.AGENT_CONFIG_MACOS_PLIST, host.AGENT_POLICY_KEY,
          host.AGENT_POLICY_KEY.upper())),
    Fact("browser host-manifest and policy places", "schema/host.v1.json browsers", _browser_places()),
    Fact("offline default (fail-open)", "schema/host.v1.json agent_unavailable_default",
         (host.AGENT_UNAVAILABLE_DEFAULT,)),
    Fact("severities", "schema/enums.v1.json severity, finding_severity",
         sets=(frozenset(enums.SEVERITIES), frozenset(enums.FINDING_SEVERITIES))),
    Fact("data classes", "schema/enums.v1.json data_class", sets=(frozenset(enums.DATA_CLASSES),)),
    Fact("alert statuses", "schema/enums.v1.json alert_status, active_alert_status",
         sets=(frozenset(enums.ALERT_STATUSES), frozenset(enums.ACTIVE_ALERT_STATUSES),
               frozenset(enums.CLOSED_ALERT_STATUSES))),
    Fact("actions", "schema/enums.v1.json action", sets=(frozenset(enums.ACTIONS),)),
    Fact("channels", "schema/enums.v1.json channel", sets=(frozenset(enums.CHANNELS),)),
    Fact("offline modes", "schema/enums.v1.json agent_unavailable_mode",
         sets=(frozenset(enums.AGENT_UNAVAILABLE_MODES),)),
    Fact("browsers", "schema/enums.v1.json browser", sets=(frozenset(enums.BROWSERS),)),
    Fact("IPC request types", "schema/ipc.v1.json $defs/request_type, content_request_type",
         sets=(frozenset(_IPC["request_type"]["enum"]), frozenset(_IPC["content_request_type"]["enum"]))),
    Fact("IPC error codes", "schema/ipc.v1.json $defs/error_code",
         sets=(_without(tuple(_IPC["error_code"]["enum"])),)),
)

# The contract's own files and what is generated from them.
HOMES = {
    "schema/enums.v1.json", "schema/host.v1.json", "schema/ipc.v1.json",
    "extension_bridge/extension/generated/contract.js", "extension_bridge/ipc_validate.py",
}
SKIPPED_PREFIXES = ("tests/", "docs/", "build/", ".venv/")
SKIPPED_SUFFIXES = (".md", ".lock", ".png", ".ico", ".gz", ".whl", ".pyc", "package-lock.json", "requirements.lock")
TEXT_SUFFIXES = (".txt", ".sh", ".service", ".wxs", ".plist", ".toml", ".cfg", ".ini", ".reg", ".yaml", ".yml",
                 ".html", ".in", ".conf", ".xml", "Makefile")
PROSE_KEYS = {"description", "$comment", "title", "browsers_note", "order", "chromium_id_rule"}

# Copies their owners are migrating: (fact, path prefix, why). Delete an entry with its copy.
PENDING: tuple[tuple[str, str, str], ...] = (
    ("offline modes", "extension_bridge/extension/managed_schema.json",
     "Chrome's managed-storage schema cannot $ref; test_extension keeps its enum equal to the contract's"),
    ("offline default (fail-open)", "extension_bridge/extension/managed_schema.json", "the same enum"),
)


@dataclass(frozen=True)
class Hit:
    fact: str
    path: str
    line: int
    text: str


def _files() -> list[str]:
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout.splitlines()
    return sorted(p for p in set(listed) if (ROOT / p).is_file() and p not in HOMES
                  and not p.startswith(SKIPPED_PREFIXES) and not p.endswith(SKIPPED_SUFFIXES)
                  and "node_modules/" not in p and not p.startswith("tests/"))


def _declares(text: str, value: str) -> bool:
    """A literal declares a value when it is the value, or embeds it in a path or an
    identifier (no spaces: prose that mentions the value is documentation)."""
    return text == value or (value in text and " " not in text.strip())


# ---- what each kind of file declares -----------------------------------------------------------

def _python_literals(source: str) -> Iterator[tuple[int, str | frozenset[str]]]:
    tree = ast.parse(source)
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                docstrings.add(id(first.value))
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            yield node.lineno, node.value
        elif isinstance(node, ast.Tuple | ast.List | ast.Set):
            items = [e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
            if len(items) >= 2:
                yield node.lineno, frozenset(items)


def _json_literals(document: object, line_of: dict[str, int]) -> Iterator[tuple[int, str | frozenset[str]]]:
    def walk(node: object, key: str = "") -> Iterator[tuple[int, str | frozenset[str]]]:
        if isinstance(node, dict):
            for k, v in node.items():
                if k not in PROSE_KEYS:
                    yield from walk(v, k)
        elif isinstance(node, list):
            items = [v for v in node if isinstance(v, str)]
            if len(items) >= 2:
                yield line_of.get(items[0], 0), frozenset(items)
            for v in node:
                yield from walk(v, key)
        elif isinstance(node, str):
            yield line_of.get(node, 0), node
    yield from walk(document)


_JS_TOKEN = re.compile(r"//[^\n]*|/\*.*?\*/|'(?:\\.|[^'\\\n])*'|\"(?:\\.|[^\"\\\n])*\"|`(?:\\.|[^`\\])*`", re.S)
_JS_ARRAY = re.compile(r"\[\s*(?:(?:'[^'\n]*'|\"[^\"\n]*\")\s*,\s*)+(?:'[^'\n]*'|\"[^\"\n]*\")\s*,?\s*\]")


def _js_literals(source: str) -> Iterator[tuple[int, str | frozenset[str]]]:
    for token in _JS_TOKEN.finditer(source):
        text = token.group()
        if text.startswith(("//", "/*")):
            continue
        yield source.count("\n", 0, token.start()) + 1, text[1:-1]
    for array in _JS_ARRAY.finditer(source):
        items = re.findall(r"'([^'\n]*)'|\"([^\"\n]*)\"", array.group())
        yield source.count("\n", 0, array.start()) + 1, frozenset(a or b for a, b in items)


def _literals(path: str) -> Iterator[tuple[int, str | frozenset[str]]]:
    text = (ROOT / path).read_text("utf-8", errors="replace")
    if path.endswith(".py"):
        yield from _python_literals(text)
    elif path.endswith(".json"):
        line_of: dict[str, int] = {}
        for number, line in enumerate(text.splitlines(), 1):
            for value in re.findall(r"\"((?:\\.|[^\"\\])*)\"", line):
                line_of.setdefault(json.loads(f'"{value}"'), number)
        yield from _json_literals(json.loads(text), line_of)
    elif path.endswith((".js", ".mjs")):
        yield from _js_literals(text)
    elif path.endswith(TEXT_SUFFIXES):
        for number, line in enumerate(text.splitlines(), 1):
            yield number, line.strip()


def _lists(literal: frozenset[str], members: frozenset[str]) -> bool:
    """A list literal declares a set when it holds the whole set (with extras such as "*" or
    "default" for the larger sets; exactly, for pairs like the active alert statuses)."""
    return literal == members or (len(members) >= 4 and literal >= members)


def _hits() -> list[Hit]:
    hits = []
    for path in _files():
        for line, literal in _literals(path):
            for fact in FACTS:
                if isinstance(literal, str):
                    if any(_declares(literal, value) for value in fact.values):
                        hits.append(Hit(fact.name, path, line, literal[:100]))
                elif any(_lists(literal, members) for members in fact.sets):
                    hits.append(Hit(fact.name, path, line, ", ".join(sorted(literal))[:100]))
    return hits


@pytest.fixture(scope="module")
def hits() -> list[Hit]:
    return _hits()


def _pending(hit: Hit) -> bool:
    return any(hit.fact == fact and hit.path.startswith(prefix) for fact, prefix, _why in PENDING)


def test_every_shared_fact_is_declared_once(hits):
    copies = [f"{h.path}:{h.line}: {h.fact} (declared in {_home(h.fact)}): {h.text!r}" for h in hits
              if not _pending(h)]
    assert not copies, "shared facts declared again; read them from the contract instead:\n" + "\n".join(copies)


def test_pending_copies_still_exist(hits):
    stale = [f"{fact} in {prefix}" for fact, prefix, _why in PENDING
             if not any(h.fact == fact and h.path.startswith(prefix) for h in hits)]
    assert not stale, f"these copies are gone: delete their PENDING entries: {stale}"


def _home(name: str) -> str:
    return next(f.home for f in FACTS if f.name == name)


def test_the_table_names_real_homes():
    for fact in FACTS:
        path = fact.home.split()[0]
        assert (ROOT / path).is_file(), fact
        assert path in HOMES
        assert fact.values or fact.sets, fact


def test_the_scanner_sees_what_it_must():
    """Near misses and real copies, so a scanner that finds nothing cannot pass."""
    found = list(_python_literals('"""docs: com.shadowmap.bridge"""\nA = "com.shadowmap.bridge"\n'
                                  'B = ("low", "medium", "high", "critical")\nC = "see /run/shadowmap/agent.sock now"\n'))
    assert (2, "com.shadowmap.bridge") in found and not [line for line, _ in found if line == 1]
    assert (3, frozenset(enums.FINDING_SEVERITIES)) in found
    assert not _declares("see /run/shadowmap/agent.sock now", "/run/shadowmap/agent.sock")
    assert _declares("/run/shadowmap/agent.sock", "/run/shadowmap/agent.sock")
    js = list(_js_literals("// 'com.shadowmap.bridge' in a comment\nconst H = 'com.shadowmap.bridge';\n"
                           "const S = ['paste', 'drop', 'upload', 'submit'];\n"))
    assert (2, "com.shadowmap.bridge") in js and not [line for line, _ in js if line == 1]
    assert (3, frozenset(enums.CHANNELS)) in js
    assert not _lists(frozenset({"open", "acknowledged", "resolved"}), frozenset(enums.ACTIVE_ALERT_STATUSES))
