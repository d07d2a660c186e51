"""GitHub Copilot chat in VS Code: <VS Code user data>/User/workspaceStorage/<workspace hash>/
chatSessions/<session id>.json, one JSON document per session, rewritten as the chat grows (so it
is read whole, like Gemini CLI's); from VS Code 1.109 (Copilot Chat 0.37+) <session id>.jsonl, a
log of mutations to the same document, replayed whole (vscode_chat_log.py). Where both files of a
session are there, the .jsonl is read, as VS Code does. Chats of windows without a folder are in
<user data>/User/globalStorage/emptyWindowChatSessions/.

The format is not documented by Microsoft. What this reader relies on, as a public
specification of these files describes it for the Copilot Chat extension 0.33 (facts, not code,
taken; docs/sessions.md says which were checked):
- the user data folder: ~/.config/Code (Linux), ~/Library/Application Support/Code (macOS),
  %APPDATA%\\Code (Windows), and "Code - Insiders" beside each;
- the workspace folder's workspace.json {folder: "file:///…"} names the folder chatted in;
- the session {version (3), sessionId, creationDate, lastMessageDate (Unix milliseconds),
  requests: [...]}; a request {message {text}, timestamp (ms), modelId ("copilot/<model>"),
  agent {extensionVersion}, isCanceled (in the log: modelState {value: 2 when cancelled,
  completedAt (ms)}), response: [...], result {metadata {toolCallRounds:
  [{toolCalls: [{name, arguments (JSON text)}]}], toolCallResults}}};
- a response item {kind: "toolInvocationSerialized", toolId, source {type: internal|mcp|extension,
  label (an MCP tool's server)}, isConfirmed {type: 4 when auto-approved}, toolSpecificData
  {kind: "terminal", commandLine {original}}}; text items {value} (the answer: scanned, never kept).
Not in those facts, so tried tolerantly: the arguments of the edit tools (create_file,
replace_string_in_file, multi_replace_string_in_file: filePath or file_path, oldString,
newString, content). Not read: inputState (the unsent draft) and pendingRequests (queued, not
sent yet)."""
from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from shadowmap.agent.sessions import vscode_chat_log
from shadowmap.agent.sessions.edits import added_lines
from shadowmap.agent.sessions.formats import MAX_FILE_BYTES, as_dict
from shadowmap.agent.sessions.record import SessionRecord

TOOL_ID = "github-copilot"
USER_DATA = (Path(".config"), Path("Library") / "Application Support", Path("AppData") / "Roaming")
EDITIONS = ("Code", "Code - Insiders")
AUTO_APPROVED = 4                      # isConfirmed.type of a tool call nobody confirmed
CANCELLED = 2                          # modelState.value of a cancelled response (ResponseModelState)
MAX_OUTPUT_CHARS = 100_000
EDIT_TOOLS = ("create_file", "replace_string_in_file", "multi_replace_string_in_file")


def files(home: Path) -> list[Path]:
    """Each session's file: its .jsonl log where there is one, else its .json."""
    found: list[Path] = []
    for base in USER_DATA:
        for edition in EDITIONS:
            user = home / base / edition / "User"
            for folder in [*sorted((user / "workspaceStorage").glob("*/chatSessions")),
                           user / "globalStorage" / "emptyWindowChatSessions"]:
                logs = sorted(folder.glob("*.jsonl"))
                logged = {path.stem for path in logs}
                found.extend([*logs, *(p for p in sorted(folder.glob("*.json")) if p.stem not in logged)])
    return found


