"""Where the session tail stopped, kept across restarts in a small private file under the agent's
state folder (mode 0600), so a restart does not read the stores again from the start.

For each session file: its inode, size and modification time, the offset after its last complete
line, and what was read up to there (the session's counts, names and line hashes: never a prompt,
code or a partial line); for each session, what the detectors found (keyed hashes). The line and
finding hashes are made with the organisation's key, so the file names the key it was made under
(a one-way id of it) and is ignored when the key changed (enrolment, rotation): the stores are
then read again. A file that shrank or is another inode is read again from the start by the tail.
An unreadable or malformed state file is ignored the same way: nothing is lost, only re-read."""
from __future__ import annotations

import hashlib
import json
import logging
import os
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from shadowmap.agent.sessions.record import MAX_STEPS, SessionRecord

log = logging.getLogger(__name__)
STATE_FILE = "sessions.json"
VERSION = 1
_COUNTERS = ("shell", "edits", "mcp")
_TEXTS = ("tool_id", "session_id", "source", "cwd", "branch", "started", "ended", "permission_mode", "at")
_NUMBERS = ("prompts", "turns", "unknown_lines", "hashed_lines", "steps_dropped")
MAX_STEP_NAME = 1024


def key_id(org_key: bytes) -> str:
    """A one-way id of the key the saved hashes were made with."""
    return hashlib.sha256(b"shadowmap session offsets\0" + org_key).hexdigest()[:16]


def record_state(record: SessionRecord) -> dict[str, Any]:
    """A compacted record (SessionRecord.compact) as JSON-ready data."""
    if record.written or record.texts:
        raise ValueError("compact the record first: its text must not be saved")
    state: dict[str, Any] = {name: getattr(record, name) for name in (*_TEXTS, *_NUMBERS)}
    state.update({"versions": sorted(record.versions), "models": sorted(record.models), "hashed": record.hashed})
    state.update({name: dict(getattr(record, name)) for name in _COUNTERS})
    state["steps"] = record.steps          # [at, kind, name, count]: times, paths, programs; no text
    return state


def record_from_state(state: dict[str, Any]) -> SessionRecord:
    record = SessionRecord(str(state["tool_id"]), str(state["session_id"]), str(state["source"]))
    for name in _TEXTS[3:]:
        value = state.get(name)
        setattr(record, name, value if isinstance(value, str) else None)
    for name in _NUMBERS:
        setattr(record, name, int(state.get(name) or 0))
    record.versions, record.models = set(state.get("versions") or ()), set(state.get("models") or ())
    for name in _COUNTERS:
        setattr(record, name, Counter({str(k): int(v) for k, v in (state.get(name) or {}).items()}))
    record.hashed = {str(path): [str(h) for h in digests] for path, digests in (state.get("hashed") or {}).items()}
    record.steps = [[str(at)[:64], str(kind)[:16], str(name)[:MAX_STEP_NAME], int(count)]
                    for at, kind, name, count in (state.get("steps") or [])[:MAX_STEPS]]
    return record


def load(path: Path, expected_key: str) -> dict[str, Any]:
    """The saved state ({"files": {path: entry}, "findings": [[tool, session, [finding]]]}), or an
    empty one when there is none, it cannot be read, or it was made under another key."""
    empty: dict[str, Any] = {"files": {}, "findings": []}
    try:
        saved = json.loads(path.read_bytes())
    except FileNotFoundError:
        return empty
    except (OSError, ValueError) as exc:
        log.warning("session offsets %s unreadable (%s): the stores are read again", path, exc)
        return empty
    if not isinstance(saved, dict) or saved.get("version") != VERSION or saved.get("key") != expected_key:
        return empty
    files, findings = saved.get("files"), saved.get("findings")
    return {"files": files if isinstance(files, dict) else {}, "findings": findings if isinstance(findings, list) else []}


def file_entry(name: str, user: str, tool: str, offset: int, inode: int, stamp: tuple[int, int],
               record: SessionRecord) -> bytes:
    """One file's saved entry (`"path":{...}`, JSON): kept by the tail until that file changes
    again, so a save serialises the files that changed, not the whole history of sessions."""
    return (json.dumps(name) + ":" + json.dumps({
        "user": user, "tool": tool, "offset": offset, "inode": inode, "stamp": list(stamp),
        "record": record_state(record)}, separators=(",", ":"))).encode()


def save(path: Path, key: str, entries: Iterable[bytes], findings: list[Any]) -> None:
    """Write the state atomically (a private temporary file renamed over the old one); ``entries``
    are file_entry()'s, written one after the other rather than joined (the file may be megabytes)."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0), 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(f'{{"version":{VERSION},"key":{json.dumps(key)},"files":{{'.encode())
            for i, entry in enumerate(entries):
                fh.write(b"," + entry if i else entry)
            fh.write(f'}},"findings":{json.dumps(findings, separators=(",", ":"))}}}'.encode())
        os.chmod(tmp, 0o600)           # whatever the umask or an older file's mode
        os.replace(tmp, path)
    except OSError as exc:
        log.warning("cannot save session offsets to %s: %s", path, exc)
