"""The session record at the collector: ai_session.recorded events kept as sessions, their line
hashes and their timelines (at ingest, in the batch's transaction), and what CI asks of them.

- GET /api/v1/provenance/key: the line key (schema/lines.py), for CI to hash a pull request's
  added lines the way agents hash the lines sessions wrote. Derived from the org key for this
  use only, so holding it reveals nothing of the other hashes.
- POST /api/v1/provenance: {repo, number?, commit?, files: [{path, hashes}]} -> which sessions
  wrote which lines (tool, model, user, times), the share of lines by AI per tool, model,
  session and user, who approved the pull request, and the merged change a commit shipped in
  (SCM webhooks). Each answer is kept in the record; a pull request's answer is kept with it,
  and a pull request that merged before CI asked is judged again on it (alerts/code_review.py).
Both take an API token (viewer role at least): CI holds one."""
from __future__ import annotations

import base64
import json
from collections import Counter
from typing import Any

import sqlite_utils
from aiohttp import web

from shadowmap.collector.alerts.code_review import judge_late
from shadowmap.collector.errors import ApiError
from shadowmap.collector.principals import require_api
from shadowmap.collector.record import record_read
from shadowmap.collector.record.reads import record_read_in
from shadowmap.collector.state import STORE
from shadowmap.collector.store.sqlite import ai_sessions, org, pr_provenance, session_steps
from shadowmap.collector.timestamps import utc_now
from shadowmap.contract import lines as line_rule
from shadowmap.contract.repo_names import normalise_repo

SESSION_EVENT = "ai_session.recorded"
MAX_QUERY_HASHES = 50_000
MAX_FILES = 2_000
MAX_NUMBER = 2**31 - 1
SESSION_FIELDS = ("device_id", "tool_id", "tool_version", "session_id", "user", "models", "repo", "branch", "started",
                  "ended", "permission_mode")


def record_sessions(db: sqlite_utils.Database, items: list[tuple[dict, str]]) -> int:
    """Writer fn (part of ingest): keep each new ai_session.recorded event's session and lines."""
    now = utc_now()
    sessions: list[tuple[Any, ...]] = []
    lines: list[tuple[str, str, str, str, str]] = []
    timelines: list[tuple[str, str, str, list[dict[str, Any]], int]] = []
    for event, _ts in items:
        if event["type"] != SESSION_EVENT:
            continue
        data, device = event["data"], event["device_id"]
        sessions.append((device, data["tool_id"] or "unknown", data["session_id"], event["user"], data.get("os_user", ""),
                         data.get("tool_version", ""), json.dumps(data.get("models", [])), data.get("repo", ""),
                         data.get("branch", ""), data.get("started", ""), data.get("ended", ""), data["prompts"],
                         data["turns"], data.get("permission_mode", ""), json.dumps(data["tools"], sort_keys=True),
                         data["lines_written"], json.dumps(data["findings"]), event["id"], now))
        lines.extend((digest, device, data["tool_id"] or "unknown", data["session_id"], f["path"])
                     for f in data["lines"] for digest in f["hashes"])
        if "steps" in data:                       # agents before the timeline send none: the old one stays
            timelines.append((device, data["tool_id"] or "unknown", data["session_id"], data["steps"],
                              data.get("steps_not_sent", 0)))
    ai_sessions.upsert(db, sessions)
    ai_sessions.add_lines(db, lines)
    session_steps.save(db, timelines)
    return len(sessions)


async def line_key_handler(request: web.Request) -> web.StreamResponse:
    principal = await require_api(request, "viewer")
    org_key = base64.b64decode(await request.app[STORE].read(org.org_key_b64))
    await record_read(request.app, principal.name, "provenance:line-key")
    return web.json_response({"line_key": base64.b64encode(line_rule.line_key(org_key)).decode(),
                              "rule": "schema/lines.py"})


