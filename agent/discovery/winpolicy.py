"""Windows registry policies as data. Group Policy keeps a product's policies under
HKLM\\<key> (for example Software\\Policies\\Google\\Chrome): a scalar policy is a value
(REG_SZ, or REG_DWORD for booleans and numbers), a list policy is a subkey of numbered values
("ExtensionInstallForcelist\\1", "\\2", ...), a dictionary policy such as ExtensionSettings is
one REG_SZ holding JSON, and an extension's managed storage lives under
3rdparty\\extensions\\<id>\\policy.

``read_tree`` walks a key with winreg (Windows only: it cannot run elsewhere, so it is verified
by reading only); everything else works on the tree it returns, ``{"values": {name: value},
"keys": {name: tree}}``, so tests lay the registry out as data."""
from __future__ import annotations

import json
import sys
from typing import Any

MAX_DEPTH = 6
MAX_ENTRIES = 2000          # values and subkeys per walk: a hostile or huge key stays bounded
MAX_JSON_CHARS = 1024 * 1024
REG_DWORD, REG_MULTI_SZ, REG_QWORD = 4, 7, 11


def read_tree(key_path: str) -> dict[str, Any] | None:
    """The HKLM key as a tree, or None when it is absent (or this is not Windows)."""
    if sys.platform != "win32":  # (also tells the type checker the rest is Windows-only)
        return None
    import winreg

    budget = [MAX_ENTRIES]

    def walk(handle: Any, depth: int) -> dict[str, Any]:   # a winreg key handle
        tree: dict[str, Any] = {"values": {}, "keys": {}}
        index = 0
        while budget[0] > 0:
            try:
                name, value, kind = winreg.EnumValue(handle, index)
            except OSError:
                break
            tree["values"][name] = _value(value, kind)
            index, budget[0] = index + 1, budget[0] - 1
        index = 0
        while depth < MAX_DEPTH and budget[0] > 0:
            try:
                sub = winreg.EnumKey(handle, index)
            except OSError:
                break
            index, budget[0] = index + 1, budget[0] - 1
            try:
                with winreg.OpenKey(handle, sub) as child:
                    tree["keys"][sub] = walk(child, depth + 1)
            except OSError:
                continue
        return tree

    try:
        with winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE, key_path) as root:
            return walk(root, 0)
    except OSError:
        return None


def _value(value: Any, kind: int) -> Any:
    if kind in (REG_DWORD, REG_QWORD):
        return int(value)
    if kind == REG_MULTI_SZ:
        return [str(v) for v in value]
    return value if isinstance(value, (str, int)) else str(value)


def _numbered(tree: dict[str, Any]) -> list[Any]:
    """A list policy's entries in their numeric order ("1", "2", ..., "10")."""
    values = tree.get("values") or {}
    ordered = sorted((int(name), value) for name, value in values.items() if str(name).isdigit())
    return [value for _, value in ordered]


def _maybe_json(value: Any) -> Any:
    if isinstance(value, str) and value.lstrip().startswith(("{", "[")) and len(value) <= MAX_JSON_CHARS:
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _managed_storage(tree: dict[str, Any]) -> dict[str, Any]:
    """3rdparty\\extensions\\<id>\\policy → {"extensions": {id: {name: value}}} (the JSON shape)."""
    extensions = ((tree.get("keys") or {}).get("extensions") or {}).get("keys") or {}
    found: dict[str, Any] = {}
    for ext_id, ext in extensions.items():
        policy = (ext.get("keys") or {}).get("policy")
        if isinstance(policy, dict):
            found[ext_id] = {name: _maybe_json(v) for name, v in (policy.get("values") or {}).items()}
    return {"extensions": found}


def policy_document(tree: dict[str, Any] | None) -> dict[str, Any]:
    """A Chromium-family policy key as the document a Linux policy JSON file would hold."""
    if not isinstance(tree, dict):
        return {}
    doc: dict[str, Any] = {name: _maybe_json(value) for name, value in (tree.get("values") or {}).items()}
    for name, sub in (tree.get("keys") or {}).items():
        if not isinstance(sub, dict):
            continue
        if name == "3rdparty":
            doc["3rdparty"] = _managed_storage(sub)
        else:
            doc[name] = _numbered(sub)
    return doc
