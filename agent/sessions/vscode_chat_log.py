"""VS Code's chat session log: <chatSessions folder>/<session id>.jsonl, written by VS Code 1.109
and later (Copilot Chat 0.37+) in place of the one-document <session id>.json. It is an append
log of mutations to the same session document, replayed here into that document, which
vscode_copilot.py then reads like the older files.

The format's facts, from VS Code's own source (microsoft/vscode, src/vs/workbench/contrib/chat/
common/model/: objectMutationLog.ts, chatSessionOperationLog.ts, chatSessionStore.ts; facts, not
code, taken; docs/sessions.md cites them):
- one JSON object a line, each written with its newline:
  {kind: 0, v: <the whole document>}             the initial state (the first line);
  {kind: 1, k: <path>, v: <value>}               set the value at a path;
  {kind: 2, k: <path>, v?: [items], i?: <n>}     on the list at a path: drop what is from index n
                                                 on (when i is given), then append the items;
  {kind: 3, k: <path>}                           delete the property at a path;
  a path is a list of object keys and list indexes from the document's root;
- the document is the format-3 session (storageSchema): version, creationDate, sessionId,
  requests [{requestId, timestamp, message {text}, modelId, agent {extensionVersion}, response
  [...], result, modelState {value, completedAt}, ...}], inputState, pendingRequests, ...;
- VS Code reads the .jsonl when there is one, else the .json; after 1,024 entries it rewrites the
  file as one initial line (compaction).

Why the whole log is replayed on every change rather than read from where the last look stopped:
an entry's meaning depends on all before it. A response is rewritten from its first changed part
on (kind 2 with i) as it streams and as a tool call's state changes, a request's result is set
again whole, and compaction rewrites the file, so counting only new lines would count the same
tool call, edit or text again. Replaying is what VS Code itself does when it opens a session.

Tolerance: a line that is not JSON, not an object, of an unknown kind, before any initial line, or
whose path does not lead anywhere in the document, is counted (`unknown_lines`) and skipped; the
last piece without its newline is being written and is read once it is complete."""
from __future__ import annotations

import json
from typing import Any

from shadowmap.agent.sessions.record import SessionRecord

INITIAL, SET, PUSH, DELETE = 0, 1, 2, 3
MAX_PATH = 64                # path segments: the document is a few levels deep


def _index(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _child(node: Any, segment: Any) -> Any:
    if isinstance(node, dict) and isinstance(segment, str):
        return node.get(segment)
    if isinstance(node, list) and _index(segment) and segment < len(node):
        return node[segment]
    return None


def _parent(state: Any, path: Any) -> tuple[Any, Any] | None:
    """The container holding the path's last segment, and that segment; None when the path does
    not lead anywhere in the document."""
    if not isinstance(path, list) or not 0 < len(path) <= MAX_PATH:
        return None
    node = state
    for segment in path[:-1]:
        node = _child(node, segment)
        if not isinstance(node, dict | list):
            return None
    last = path[-1]
    if isinstance(node, dict) and isinstance(last, str):
        return node, last
    if isinstance(node, list) and _index(last) and last <= len(node):
        return node, last
    return None


def _set(parent: Any, key: Any, value: Any) -> None:
    if isinstance(parent, list) and key == len(parent):
        parent.append(value)
    else:
        parent[key] = value


def _apply(state: dict[str, Any], entry: dict[str, Any]) -> bool:
    """One mutation applied to the document; False when it does not fit it (nothing changed)."""
    kind, found = entry.get("kind"), _parent(state, entry.get("k"))
    if found is None or kind not in (SET, PUSH, DELETE) or isinstance(kind, bool):
        return False
    parent, key = found
    if kind == SET:
        if "v" not in entry:
            return False
        _set(parent, key, entry["v"])
    elif kind == DELETE:
        if isinstance(parent, dict):
            parent.pop(key, None)
        elif key < len(parent):
            parent[key] = None
    else:
        current = parent[key] if isinstance(parent, dict) or key < len(parent) else None
        items, cut = entry.get("v"), entry.get("i")
        if not isinstance(current, list | type(None)) or not isinstance(items, list | type(None)) \
                or not (cut is None or _index(cut)):
            return False
        current = current if current is not None else []
        if cut is not None:
            del current[cut:]
        current.extend(items or [])
        _set(parent, key, current)
    return True


def replay(data: bytes, record: SessionRecord) -> dict[str, Any] | None:
    """The session document the log's complete lines build; None when no line set it."""
    state: dict[str, Any] | None = None
    *complete, _being_written = data.split(b"\n")
    for raw in complete:
        if not raw.strip():
            continue
        try:
            entry = json.loads(raw)
        except ValueError:                         # a torn write, or not this format
            record.unknown_lines += 1
            continue
        if not isinstance(entry, dict):
            record.unknown_lines += 1
        elif entry.get("kind") == INITIAL and not isinstance(entry.get("kind"), bool):
            if isinstance(entry.get("v"), dict):
                state = entry["v"]
            else:
                record.unknown_lines += 1
        elif state is None or not _apply(state, entry):
            record.unknown_lines += 1              # before the initial line, an unknown kind, a path to nowhere
    return state