def attribution(files: list[dict[str, Any]], found: list[dict[str, Any]]) -> dict[str, Any]:
    """Which of the asked lines sessions wrote, summed per tool, model, session and user."""
    by_hash: dict[str, list[dict[str, Any]]] = {}
    for row in found:
        by_hash.setdefault(row["hash"], []).append(row)
    total = ai = 0
    per: dict[str, Counter[str]] = {k: Counter() for k in ("tool", "model", "session", "user")}
    sessions: dict[str, dict[str, Any]] = {}
    writers: dict[str, str] = {}                     # line hash -> the ref of the session that wrote it
    attributed_files = []
    for item in files:
        hits = [h for h in item["hashes"] if h in by_hash]
        total += len(item["hashes"])
        ai += len(hits)
        if hits:
            attributed_files.append({"path": item["path"], "lines": len(item["hashes"]), "ai_lines": len(hits)})
        for digest in hits:
            writer = by_hash[digest][0]              # the first session that wrote it
            ref = f"{writer['tool_id']}:{writer['session_id']}"
            writers[digest] = ref
            sessions.setdefault(ref, {"ref": ref} | {k: writer.get(k) for k in SESSION_FIELDS})
            per["tool"][writer["tool_id"]] += 1
            per["session"][ref] += 1
            per["user"][writer["user"]] += 1
            for model in writer["models"] or ["unknown"]:
                per["model"][model] += 1
    return {"lines": total, "ai_lines": ai, "ai_share": round(ai / total, 4) if total else 0.0,
            "by": {k: dict(v.most_common()) for k, v in per.items()}, "sessions": list(sessions.values()),
            "files": attributed_files, "writers": writers}


def _query(body: Any) -> tuple[str, int | None, list[dict[str, Any]]]:
    if not isinstance(body, dict) or not isinstance(body.get("files"), list) or len(body["files"]) > MAX_FILES:
        raise ApiError(400, "bad_request", f"send {{repo, number?, files: [{{path, hashes}}]}} ({MAX_FILES} files at most)")
    files, count = [], 0
    for item in body["files"]:
        hashes = item.get("hashes") if isinstance(item, dict) else None
        if not isinstance(hashes, list) or not isinstance(item.get("path"), str) or \
                not all(isinstance(h, str) and len(h) == line_rule.HASH_HEX_CHARS for h in hashes):
            raise ApiError(400, "bad_request", "each file needs a path and hashes made by schema/lines.py")
        count += len(hashes)
        files.append({"path": item["path"][:1024], "hashes": hashes})
    if count > MAX_QUERY_HASHES:
        raise ApiError(413, "too_large", f"at most {MAX_QUERY_HASHES} line hashes per question")
    number = body.get("number")
    if isinstance(number, bool) or not isinstance(number, int) or not 0 <= number <= MAX_NUMBER:
        number = None                               # kept in an integer column: a pull request's number only
    repo = str(body.get("repo") or "")[:256]
    # named as the SCM webhooks and the agent name it, so the finding and the sessions meet it
    return normalise_repo(repo) or repo, number, files


async def provenance_handler(request: web.Request) -> web.StreamResponse:
    principal = await require_api(request, "viewer")
    try:
        body = await request.json()
    except ValueError:
        raise ApiError(400, "bad_json", "the body is not JSON") from None
    repo, number, files = _query(body)
    store = request.app[STORE]
    found = await store.read(ai_sessions.sessions_writing, [h for f in files for h in f["hashes"]])
    answer = attribution(files, found)
    answer["approved_by"] = await store.read(ai_sessions.approvals, repo, number) if number is not None else []
    sha = body.get("commit")
    if isinstance(sha, str) and 7 <= len(sha) <= 64:
        answer["change"] = await store.read(ai_sessions.change_of_commit, repo, sha)
    summary = {k: answer[k] for k in ("lines", "ai_lines", "ai_share")} | {"by_tool": answer["by"]["tool"],
                                                                          "approved_by": answer["approved_by"]}
    # the answer names users and sessions: a read of data about people, recorded; a pull request's
    # answer is also kept with it (the console's pull request page, the unreviewed-code finding)
    await store.write(_keep, principal.name, repo, number, answer, summary)
    return web.json_response(answer)


def _keep(db: sqlite_utils.Database, actor: str, repo: str, number: int | None, answer: dict[str, Any],
          summary: dict[str, Any]) -> None:
    """Writer fn: the read in the record and, for a pull request, its answer kept with it (one
    transaction); a pull request that already merged is judged again on this answer."""
    seq = record_read_in(db, actor, f"provenance:{repo}#{number}" if number is not None else f"provenance:{repo}",
                         summary)
    if number is not None:
        pr_provenance.save(db, repo, number, answer, actor, utc_now(), seq)
        judge_late(db, repo, number)


ROUTES = [
    web.get("/api/v1/provenance/key", line_key_handler),
    web.post("/api/v1/provenance", provenance_handler),
]
