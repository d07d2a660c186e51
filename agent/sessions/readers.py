"""Readers for the local session stores of coding agents. The formats are undocumented and
change, so every reader is tolerant: a line it does not understand is counted and skipped,
never fatal, and each reader keeps the versions it has seen (`versions` of the record).

Formats, as public readers of these files describe them (facts, not code, taken):
- Claude Code: ~/.claude/projects/<project dir>/<session>.jsonl (subagents' files under the
  session's folder), one JSON object a line: type user|assistant|summary|system, sessionId,
  cwd, gitBranch, version, timestamp, permissionMode, message {role, model, content: text or
  [{type: text|tool_use|tool_result, name, input}]}; tools Write {file_path, content}, Edit
  {file_path, old_string, new_string}, MultiEdit {file_path, edits}, Bash {command}, mcp__<server>__<tool>.
- Codex CLI: ~/.codex/sessions/YYYY/MM/DD/rollout-*.jsonl: {timestamp, type, payload}; type
  session_meta {id, cwd, cli_version, git {branch}}, turn_context {model, approval_policy,
  sandbox_policy}, response_item {type message|function_call|custom_tool_call, name,
  arguments|input}, event_msg {type user_message|...}; edits are apply_patch envelopes.
- Gemini CLI: ~/.gemini/tmp/<project hash>/chats/session-*.json: {sessionId, startTime,
  lastUpdated, messages: [{type: user|gemini, timestamp, model, toolCalls: [{name, args}]}]};
  tools write_file {file_path, content}, replace {file_path, old_string, new_string},
  run_shell_command {command}.
- aider: .aider.chat.history.md in a repository: `#### ` lines are the user's prompts,
  SEARCH/REPLACE blocks the edits, `# aider chat started at <time>` a session's start.
- GitHub Copilot CLI, Copilot chat in VS Code and Cursor's agent transcripts: copilot_cli.py,
  vscode_copilot.py and cursor_agent.py."""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from shadowmap.agent.sessions import copilot_cli, cursor_agent, vscode_copilot
from shadowmap.agent.sessions.edits import added_lines, patch_files, search_replace_blocks
from shadowmap.agent.sessions.formats import MAX_FILE_BYTES
from shadowmap.agent.sessions.formats import as_dict as _dict
from shadowmap.agent.sessions.formats import json_lines as _json_lines
from shadowmap.agent.sessions.formats import text_of as _text_of
from shadowmap.agent.sessions.record import SessionRecord

# ---- Claude Code -------------------------------------------------------------------------

def claude_code_files(home: Path) -> list[Path]:
    return sorted((home / ".claude" / "projects").glob("*/*.jsonl")) + \
        sorted((home / ".claude" / "projects").glob("*/*/subagents/*.jsonl"))


def _claude_tool(record: SessionRecord, block: dict) -> None:
    name, args = str(block.get("name") or ""), _dict(block.get("input"))
    record.called(name)
    if name == "Write":
        record.wrote(args.get("file_path"), str(args.get("content") or "").splitlines())
    elif name == "Edit":
        record.wrote(args.get("file_path"), added_lines(str(args.get("old_string") or ""),
                                                        str(args.get("new_string") or "")))
    elif name == "MultiEdit":
        for edit in args.get("edits") or []:
            if isinstance(edit, dict):
                record.wrote(args.get("file_path"), added_lines(str(edit.get("old_string") or ""),
                                                                str(edit.get("new_string") or "")))
    elif name == "Bash":
        record.ran(args.get("command"))


def claude_code_session(path: Path) -> str:
    # a subagent's file belongs to its parent session (<session>/subagents/<agent>.jsonl)
    return path.parent.parent.name if path.parent.name == "subagents" else path.stem


