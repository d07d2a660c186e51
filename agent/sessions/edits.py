"""The lines an edit adds, in the three shapes coding agents write them: a replacement (old text
-> new text: the new lines the old did not have), an apply_patch envelope (Codex: `*** Add
File:` / `*** Update File:` sections whose `+` lines are added), and aider's SEARCH/REPLACE
blocks in its chat history."""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator

_PATCH_FILE = re.compile(r"^\*\*\* (Add|Update) File: (.+)$")
_PATCH_OTHER = re.compile(r"^\*\*\* (Delete File|Move to|End Patch|Begin Patch|End of File)")


def added_lines(old: str, new: str) -> list[str]:
    """The lines of ``new`` that ``old`` did not have (as many times as they were added)."""
    before = Counter(old.splitlines())
    added = []
    for line in new.splitlines():
        if before[line]:
            before[line] -= 1
        else:
            added.append(line)
    return added


def patch_files(patch: str) -> Iterator[tuple[str, list[str]]]:
    """(path, added lines) per file of an apply_patch envelope."""
    path: str | None = None
    lines: list[str] = []
    for raw in patch.splitlines():
        header = _PATCH_FILE.match(raw)
        if header or _PATCH_OTHER.match(raw):
            if path and lines:
                yield path, lines
            path, lines = (header.group(2).strip(), []) if header else (None, [])
            continue
        if path and raw.startswith("+") and not raw.startswith("+++"):
            lines.append(raw[1:])
    if path and lines:
        yield path, lines


_FENCE = re.compile(r"^(```|~~~)")


def search_replace_blocks(text: str) -> Iterator[tuple[str, list[str]]]:
    """(path, added lines) per SEARCH/REPLACE block: the file name stands on the line before the
    block (or before its code fence), then <<<<<<< SEARCH, the old lines, =======, the new
    lines, >>>>>>> REPLACE."""
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        if lines[i].strip() != "<<<<<<< SEARCH":
            i += 1
            continue
        back = i - 1
        while back >= 0 and (not lines[back].strip() or _FENCE.match(lines[back].strip())):
            back -= 1
        path = lines[back].strip() if back >= 0 else ""
        try:
            middle = next(j for j in range(i + 1, len(lines)) if lines[j].strip() == "=======")
            end = next(j for j in range(middle + 1, len(lines)) if lines[j].strip().startswith(">>>>>>> REPLACE"))
        except StopIteration:
            return                                   # a block cut off at the end of the file
        if path and " " not in path.strip("`"):
            yield path.strip("`"), added_lines("\n".join(lines[i + 1:middle]), "\n".join(lines[middle + 1:end]))
        i = end + 1
