"""What the agent keeps of one AI coding session while reading it: counts, names and keyed hashes,
never the prompts, the code or a tool's output. Readers fill it; `as_event_data` gives the
`ai_session.recorded` event's data and `summary` what `shadowmap agent sessions` prints.

The timeline (`steps`): each prompt, shell program, file edit (path, lines added) and MCP call
at the time of the line it was read from (`at`, set by `seen`), and each finding's entity type
at the time it was first found; consecutive equal steps at one time are one step with a count.
At most MAX_STEPS are kept: past that the first half stays and the newest replace the middle
(`steps_dropped` counts what went), so a long session still shows its start and its end."""
from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from shadowmap.contract import lines as line_rule

MAX_HASHES = 10_000         # line hashes per event; more are counted, not sent
MAX_NAMES = 100             # paths, programs, servers listed per session
MAX_STEPS = 300             # timeline steps kept and sent per session
FIRST_AT = "first_at"       # a finding's first time, kept with it on the agent; sent as a step


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
    at: str | None = None                                      # the time of the line being read
    text_times: list[str | None] = field(default_factory=list)  # when each of `texts` was read
    steps: list[list[Any]] = field(default_factory=list)      # [at, kind, name, count], in reading order
    steps_dropped: int = 0                                     # steps left out past MAX_STEPS

    def seen(self, ts: Any) -> None:
        if isinstance(ts, str) and ts:
            self.started = min(self.started or ts, ts)
            self.ended = max(self.ended or ts, ts)
            self.at = ts[:64]

    def step(self, kind: str, name: str = "", count: int = 1) -> None:
        """One timeline step at the current line's time (none before the first time is known)."""
        if not self.at:
            return
        last = self.steps[-1] if self.steps else None
        if last is not None and last[:3] == [self.at, kind, name]:
            last[3] += count
            return
        self.steps.append([self.at, kind, name, count])
        if len(self.steps) > MAX_STEPS:
            del self.steps[MAX_STEPS // 2]
            self.steps_dropped += 1

    def add_steps(self, steps: list[list[Any]], dropped: int) -> None:
        """Another file's steps of this session (a subagent's), in time order, within MAX_STEPS."""
        merged = sorted([*self.steps, *steps], key=lambda row: row[0])
        over = max(0, len(merged) - MAX_STEPS)
        self.steps = merged[:MAX_STEPS // 2] + merged[MAX_STEPS // 2 + over:]
        self.steps_dropped += dropped + over

    def timed_texts(self) -> list[tuple[str, str | None]]:
        """Each text to scan with when it was read (None when not known)."""
        times = self.text_times
        return [(text, times[i] if i < len(times) else None) for i, text in enumerate(self.texts)]

    def prompted(self, text: str) -> None:
        """A prompt of the user's: counted, on the timeline, its text kept only to be scanned."""
        self.prompts += 1
        self.step("prompt")
        self.heard(text)

    def heard(self, text: str) -> None:
        """Text to scan (a prompt, a tool's output), with when it was read; dropped once scanned."""
        self.texts.append(text)
        self.text_times.append(self.at)

    def wrote(self, path: Any, lines: list[str]) -> None:
        if isinstance(path, str) and path and lines:
            self.written.setdefault(path, []).extend(lines)
            self.edits[path] += 1
            self.step("edit", path[:1024], len(lines))

    def ran(self, command: Any) -> None:
        """A shell command, kept by program name only (its arguments may hold anything)."""
        words = command if isinstance(command, list) else str(command or "").split()
        words = [w for w in words if isinstance(w, str) and w not in ("bash", "sh", "-c", "-lc", "zsh")]
        if words:
            first = words[0].strip().split()[0] if words[0].strip() else ""
            program = os.path.basename(first)[:64]
            if program:
                self.shell[program] += 1
                self.step("shell", program)

    def called(self, tool_name: str) -> None:
        """A tool call; MCP tools (mcp__<server>__<tool>) are counted by server."""
        if tool_name.startswith("mcp__"):
            server = tool_name.split("__")[1] if tool_name.count("__") >= 2 else tool_name[5:]
            self.mcp[server[:100]] += 1
            self.step("mcp", server[:100])

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
                "unknown_lines": self.unknown_lines, "steps": len(self.steps) + self.steps_dropped}

    def timeline(self, findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The steps, with each finding at its first time, ordered by time (stable)."""
        rows = [*self.steps, *([f[FIRST_AT], "finding", f["entity_type"], f["count"]]
                               for f in findings if isinstance(f.get(FIRST_AT), str))]
        rows.sort(key=lambda row: row[0])
        return [{"at": at, "kind": kind, **({"name": name} if name else {}), "count": count}
                for at, kind, name, count in rows[:MAX_STEPS + 50]]

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
            "findings": [{k: v for k, v in f.items() if k != FIRST_AT} for f in findings[:50]],
            "unknown_lines": self.unknown_lines,
            "steps": self.timeline(findings[:50]), "steps_not_sent": self.steps_dropped,
        }
        optional = {"tool_version": max(self.versions) if self.versions else None, "repo": repo,
                    "branch": self.branch, "started": self.started, "ended": self.ended,
                    "permission_mode": self.permission_mode}
        data.update({k: v[:256] for k, v in optional.items() if isinstance(v, str) and v})
        return data
