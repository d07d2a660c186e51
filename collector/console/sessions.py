"""AI coding sessions in the console (viewer role): sessions by user, repository, tool and model,
and one session's detail (times, counts, permission mode, files written, tools, findings, the
alerts that name it, the pull requests its lines reached, and its timeline of all of these in
time order, from the steps its events carried); the pull requests CI asked about and
each one's provenance (share of AI lines per tool, model, user and session; approvers). Each
page read is recorded (who read which sessions), like alert reads: sessions name people and
what they worked on."""
from __future__ import annotations

from typing import Any

from aiohttp import web

from shadowmap.collector.alerts.filters import MAX_TEXT, has_control_characters, tools_named
from shadowmap.collector.console import next_steps
from shadowmap.collector.console.auth import require_page
from shadowmap.collector.console.pages import render
from shadowmap.collector.record import record_read
from shadowmap.collector.state import STORE
from shadowmap.collector.store.sqlite import pr_provenance, session_steps, session_views

FILTERS = ("user", "repo", "tool", "model")
LABELS = {"user": "user", "repo": "repository", "tool": "tool", "model": "model"}
TEXT = "text"      # free text, as the alerts queue's search
MAX_FILTER = 256


async def sessions_page_handler(request: web.Request) -> web.Response:
    principal = await require_page(request, "viewer")
    chosen = {name: request.query.get(name, "")[:MAX_FILTER] for name in FILTERS}
    text = request.query.get(TEXT, "").strip()
    errors = {}  # said beside the filter, the other filters kept, nothing listed (nor sent to the store)
    if len(text) > MAX_TEXT:
        errors[TEXT] = f"search is too long (at most {MAX_TEXT} characters)"
    elif has_control_characters(text):  # PostgreSQL refuses a NUL in a string
        errors[TEXT] = "search cannot hold control characters"
    for name in FILTERS:
        if has_control_characters(chosen[name]):
            errors[name] = f"{LABELS[name]} cannot hold control characters"
    chosen[TEXT] = text
    store = request.app[STORE]
    rows = [] if errors else await store.read(
        session_views.list_sessions, chosen["user"], chosen["repo"], chosen["tool"], chosen["model"], text,
        tools_named(text))
    values = await store.read(session_views.filter_values)
    await record_read(request.app, principal.name, "sessions",
                      {"filters": {k: v[:MAX_FILTER] for k, v in chosen.items() if v}, "shown": len(rows)})
    steps = [] if rows or any(chosen.values()) else await next_steps.still_to_do(request, ("device",))
    return render(request, "sessions.html", principal, http_status=400 if errors else 200, sessions=rows,
                  chosen=chosen, values=values, errors=errors, max_text=MAX_TEXT, limit=session_views.MAX_ROWS,
                  session=None, steps=steps)


async def session_detail_handler(request: web.Request) -> web.Response:
    principal = await require_page(request, "viewer")
    device_id, tool_id, session_id = (request.match_info[k][:MAX_FILTER] for k in ("device_id", "tool_id", "session_id"))
    if has_control_characters(device_id + tool_id + session_id):  # names no session (and PostgreSQL refuses a NUL)
        raise web.HTTPNotFound(text="no such session")
    store = request.app[STORE]
    session = await store.read(session_views.session_detail, device_id, tool_id, session_id)
    if session is None:
        raise web.HTTPNotFound(text="no such session")
    session["pulls"] = await store.read(pr_provenance.of_session, device_id, tool_id, session_id)
    steps, session["steps_not_sent"] = await store.read(session_steps.of_session, device_id, tool_id, session_id)
    session["timeline"] = timeline(session, steps)
    await record_read(request.app, principal.name, f"session:{tool_id}:{session_id}", {"device_id": device_id})
    return render(request, "sessions.html", principal, session=session, sessions=[], chosen={}, values={},
                  errors={}, max_text=MAX_TEXT, limit=session_views.MAX_ROWS, steps=[])


def timeline(session: dict[str, Any], steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The session's start and end, its steps (prompts, shell programs, edits, MCP calls, findings;
    from OpenTelemetry: prompts, tool calls by name, MCP servers, refusals, model changes),
    the pull requests its lines reached (when CI asked) and the alerts naming it (when last seen),
    ordered by time; entries without a time are left out. Names and counts only: the session
    record holds no text to show."""
    rows: list[dict[str, Any]] = [{"at": step["at"], "kind": step["kind"], "name": step.get("name", ""),
                                   "count": step["count"]} for step in steps]
    rows += [{"at": session.get(edge), "kind": edge, "name": "", "count": 1} for edge in ("started", "ended")]
    rows += [{"at": p["asked_at"], "kind": "pull", "name": f"{p['repo']}#{p['number']}", "count": p["session_lines"],
              "repo": p["repo"], "number": p["number"]} for p in session.get("pulls") or []]
    rows += [{"at": a["last_seen"], "kind": "alert", "name": str(a["finding"]), "count": 1, "id": a["id"]}
             for a in session.get("alerts") or []]
    order = {"started": 0, "ended": 2}                    # at one time: the start first, the end last
    return sorted((row for row in rows if isinstance(row["at"], str) and row["at"]),
                  key=lambda row: (row["at"][:19], order.get(row["kind"], 1)))   # to the second: formats differ after it


async def pulls_page_handler(request: web.Request) -> web.Response:
    """The pull requests CI asked `shadowmap provenance` about, newest first: share of AI lines, approvers."""
    principal = await require_page(request, "viewer")
    repo = request.query.get("repo", "")[:MAX_FILTER]
    errors = {"repo": "repository cannot hold control characters"} if has_control_characters(repo) else {}
    pulls = [] if errors else await request.app[STORE].read(pr_provenance.recent, repo)
    await record_read(request.app, principal.name, "pulls", {"repo": repo, "shown": len(pulls)} if repo else
                      {"shown": len(pulls)})
    return render(request, "sessions_pulls.html", principal, http_status=400 if errors else 200, pulls=pulls,
                  pull=None, repo=repo, errors=errors, limit=pr_provenance.MAX_ROWS)


async def pull_detail_handler(request: web.Request) -> web.Response:
    """One pull request's provenance: lines per tool, model, user and session, the sessions, the approvers."""
    principal = await require_page(request, "viewer")
    repo, number = request.query.get("repo", "")[:MAX_FILTER], request.match_info["number"]
    if not (number.isascii() and number.isdigit()) or len(number) > 9 \
            or has_control_characters(repo):       # "²" is a digit to isdigit(); PostgreSQL refuses a NUL
        raise web.HTTPNotFound(text="no such pull request")
    pull = await request.app[STORE].read(pr_provenance.get, repo, int(number))
    if pull is None:
        raise web.HTTPNotFound(text="CI has not asked about this pull request")
    # not "provenance:<repo>#<n>": that subject holds CI's own answers in the record
    await record_read(request.app, principal.name, f"pull:{repo}#{number}")
    return render(request, "sessions_pulls.html", principal, pulls=[], pull=pull, repo=repo, errors={},
                  limit=pr_provenance.MAX_ROWS)


ROUTES = [
    web.get("/sessions", sessions_page_handler),
    web.get("/sessions/pulls", pulls_page_handler),
    web.get("/sessions/pulls/{number}", pull_detail_handler),
    web.get("/sessions/{device_id}/{tool_id}/{session_id}", session_detail_handler),
]