def feed_claude_code(record: SessionRecord, item: dict) -> None:
    kind = item.get("type")
    if kind not in ("user", "assistant", "summary", "system"):
        record.unknown_lines += 1
        return
    record.seen(item.get("timestamp"))
    for key, attr in (("cwd", "cwd"), ("gitBranch", "branch"), ("permissionMode", "permission_mode")):
        if isinstance(item.get(key), str) and item[key]:
            setattr(record, attr, item[key])
    if isinstance(item.get("version"), str):
        record.versions.add(item["version"][:32])
    message = _dict(item.get("message"))
    content = message.get("content")
    if kind == "user":
        blocks = content if isinstance(content, list) else []
        if isinstance(content, str) or any(isinstance(b, dict) and b.get("type") == "text" for b in blocks):
            record.prompts += 1
            record.step("prompt")
        record.heard(_text_of(content))
    elif kind == "assistant":
        record.turns += 1
        if isinstance(message.get("model"), str) and not message["model"].startswith("<"):
            record.models.add(message["model"][:64])
        for block in content if isinstance(content, list) else []:
            if isinstance(block, dict) and block.get("type") == "tool_use":
                _claude_tool(record, block)


def read_claude_code(path: Path) -> SessionRecord:
    record = SessionRecord("claude-code", claude_code_session(path), str(path))
    for item in _json_lines(path, record):
        feed_claude_code(record, item)
    return record


# ---- Codex CLI ---------------------------------------------------------------------------

def codex_files(home: Path) -> list[Path]:
    return sorted((home / ".codex" / "sessions").glob("*/*/*/rollout-*.jsonl"))


def _codex_call(record: SessionRecord, name: str, arguments: Any) -> None:
    record.called(name)
    if isinstance(arguments, str):
        try:
            parsed = json.loads(arguments)
        except ValueError:
            parsed = arguments                    # custom tools carry their input as text
    else:
        parsed = arguments
    if name == "apply_patch":
        text = parsed.get("input") if isinstance(parsed, dict) else parsed
        for path, lines in patch_files(str(text or "")):
            record.wrote(path, lines)
    elif name in ("shell", "exec_command", "local_shell"):
        command = parsed.get("command") or parsed.get("cmd") if isinstance(parsed, dict) else None
        if isinstance(command, list) and command[:1] == ["apply_patch"] and len(command) > 1:
            for path, lines in patch_files(str(command[1])):
                record.wrote(path, lines)
        else:
            record.ran(command)


def codex_session(path: Path) -> str:
    return path.stem.removeprefix("rollout-")


def feed_codex(record: SessionRecord, item: dict) -> None:
    payload = _dict(item.get("payload"))
    record.seen(item.get("timestamp"))
    handler = _CODEX_ITEMS.get(str(item.get("type")))
    if handler is not None:
        handler(record, payload)
    elif item.get("type") not in ("compacted", "reasoning"):
        record.unknown_lines += 1


def read_codex(path: Path) -> SessionRecord:
    record = SessionRecord("codex-cli", codex_session(path), str(path))
    for item in _json_lines(path, record):
        feed_codex(record, item)
    return record


def _codex_meta(record: SessionRecord, payload: dict) -> None:
    record.session_id = str(payload.get("id") or record.session_id)
    record.cwd = payload.get("cwd") or record.cwd
    if isinstance(payload.get("cli_version"), str):
        record.versions.add(payload["cli_version"][:32])
    git = _dict(payload.get("git"))
    record.branch = git.get("branch") or record.branch


def _codex_turn(record: SessionRecord, payload: dict) -> None:
    if isinstance(payload.get("model"), str):
        record.models.add(payload["model"][:64])
    policy, sandbox = payload.get("approval_policy"), payload.get("sandbox_policy")
    mode = sandbox.get("mode") if isinstance(sandbox, dict) else sandbox
    record.permission_mode = "/".join(str(x) for x in (policy, mode) if x) or record.permission_mode


def _codex_response(record: SessionRecord, payload: dict) -> None:
    ptype = payload.get("type")
    if ptype == "message" and payload.get("role") == "assistant":
        record.turns += 1
    elif ptype in ("function_call", "custom_tool_call"):
        _codex_call(record, str(payload.get("name") or ""), payload.get("arguments", payload.get("input")))
    elif ptype == "function_call_output":
        record.heard(str(payload.get("output") or "")[:100_000])


def _codex_event(record: SessionRecord, payload: dict) -> None:
    if payload.get("type") == "user_message":
        record.prompts += 1
        record.step("prompt")
        record.heard(str(payload.get("message") or ""))


_CODEX_ITEMS = {"session_meta": _codex_meta, "turn_context": _codex_turn, "response_item": _codex_response,
                "event_msg": _codex_event}


# ---- Gemini CLI --------------------------------------------------------------------------

