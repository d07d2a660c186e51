"""Following the session stores as they are written, so a tool's own cleanup (transcripts deleted
after 30 days by default) cannot erase a session before it is recorded.

JSONL stores (Claude Code, Codex CLI) are read from where the last poll stopped, complete lines
only; a file that shrank or was replaced (another inode) is read again from the start. Whole-file
stores (Gemini CLI's and VS Code Copilot chat's JSON, aider's markdown) are read again when their size or time changes. The
file list is refreshed every `RESCAN_SECONDS`; between refreshes a poll costs one stat per file.
What a poll returns is each changed session, merged over its files (a Claude Code session and its
subagents), with what the detectors found in its new text added to what they found before.
With `keep_offsets` (the agent's daemon), where it stopped is saved and resumed after a restart
(offsets.py)."""
from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shadowmap.agent.sessions import offsets, readers
from shadowmap.agent.sessions.collect import Scanner, aider_histories, merge
from shadowmap.agent.sessions.record import FIRST_AT, SessionRecord

log = logging.getLogger(__name__)
RESCAN_SECONDS = 30.0
MAX_READ_PER_POLL = 64 * 1024 * 1024     # bytes of one file per poll; the rest comes next poll
SAVE_SECONDS = 30.0                      # the offsets are saved at most this often (when something was read)


@dataclass
class _File:
    user: str
    tool: str
    record: SessionRecord
    offset: int = 0
    inode: int = 0
    stamp: tuple[int, int] = (0, 0)
    partial: bytes = b""


@dataclass
class Session:
    """One session as the tail knows it: its user, its merged record, its findings so far."""
    user: str
    record: SessionRecord
    findings: dict[str, dict[str, Any]] = field(default_factory=dict)