def _iso(millis: Any) -> str | None:
    if isinstance(millis, bool) or not isinstance(millis, int | float) or not 0 < millis < 10**14:
        return None
    return datetime.fromtimestamp(millis / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _workspace_folder(path: Path) -> str | None:
    """The folder chatted in, from workspace.json beside chatSessions/ (a file: URI)."""
    try:
        folder = json.loads((path.parent.parent / "workspace.json").read_bytes()[:64 * 1024]).get("folder")
    except (OSError, ValueError, AttributeError):
        return None
    if not isinstance(folder, str) or not folder.startswith("file://"):
        return None
    return unquote(urlsplit(folder).path) or None


def _arg(args: dict[str, Any], *names: str) -> Any:
    return next((args[name] for name in names if name in args), None)


def _edit(record: SessionRecord, name: str, args: dict[str, Any]) -> None:
    edits = args.get("replacements") if name == "multi_replace_string_in_file" else [args]
    for edit in edits if isinstance(edits, list) else []:
        edit = as_dict(edit)
        path = _arg(edit, "filePath", "file_path", "path") or _arg(args, "filePath", "file_path", "path")
        if name == "create_file":
            record.wrote(path, str(_arg(edit, "content", "code") or "").splitlines())
        else:
            record.wrote(path, added_lines(str(_arg(edit, "oldString", "old_string") or ""),
                                           str(_arg(edit, "newString", "new_string") or "")))


def _response(record: SessionRecord, items: Any) -> None:
    for item in items if isinstance(items, list) else []:
        item = as_dict(item)
        if item.get("kind") == "toolInvocationSerialized":
            source, specific = as_dict(item.get("source")), as_dict(item.get("toolSpecificData"))
            if source.get("type") == "mcp" and isinstance(source.get("label"), str):
                record.called(f"mcp__{source['label']}__{item.get('toolId') or 'tool'}")
            if specific.get("kind") == "terminal":
                record.ran(as_dict(specific.get("commandLine")).get("original"))
            if as_dict(item.get("isConfirmed")).get("type") == AUTO_APPROVED:
                record.permission_mode = "auto-approved tools"
        elif isinstance(item.get("value"), str) and "kind" not in item:
            record.heard(item["value"][:MAX_OUTPUT_CHARS])     # the answer may quote code or output


def _request(record: SessionRecord, request: dict[str, Any]) -> None:
    record.seen(_iso(request.get("timestamp")))
    model = request.get("modelId")
    if isinstance(model, str) and model:
        record.models.add(model.removeprefix("copilot/")[:64])
    version = as_dict(request.get("agent")).get("extensionVersion")
    if isinstance(version, str) and version:
        record.versions.add(version[:32])
    text = as_dict(request.get("message")).get("text")
    record.prompted(text if isinstance(text, str) else "")
    state = as_dict(request.get("modelState"))
    if not request.get("isCanceled") and state.get("value") != CANCELLED:
        record.turns += 1
    _response(record, request.get("response"))
    metadata = as_dict(as_dict(request.get("result")).get("metadata"))
    for round_ in metadata.get("toolCallRounds") or []:
        for call in as_dict(round_).get("toolCalls") or []:
            call = as_dict(call)
            if call.get("name") in EDIT_TOOLS:
                try:
                    args = json.loads(call.get("arguments") or "{}")
                except (TypeError, ValueError):
                    record.unknown_lines += 1
                    continue
                _edit(record, str(call["name"]), as_dict(args))
    for result in as_dict(metadata.get("toolCallResults")).values():
        for part in as_dict(result).get("content") or []:
            value = as_dict(part).get("value")
            if isinstance(value, str):
                record.heard(value[:MAX_OUTPUT_CHARS])
    record.seen(_iso(state.get("completedAt")))


def read(path: Path) -> SessionRecord:
    record = SessionRecord(TOOL_ID, path.stem, str(path), cwd=_workspace_folder(path))
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_FILE_BYTES)
        doc = vscode_chat_log.replay(raw, record) if path.suffix == ".jsonl" else json.loads(raw)
    except (OSError, ValueError):
        record.unknown_lines += 1                 # being rewritten, or not this format
        return record
    if not isinstance(doc, dict) or not isinstance(doc.get("requests"), list):
        record.unknown_lines += 1
        return record
    record.session_id = str(doc.get("sessionId") or record.session_id)[:128]
    record.seen(_iso(doc.get("creationDate")))
    for request in doc["requests"]:
        if isinstance(request, dict):
            _request(record, request)
        else:
            record.unknown_lines += 1
    record.seen(_iso(doc.get("lastMessageDate")))
    return record
