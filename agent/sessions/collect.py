"""One pass over every coding agent's session store in the given homes: each session read,
merged with its subagents' files, attributed to its repository (the session's folder, as the
agent's discovery reads repositories: .git/config, never by running git), and what the
detectors find in its prompts and tool output summed up as keyed hashes. The text is dropped
as soon as it is scanned; nothing of it is kept or printed."""
from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shadowmap.agent.discovery.repos import repository_of
from shadowmap.agent.sessions.readers import READERS, read_aider
from shadowmap.agent.sessions.record import FIRST_AT, SessionRecord

log = logging.getLogger(__name__)
AIDER_HISTORY = ".aider.chat.history.md"
AIDER_DEPTH = 3                    # folders below a home searched for aider's history files
MAX_SCAN_CHARS = 2 * 1024 * 1024   # of one session's prompts and tool output
Scanner = Callable[[str], list[dict[str, Any]]]   # text -> findings summary (events.v1 finding)


@dataclass
class Collected:
    record: SessionRecord
    repo: str | None
    findings: list[dict[str, Any]] = field(default_factory=list)


def merge(into: SessionRecord, other: SessionRecord) -> None:
    """A subagent's file into its session: counts add up, sets join."""
    into.versions |= other.versions
    into.models |= other.models
    into.seen(other.started)
    into.seen(other.ended)
    into.prompts += other.prompts
    into.turns += other.turns
    into.shell.update(other.shell)
    into.edits.update(other.edits)
    into.mcp.update(other.mcp)
    for path, lines in other.written.items():
        into.written.setdefault(path, []).extend(lines)
    for path, digests in other.hashed.items():
        into.hashed[path] = list(dict.fromkeys([*into.hashed.get(path, []), *digests]))
    into.hashed_lines += other.hashed_lines
    into.text_times.extend([*other.text_times, *[None] * (len(other.texts) - len(other.text_times))][:len(other.texts)])
    into.texts.extend(other.texts)
    into.add_steps(other.steps, other.steps_dropped)
    into.unknown_lines += other.unknown_lines
    into.cwd = into.cwd or other.cwd
    into.branch = into.branch or other.branch
    into.permission_mode = into.permission_mode or other.permission_mode


def aider_histories(home: Path, depth: int = AIDER_DEPTH) -> list[Path]:
    found, level = [], [home]
    for _ in range(depth + 1):
        below: list[Path] = []
        for folder in level:
            candidate = folder / AIDER_HISTORY
            if candidate.is_file():
                found.append(candidate)
            try:
                below.extend(Path(e.path) for e in os.scandir(folder)
                             if e.is_dir(follow_symlinks=False) and not e.name.startswith("."))
            except OSError:
                continue
        level = below[:5000]
    return found


def read_home(home: Path) -> list[SessionRecord]:
    sessions: dict[tuple[str, str], SessionRecord] = {}
    for _tool, (files, read) in READERS.items():
        for path in files(home):
            try:
                record = read(path)
            except OSError as exc:                   # vanished or unreadable: the next pass
                log.debug("session file %s unreadable: %s", path, exc)
                continue
            key = (record.tool_id, record.session_id)
            if key in sessions:
                merge(sessions[key], record)
            else:
                sessions[key] = record
    for history in aider_histories(home):
        for record in read_aider(history):
            sessions[(record.tool_id, record.session_id)] = record
    return list(sessions.values())


def _findings(record: SessionRecord, scanner: Scanner | None) -> list[dict[str, Any]]:
    texts = record.timed_texts()
    record.texts, record.text_times = [], []        # dropped whatever happens next
    if scanner is None:
        return []
    merged: dict[str, dict[str, Any]] = {}
    budget = MAX_SCAN_CHARS
    for text, at in texts:
        if budget <= 0:
            break
        piece = text[:budget]
        budget -= len(piece)
        for finding in scanner(piece) if piece.strip() else []:
            first = {FIRST_AT: at} if at else {}        # on the timeline when first found
            into = merged.setdefault(finding["entity_type"], {**finding, "hashes": [], "count": 0, **first})
            into["count"] += finding["count"]
            into["hashes"] = list(dict.fromkeys([*into["hashes"], *finding["hashes"]]))[:50]
    return sorted(merged.values(), key=lambda f: f["entity_type"])


def collect(homes: Iterable[Path], scanner: Scanner | None = None) -> list[Collected]:
    out = []
    for home in homes:
        for record in read_home(Path(home)):
            repository = repository_of(record.cwd) if record.cwd and Path(record.cwd).is_dir() else None
            if repository and not record.branch:
                record.branch = repository.branch
            out.append(Collected(record, repository.repo if repository else None, _findings(record, scanner)))
    return sorted(out, key=lambda c: (c.record.started or "", c.record.tool_id, c.record.session_id))
