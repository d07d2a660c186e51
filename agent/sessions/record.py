"""What the agent keeps of one AI coding session while reading it: counts, names and keyed hashes,
never the prompts, the code or a tool's output. Readers fill it; `as_event_data` gives the
`ai_session.recorded` event's data and `summary` what `shadowmap agent sessions` prints."""
from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from shadowmap.contract import lines as line_rule

MAX_HASHES = 10_000         # line hashes per event; more are counted, not sent
MAX_NAMES = 100             # paths, programs, servers listed per session


@dataclass
class SessionRecord:
    tool_id: str
    session_id: str
    source: str                              # the file it was read from
    versions: set[str] = field(default_factory=set)
    models: set[str] = field(default_factory=set)
    cwd: str | None = None
    branch: str | None = None
    started: str | None = None
    ended: str | None = None
    prompts: int = 0
    turns: int = 0
    permission_mode: str | None = None
    shell: Counter[str] = field(default_factory=Counter)       # program -> runs
    edits: Counter[str] = field(default_factory=Counter)       # path -> edits
    mcp: Counter[str] = field(default_factory=Counter)         # MCP server -> tool calls
    written: dict[str, list[str]] = field(default_factory=dict)  # path -> lines written (kept until hashed)
    hashed: dict[str, list[str]] = field(default_factory=dict)   # path -> line hashes of lines already compacted
    hashed_lines: int = 0                                      # the written lines those hashes stand for
    texts: list[str] = field(default_factory=list)             # prompts and tool output, scanned then dropped
    unknown_lines: int = 0                                     # lines no reader understood (skipped)

    def seen(self, ts: Any) -> None:
        if isinstance(ts, str) and ts:
            self.started = min(self.started or ts, ts)
            self.ended = max(self.ended or ts, ts)

    def wrote(self, path: Any, lines: list[str]) -> None:
        if isinstance(path, str) and path and lines:
            self.written.setdefault(path, []).extend(lines)
            self.edits[path] += 1

    def ran(self, command: Any) -> None:
        """A shell command, kept by program name only (its arguments may hold anything)."""
        words = command if isinstance(command, list) else str(command or "").split()
        words = [w for w in words if isinstance(w, str) and w not in ("bash", "sh", "-c", "-lc", "zsh")]
        if words:
            first = words[0].strip().split()[0] if words[0].strip() else ""
            program = os.path.basename(first)[:64]
            if program:
                self.shell[program] += 1

    def called(self, tool_name: str) -> None:
        """A tool call; MCP tools (mcp__<server>__<tool>) are counted by server."""
        if tool_name.startswith("mcp__"):
            server = tool_name.split("__")[1] if tool_name.count("__") >= 2 else tool_name[5:]
            self.mcp[server[:100]] += 1

    def lines_written(self) -> int:
        return self.hashed_lines + sum(len([x for x in lines if line_rule.normalise(x) is not None])
                                       for lines in self.written.values())

    def files_written(self) -> list[str]:
        return sorted(set(self.written) | set(self.hashed))

    def compact(self, org_key: bytes) -> None:
        """Trade the lines written so far for their keyed hashes (what the event sends anyway), so
        neither memory nor the agent's saved state holds code. The hashes are under this org key."""
        key = line_rule.line_key(org_key)
        self.hashed_lines = self.lines_written()
        for path, lines in self.written.items():
            self.hashed[path] = list(dict.fromkeys([*self.hashed.get(path, []), *line_rule.hashes(key, lines)]))
        self.written = {}

    def line_hashes(self, org_key: bytes) -> tuple[list[dict[str, Any]], int]:
        """Per file, the keyed hashes of the lines written; and how many were left out by the cap."""
        key = line_rule.line_key(org_key)
        out, kept, dropped = [], 0, 0
        for path in self.files_written():
            digests = list(dict.fromkeys([*self.hashed.get(path, []),
                                          *line_rule.hashes(key, self.written.get(path, []))]))
            room = max(0, MAX_HASHES - kept)
            dropped += max(0, len(digests) - room)
            if digests[:room]:
                out.append({"path": path[:1024], "hashes": digests[:room]})
                kept += len(digests[:room])
        return out, dropped

    def summary(self, repo: str | None, findings: list[dict[str, Any]]) -> dict[str, Any]:
        return {"tool": self.tool_id, "session_id": self.session_id, "models": sorted(self.models),
                "versions": sorted(self.versions), "repo": repo, "branch": self.branch,
                "started": self.started, "ended": self.ended, "prompts": self.prompts,
                "files_written": self.files_written()[:MAX_NAMES], "lines_written": self.lines_written(),
                "permission_mode": self.permission_mode,
                "findings": [{"entity_type": f["entity_type"], "data_class": f["data_class"], "count": f["count"]}
                             for f in findings],
                "unknown_lines": self.unknown_lines}

    def as_event_data(self, org_key: bytes, repo: str | None, findings: list[dict[str, Any]],
                      user: str) -> dict[str, Any]:
        files, dropped = self.line_hashes(org_key)
        data: dict[str, Any] = {
            "tool_id": self.tool_id, "session_id": self.session_id[:128], "os_user": user[:256],
            "models": sorted(self.models)[:20], "prompts": self.prompts, "turns": self.turns,
            "tools": {"shell": dict(self.shell.most_common(MAX_NAMES)),
                      "edits": dict(Counter({p[:1024]: n for p, n in self.edits.items()}).most_common(MAX_NAMES)),
                      "mcp": dict(self.mcp.most_common(MAX_NAMES))},
            "lines": files, "lines_written": self.lines_written(), "lines_not_sent": dropped,
            "findings": findings[:50], "unknown_lines": self.unknown_lines,
        }
        optional = {"tool_version": max(self.versions) if self.versions else None, "repo": repo,
                    "branch": self.branch, "started": self.started, "ended": self.ended,
                    "permission_mode": self.permission_mode}
        data.update({k: v[:256] for k, v in optional.items() if isinstance(v, str) and v})
        return data
