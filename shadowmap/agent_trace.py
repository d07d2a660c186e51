"""A pull request's line provenance written as Agent Trace records (schema/agent_trace.py: the open
RFC, version 0.1.0), for `shadowmap provenance --agent-trace FILE`.

Records are made from what CI already has: the lines the change adds, with their line numbers at
the head revision, and the collector's answer naming the session that wrote each line hash. One
record per AI session whose lines the change adds (its tool and version, the session's page in the
console as the conversation's URL, contributor `ai` with the model id) and one record, without a
tool, for the added lines no recorded session wrote (contributor `unknown`: shadowmap cannot tell a
human's line from one an unwatched tool wrote). A short run of such lines inside a session's lines
(at most MIXED_GAP lines, in one block of added lines) is taken as a human's edit of the AI's
output: a range of the session's with contributor `mixed` (the spec's "human-edited AI output"). Blank and very short lines (not hashed, schema/lines.py) join a range only between two
lines of the same writer. Each range's content_hash is `sha256:` over its lines as they are at the
head revision, joined with LF: anyone holding the code can check it; the code itself is not in the
record."""
from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from shadowmap.contract import agent_trace
from shadowmap.contract import lines as line_rule

MIXED_GAP = 2                 # unattributed lines inside one session's block still read as that session's, edited
UNKNOWN = ""                  # the writer label of a hashed line no recorded session wrote
METADATA_KEY = "dev.shadowmap"


@dataclass
class _Run:
    label: str
    start: int
    end: int
    texts: list[str] = field(default_factory=list)
    mixed: bool = False


def _labels(lines: list[tuple[int, str]], key: bytes, writers: dict[str, str]) -> list[str | None]:
    """Per line: the ref of the session that wrote it, UNKNOWN, or None when the line is not hashed."""
    labels: list[str | None] = []
    for _number, text in lines:
        digest = line_rule.line_hash(key, text)
        labels.append(None if digest is None else writers.get(digest, UNKNOWN))
    return labels


def _fill_unhashed(labels: list[str | None]) -> list[str | None]:
    """An unhashed line takes its neighbours' writer when the nearest hashed lines on both sides agree."""
    filled = list(labels)
    for i, label in enumerate(labels):
        if label is not None:
            continue
        left = next((labels[j] for j in range(i - 1, -1, -1) if labels[j] is not None), None)
        right = next((labels[j] for j in range(i + 1, len(labels)) if labels[j] is not None), None)
        if left is not None and left == right:
            filled[i] = left
    return filled


def _runs(block: list[tuple[int, str]], labels: list[str | None]) -> list[_Run]:
    runs: list[_Run] = []
    for (number, text), label in zip(block, labels, strict=True):
        if label is None:
            runs.append(_Run("\0", number, number))       # a break no range spans
        elif runs and runs[-1].label == label:
            runs[-1].end = number
            runs[-1].texts.append(text)
        else:
            runs.append(_Run(label, number, number, [text]))
    return [run for run in _merge_edits(runs) if run.label != "\0"]


def _merge_edits(runs: list[_Run]) -> list[_Run]:
    """A session's run, a few unattributed lines, the same session's run: the few lines are the
    session's output edited by hand, a mixed range in the session's conversation."""
    for before, gap, after in zip(runs, runs[1:], runs[2:], strict=False):
        if (gap.label == UNKNOWN and before.label == after.label and before.label not in (UNKNOWN, "\0")
                and gap.end - gap.start + 1 <= MIXED_GAP):
            gap.label, gap.mixed = before.label, True
    return runs


def _blocks(lines: Iterable[tuple[int, str]]) -> list[list[tuple[int, str]]]:
    """Added lines split into blocks of consecutive line numbers."""
    blocks: list[list[tuple[int, str]]] = []
    for number, text in sorted(lines):
        if blocks and blocks[-1][-1][0] + 1 == number:
            blocks[-1].append((number, text))
        else:
            blocks.append([(number, text)])
    return blocks


def attributed_runs(added: dict[str, list[tuple[int, str]]], key: bytes,
                    writers: dict[str, str]) -> dict[str, dict[str, list[_Run]]]:
    """path -> writer label -> its runs (ranges at the head revision)."""
    out: dict[str, dict[str, list[_Run]]] = {}
    for path, lines in sorted(added.items()):
        for block in _blocks(lines):
            for run in _runs(block, _fill_unhashed(_labels(block, key, writers))):
                out.setdefault(path, {}).setdefault(run.label, []).append(run)
    return out


def _range(run: _Run, model: str | None) -> dict[str, Any]:
    digest = hashlib.sha256("\n".join(run.texts).encode("utf-8", "surrogatepass")).hexdigest()
    item: dict[str, Any] = {"start_line": run.start, "end_line": run.end, "content_hash": f"sha256:{digest}"}
    if run.mixed:
        item["contributor"] = {"type": "mixed", **({"model_id": model} if model else {})}
    return item


def _session_url(collector: str, session: dict[str, Any]) -> str:
    parts = (session.get("device_id") or "", session["tool_id"], session["session_id"])
    return collector.rstrip("/") + "/sessions/" + "/".join(quote(str(p), safe="") for p in parts)


def records(added: dict[str, list[tuple[int, str]]], key: bytes, answer: dict[str, Any], *, revision: str | None,
            collector: str, repo: str, number: int | None) -> list[dict[str, Any]]:
    """The Agent Trace records of one change: one per AI session that wrote some of its lines,
    then one for its lines no recorded session wrote (each only when it has a range)."""
    runs = attributed_runs(added, key, answer.get("writers") or {})
    sessions = {s["ref"]: s for s in answer.get("sessions", []) if "ref" in s}
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    change = {"repo": repo, "pull_request": number, "approved_by": answer.get("approved_by") or []}
    out = []
    for label in [*sessions, UNKNOWN]:
        session = sessions.get(label)
        model = agent_trace.model_id(session["models"][0]) if session and session.get("models") else None
        files = []
        for path, by_label in runs.items():
            if label not in by_label:
                continue
            conversation: dict[str, Any] = {"ranges": [_range(run, model) for run in by_label[label]]}
            if session is not None:
                conversation = {"url": _session_url(collector, session),
                                "contributor": {"type": "ai", **({"model_id": model} if model else {})}, **conversation}
            else:
                conversation = {"contributor": {"type": "unknown"}, **conversation}
            files.append({"path": path, "conversations": [conversation]})
        if not files:
            continue
        record: dict[str, Any] = {"version": agent_trace.VERSION, "id": str(uuid.uuid4()), "timestamp": now}
        if revision:
            record["vcs"] = {"type": "git", "revision": revision}
        if session is not None and session.get("tool_version"):
            record["tool"] = {"name": session["tool_id"], "version": session["tool_version"]}
        about: dict[str, Any] = dict(change)
        if session is not None:
            about["session"] = {k: session.get(k) for k in ("tool_id", "session_id", "user", "models", "started",
                                                            "ended", "permission_mode")}
        else:
            about["writer"] = "no recorded AI session"
        record["files"] = files
        record["metadata"] = {METADATA_KEY: about}
        agent_trace.validate(record)
        out.append(record)
    return out