class SessionTail:
    def __init__(self, homes: Callable[[], Iterable[tuple[str, Path]]], scanner: Scanner | None = None) -> None:
        self.homes = homes
        self.scanner = scanner
        self.files: dict[Path, _File] = {}
        self.findings: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
        self._listed = 0.0
        self.state_path: Path | None = None
        self._org_key: Callable[[], bytes] | None = None
        self._key_id = ""
        self._dirty = False
        self._saved = 0.0
        self._entries: dict[Path, bytes] = {}        # each file's saved entry, made again once it was read
        self._read_since_save: set[Path] = set()

    # -- resumable offsets (agent/sessions/offsets.py) -------------------------------------------
    def keep_offsets(self, path: Path, org_key: Callable[[], bytes]) -> None:
        """Resume from the offsets saved at ``path`` and keep saving them there. What a poll read is
        saved at the start of a later poll, after it was handed on (spooled), at most every
        SAVE_SECONDS: a crash in between reads those lines again, onto the state saved with them."""
        self.state_path, self._org_key = path, org_key
        self._key_id = offsets.key_id(org_key())
        saved = offsets.load(path, self._key_id)
        for name, entry in saved["files"].items():
            try:
                record = offsets.record_from_state(entry["record"])
                stamp = (int(entry["stamp"][0]), int(entry["stamp"][1]))
                self.files[Path(name)] = _File(str(entry["user"]), str(entry["tool"]), record,
                                               int(entry["offset"]), int(entry["inode"]), stamp)
            except (KeyError, TypeError, ValueError, IndexError):
                continue                     # that file is read again from the start
        for item in saved["findings"]:
            try:
                tool, session_id, found = item
                self.findings[(str(tool), str(session_id))] = {str(f["entity_type"]): f for f in found}
            except (TypeError, ValueError, KeyError):
                continue
        self._saved = time.monotonic()

    def _save_due(self) -> None:
        if self.state_path is None or self._org_key is None:
            return
        org_key = self._org_key()
        if offsets.key_id(org_key) != self._key_id:     # enrolled or rotated: hashes so far are under the old key
            self._key_id = offsets.key_id(org_key)
            self.files.clear()
            self.findings.clear()
            self._entries.clear()
            self._listed, self._dirty = 0.0, True
            return
        if not self._dirty or time.monotonic() - self._saved < SAVE_SECONDS:
            return
        for path in set(self._entries) - set(self.files):
            del self._entries[path]
        for path, state in self.files.items():
            if path in self._entries and path not in self._read_since_save:
                continue
            state.record.compact(org_key)
            self._entries[path] = offsets.file_entry(str(path), state.user, state.tool,
                                                     state.offset - len(state.partial), state.inode, state.stamp,
                                                     state.record)
        findings = [[tool, session_id, list(found.values())] for (tool, session_id), found in self.findings.items()]
        offsets.save(self.state_path, self._key_id, self._entries.values(), findings)
        self._dirty, self._saved = False, time.monotonic()
        self._read_since_save.clear()

    def _list(self) -> None:
        wanted: dict[Path, tuple[str, str]] = {}
        for user, home in self.homes():
            for tool, (files, _session, _feed) in readers.JSONL_READERS.items():
                wanted.update({path: (user, tool) for path in files(home)})
            for tool, (whole_files, _read) in readers.WHOLE_FILE_READERS.items():
                wanted.update({path: (user, tool) for path in whole_files(home)})
            wanted.update({path: (user, "aider") for path in aider_histories(home)})
        for path in set(self.files) - set(wanted):
            del self.files[path]            # deleted by the tool: what was read is kept in its events
            self._dirty = True
        for path, (user, tool) in wanted.items():
            if path not in self.files:
                self.files[path] = _File(user, tool, SessionRecord(tool, path.stem, str(path)))
        self._listed = time.monotonic()

    def poll(self) -> list[Session]:
        self._save_due()
        if time.monotonic() - self._listed > RESCAN_SECONDS or not self.files:
            self._list()
        changed: set[tuple[str, str]] = set()
        for path, state in list(self.files.items()):
            try:
                if self._read(path, state):
                    changed.add((state.tool, state.record.session_id))
                    self._read_since_save.add(path)
            except OSError as exc:            # gone between the listing and the read
                log.debug("session file %s unreadable: %s", path, exc)
        self._dirty = self._dirty or bool(changed)
        return [self._session(key) for key in sorted(changed)]

    def _read(self, path: Path, state: _File) -> bool:
        st = path.stat()
        if (st.st_mtime_ns, st.st_size) == state.stamp and st.st_ino == state.inode:
            return False
        replaced = st.st_ino != state.inode or st.st_size < state.offset
        state.stamp, state.inode = (st.st_mtime_ns, st.st_size), st.st_ino
        if state.tool in readers.JSONL_READERS:
            _files, session_of, feed = readers.JSONL_READERS[state.tool]
            if replaced:
                state.record, state.offset, state.partial = SessionRecord(state.tool, session_of(path), str(path)), 0, b""
            with open(path, "rb") as fh:
                fh.seek(state.offset)
                chunk = fh.read(MAX_READ_PER_POLL)
            state.offset += len(chunk)
            *complete, state.partial = (state.partial + chunk).split(b"\n")
            for raw in complete:
                self._feed_line(state, raw, feed)
            return bool(complete)
        if state.tool in readers.WHOLE_FILE_READERS:
            state.record = readers.WHOLE_FILE_READERS[state.tool][1](path)
        else:
            records = readers.read_aider(path)
            if not records:
                return False
            state.record = records[-1]           # the newest section is the session being written
        return True

    def _feed_line(self, state: _File, raw: bytes, feed: Callable[[SessionRecord, dict], None]) -> None:
        if not raw.strip():
            return
        try:
            item = json.loads(raw)
        except ValueError:
            state.record.unknown_lines += 1
            return
        if isinstance(item, dict):
            feed(state.record, item)
        else:
            state.record.unknown_lines += 1

    def _session(self, key: tuple[str, str]) -> Session:
        tool, session_id = key
        parts = [s for s in self.files.values() if s.tool == tool and s.record.session_id == session_id]
        merged = SessionRecord(tool, session_id, parts[0].record.source)
        for part in parts:
            merge(merged, part.record)
            part.record.texts, part.record.text_times = [], []     # scanned once, below, then dropped
        if tool not in readers.JSONL_READERS:    # re-read whole: its texts are all of them again
            self.findings.pop(key, None)
        found = self.findings.setdefault(key, {})
        for text, at in merged.timed_texts():
            for finding in self.scanner(text) if self.scanner and text.strip() else []:
                first = {FIRST_AT: at} if at else {}    # on the timeline when first found
                into = found.setdefault(finding["entity_type"], {**finding, "hashes": [], "count": 0, **first})
                into["count"] += finding["count"]
                into["hashes"] = list(dict.fromkeys([*into["hashes"], *finding["hashes"]]))[:50]
        merged.texts, merged.text_times = [], []
        return Session(parts[0].user, merged, found)