def gemini_files(home: Path) -> list[Path]:
    return sorted((home / ".gemini" / "tmp").glob("*/chats/*.json"))


def read_gemini(path: Path) -> SessionRecord:
    record = SessionRecord("gemini-cli", path.stem, str(path))
    try:
        doc = json.loads(path.read_bytes()[:MAX_FILE_BYTES])
    except (OSError, ValueError):
        record.unknown_lines += 1
        return record
    if not isinstance(doc, dict):
        record.unknown_lines += 1
        return record
    record.session_id = str(doc.get("sessionId") or record.session_id)
    record.seen(doc.get("startTime"))
    record.seen(doc.get("lastUpdated"))
    for message in doc.get("messages") or []:
        if not isinstance(message, dict) or message.get("type") not in ("user", "gemini", "info", "error"):
            record.unknown_lines += 1
            continue
        record.seen(message.get("timestamp"))
        if message["type"] == "user":
            record.prompts += 1
            record.step("prompt")
            record.heard(_text_of(message.get("content")))
        elif message["type"] == "gemini":
            record.turns += 1
            if isinstance(message.get("model"), str):
                record.models.add(message["model"][:64])
            for call in message.get("toolCalls") or []:
                if isinstance(call, dict):
                    _gemini_call(record, str(call.get("name") or ""), call.get("args") or {})
    return record


def _gemini_call(record: SessionRecord, name: str, args: Any) -> None:
    args = args if isinstance(args, dict) else {}
    record.called(name)
    if name == "write_file":
        record.wrote(args.get("file_path"), str(args.get("content") or "").splitlines())
    elif name == "replace":
        record.wrote(args.get("file_path"), added_lines(str(args.get("old_string") or ""),
                                                        str(args.get("new_string") or "")))
    elif name == "run_shell_command":
        record.ran(args.get("command"))


# ---- aider -------------------------------------------------------------------------------

_AIDER_START = re.compile(r"^# aider chat started at (\S+ \S+)")


def read_aider(path: Path) -> list[SessionRecord]:
    """One record per `# aider chat started at` section of a repository's chat history."""
    try:
        text = path.read_bytes()[:MAX_FILE_BYTES].decode("utf-8", errors="replace")
    except OSError:
        return []
    records: list[SessionRecord] = []
    sections = re.split(r"(?m)^(?=# aider chat started at )", text)
    for section in sections:
        start = _AIDER_START.match(section)
        if not start:
            continue
        stamp = start.group(1).replace(" ", "T")
        record = SessionRecord("aider", f"{path.parent.name}@{stamp}", str(path), cwd=str(path.parent))
        record.seen(stamp)
        for line in section.splitlines():
            if line.startswith("#### "):
                record.prompts += 1
                record.step("prompt")
                record.heard(line[5:])
            elif line.startswith("> Model: "):
                record.models.add(line[9:].split(" with ")[0].strip()[:64])
            elif line.startswith("> Aider v"):
                record.versions.add(line[9:].split()[0][:32])
        for file_path, lines in search_replace_blocks(section):
            record.wrote(file_path, lines)
        record.turns = record.prompts
        records.append(record)
    return records


# tool -> (its files in a home, the session id of a file, how one JSON line feeds its record)
JSONL_READERS = {
    "claude-code": (claude_code_files, claude_code_session, feed_claude_code),
    "codex-cli": (codex_files, codex_session, feed_codex),
    copilot_cli.TOOL_ID: (copilot_cli.files, copilot_cli.session_of, copilot_cli.feed),
    cursor_agent.TOOL_ID: (cursor_agent.files, cursor_agent.session_of, cursor_agent.feed),
}
# tool -> (its files in a home, how one whole file is read): JSON documents rewritten as they grow
WHOLE_FILE_READERS = {
    "gemini-cli": (gemini_files, read_gemini),
    vscode_copilot.TOOL_ID: (vscode_copilot.files, vscode_copilot.read),
}
READERS = {
    "claude-code": (claude_code_files, read_claude_code),
    "codex-cli": (codex_files, read_codex),
    copilot_cli.TOOL_ID: (copilot_cli.files, copilot_cli.read),
    cursor_agent.TOOL_ID: (cursor_agent.files, cursor_agent.read),
    **WHOLE_FILE_READERS,
}
