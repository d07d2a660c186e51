"""Files and folders for ``shadowmap scan``: walking (respecting .gitignore), reading text,
and SARIF 2.1.0 output for CI. Import-light: no Presidio here.

SARIF carries rule ids, locations, data classes and severities, never a matched value.
"""
from __future__ import annotations

import bisect
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pathspec

from shadowmap.detectors.settings import MAX_SCAN_CHARS

# Enough bytes for MAX_SCAN_CHARS characters of UTF-8; the engine scans no more.
MAX_READ_BYTES = 4 * MAX_SCAN_CHARS
_SNIFF_BYTES = 8192
_ALWAYS_SKIPPED = {".git", ".hg", ".svn"}
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_SARIF_LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note"}


def _gitignore(directory: Path) -> pathspec.PathSpec | None:
    path = directory / ".gitignore"
    try:
        lines = path.read_text("utf-8", errors="replace").splitlines()
    except OSError:
        return None
    return pathspec.GitIgnoreSpec.from_lines(lines)


def _ignored(path: Path, is_dir: bool, specs: list[tuple[Path, pathspec.PathSpec]]) -> bool:
    for base, spec in specs:
        rel = path.relative_to(base).as_posix() + ("/" if is_dir else "")
        if spec.match_file(rel):
            return True
    return False


def walk(root: Path) -> Iterator[Path]:
    """Regular files under ``root``, sorted, skipping VCS folders and whatever the
    .gitignore files of ``root`` and its subfolders exclude."""
    specs_by_dir: dict[Path, list[tuple[Path, pathspec.PathSpec]]] = {}
    for current, dirs, files in os.walk(root):
        here = Path(current)
        inherited = specs_by_dir.get(here, [])
        own = _gitignore(here)
        specs = inherited + [(here, own)] if own else inherited
        dirs[:] = sorted(d for d in dirs if d not in _ALWAYS_SKIPPED and not _ignored(here / d, True, specs))
        for d in dirs:
            specs_by_dir[here / d] = specs
        for name in sorted(files):
            path = here / name
            if path.is_file() and not path.is_symlink() and not _ignored(path, False, specs):
                yield path


def iter_paths(paths: Iterable[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            yield from walk(path)
        else:
            yield path


def read_text(path: Path) -> str | None:
    """The file's text (first MAX_READ_BYTES), or None for a binary file."""
    with path.open("rb") as handle:
        data = handle.read(MAX_READ_BYTES)
    if b"\0" in data[:_SNIFF_BYTES]:
        return None
    return data.decode("utf-8", errors="replace")


@dataclass(frozen=True)
class Located:
    """A finding with its file and 1-based line/column span (columns in code points)."""
    uri: str
    entity_type: str
    data_class: str
    severity: str
    reason: str
    score: float
    start_line: int
    start_column: int
    end_line: int
    end_column: int


def locate(uri: str, text: str, findings) -> list[Located]:
    line_starts = [0]
    position_ = text.find("\n")
    while position_ >= 0:
        line_starts.append(position_ + 1)
        position_ = text.find("\n", position_ + 1)

    def position(offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(line_starts, offset) - 1
        return line + 1, offset - line_starts[line] + 1

    out = []
    for f in findings:
        (sl, sc), (el, ec) = position(f.start), position(f.end)
        out.append(Located(uri, f.entity_type, f.data_class, f.severity, f.reason, f.score, sl, sc, el, ec))
    return out


def sarif(located: list[Located], default_reasons: dict[str, str], version: str) -> dict[str, Any]:
    """A SARIF 2.1.0 log: one rule per entity type seen, one result per finding."""
    rule_ids = sorted({loc.entity_type for loc in located})
    index = {rule: i for i, rule in enumerate(rule_ids)}
    rules = [{
        "id": rule,
        "name": rule.title().replace("_", ""),
        "shortDescription": {"text": default_reasons.get(rule, rule)},
        "properties": {"data_class": next(loc.data_class for loc in located if loc.entity_type == rule)},
    } for rule in rule_ids]
    results = [{
        "ruleId": loc.entity_type,
        "ruleIndex": index[loc.entity_type],
        "level": _SARIF_LEVEL.get(loc.severity, "warning"),
        "message": {"text": loc.reason},
        "locations": [{"physicalLocation": {
            "artifactLocation": {"uri": loc.uri},
            "region": {"startLine": loc.start_line, "startColumn": loc.start_column,
                       "endLine": loc.end_line, "endColumn": loc.end_column},
        }}],
        "properties": {"severity": loc.severity, "data_class": loc.data_class, "score": loc.score},
    } for loc in located]
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "shadowmap", "version": version, "rules": rules,
                                "informationUri": "https://shadowmap.dev/docs/detectors"}},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    }
