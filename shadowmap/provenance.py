"""`shadowmap provenance` (in CI, on a pull request) and `shadowmap trace FILE:LINE` (in a
checkout): which AI coding sessions wrote these lines, by hashing them as agents hash the lines
sessions write (schema/lines.py) and asking the collector. Matching is by line content, so
squash and rebase do not lose it. Code never leaves the runner: only keyed hashes do.

Light on purpose (standard library, click and the contract): a CI job installs `shadowmap`
without the agent's or the collector's extras. Exit codes: 0 within policy, 1 the policy is not
met (AI-written lines in a path that needs an independent approval have none), 2 an error."""
from __future__ import annotations

import base64
import fnmatch
import json
import os
import subprocess
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import click

from shadowmap import agent_trace
from shadowmap.contract import lines as line_rule

TOKEN_ENV = "SHADOWMAP_TOKEN"
TIMEOUT_S = 30.0


class ProvenanceError(click.ClickException):
    exit_code = 2


def _token(token_file: Path | None) -> str:
    if token_file is not None:
        return token_file.read_text("utf-8").strip()
    token = os.environ.get(TOKEN_ENV, "").strip()
    if not token:
        raise ProvenanceError(f"give --token-file or set {TOKEN_ENV} (an API token of the collector)")
    return token


def _call(collector: str, path: str, token: str, body: dict | None = None) -> Any:
    request = urllib.request.Request(collector.rstrip("/") + path, method="POST" if body is not None else "GET",
                                     data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:  # an http(s) URL the job was given
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        raise ProvenanceError(f"{path}: HTTP {exc.code}: {exc.read()[:300].decode('utf-8', 'replace')}") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise ProvenanceError(f"cannot reach the collector at {collector}: {exc}") from None


def _line_key(collector: str, token: str) -> bytes:
    return base64.b64decode(_call(collector, "/api/v1/provenance/key", token)["line_key"])


def added_lines_at(base: str, head: str, cwd: Path) -> dict[str, list[tuple[int, str]]]:
    """path -> the lines the change adds, each with its line number at the head (git diff
    base...head, zero lines of context: the hunk headers give the numbers)."""
    try:
        diff = subprocess.run(["git", "diff", "--no-color", "--no-ext-diff", "--unified=0", "--diff-filter=AMR",
                               f"{base}...{head}"], cwd=cwd, capture_output=True, text=True, check=True,
                              timeout=120).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        raise ProvenanceError(f"git diff {base}...{head} failed: {exc}") from None
    added: dict[str, list[tuple[int, str]]] = {}
    path, number = None, 0
    for line in diff.splitlines():
        if line.startswith("+++ "):
            path = line[6:] if line.startswith("+++ b/") else None
        elif line.startswith("@@ "):
            number = _hunk_start(line)
        elif path and line.startswith("+"):
            added.setdefault(path, []).append((number, line[1:]))
            number += 1
    return added


def _hunk_start(header: str) -> int:
    """The first head line of a hunk: '@@ -a,b +c,d @@' -> c."""
    try:
        return int(header.split(" +", 1)[1].split(" ", 1)[0].split(",", 1)[0])
    except (IndexError, ValueError):
        raise ProvenanceError(f"cannot read the hunk header {header[:80]!r}") from None


def added_lines(base: str, head: str, cwd: Path) -> dict[str, list[str]]:
    """path -> the lines the change adds."""
    return {path: [text for _n, text in lines] for path, lines in added_lines_at(base, head, cwd).items()}


def _files(key: bytes, lines_by_path: dict[str, list[str]]) -> list[dict[str, Any]]:
    files = []
    for path, lines in sorted(lines_by_path.items()):
        digests = list(line_rule.hashes(key, lines))
        if digests:
            files.append({"path": path, "hashes": digests})
    return files


def independent_approvers(answer: dict[str, Any], author: str | None) -> list[str]:
    """Approvers who are neither the change's author nor a user of a session that wrote it."""
    excluded = {u.casefold() for u in [author or "", *(s["user"] for s in answer["sessions"])] if u}
    return [a for a in answer.get("approved_by", []) if a.casefold() not in excluded]


def verdict(answer: dict[str, Any], require_approval: tuple[str, ...], author: str | None) -> list[str]:
    """What breaks the policy: AI-written lines in a path that needs an independent approval without one."""
    guarded = [f["path"] for f in answer["files"] if f["ai_lines"] and any(fnmatch.fnmatch(f["path"], g)
                                                                          for g in require_approval)]
    if guarded and not independent_approvers(answer, author):
        return [f"{path}: lines written by AI need an approval by someone other than the author and the "
                f"session's user" for path in guarded]
    return []


@click.command()
@click.option("--collector", required=True, envvar="SHADOWMAP_COLLECTOR_URL", help="the collector's URL")
@click.option("--token-file", type=click.Path(dir_okay=False, path_type=Path),
              help=f"file holding an API token (default: ${TOKEN_ENV})")
@click.option("--base", required=True, help="the branch or commit the pull request merges into (e.g. origin/main)")
@click.option("--head", default="HEAD", show_default=True, help="the pull request's head")
@click.option("--repo", required=True, help="the repository as host/owner/name (e.g. github.com/acme/shop)")
@click.option("--pr", "number", type=int, help="the pull request's number (approvals come from the SCM webhooks)")
@click.option("--author", help="the pull request's author (not an independent approver)")
@click.option("--require-approval", multiple=True, metavar="GLOB",
              help="AI-written lines in paths matching GLOB need an approval by someone other than the author "
                   "and the session's user (repeatable), e.g. 'payments/*'")
@click.option("--json", "as_json", is_flag=True, help="print the collector's answer as JSON")
@click.option("--agent-trace", "trace_file", type=click.Path(dir_okay=False, path_type=Path),
              help="also write the attribution as Agent Trace 0.1.0 records to this file (JSON Lines, one record "
                   "per AI session and one for lines no recorded session wrote)")
def provenance(collector: str, token_file: Path | None, base: str, head: str, repo: str, number: int | None,
               author: str | None, require_approval: tuple[str, ...], as_json: bool, trace_file: Path | None) -> None:
    """Which AI sessions wrote a pull request's added lines; fails when the policy is not met."""
    token = _token(token_file)
    key = _line_key(collector, token)
    added = added_lines_at(base, head, Path.cwd())
    files = _files(key, {path: [text for _n, text in lines] for path, lines in added.items()})
    answer = _call(collector, "/api/v1/provenance", token, {"repo": repo, "number": number, "files": files})
    problems = verdict(answer, require_approval, author)
    if trace_file is not None:
        _write_agent_trace(trace_file, agent_trace.records(added, key, answer, revision=_revision(head),
                                                           collector=collector, repo=repo, number=number))
    answer.pop("writers", None)         # per-hash detail, for the records above; the counts say it for people
    if as_json:
        click.echo(json.dumps({**answer, "independent_approvers": independent_approvers(answer, author),
                               "problems": problems}, indent=2, sort_keys=True))
    else:
        click.echo(f"{answer['ai_lines']} of {answer['lines']} added lines written in AI sessions "
                   f"({answer['ai_share']:.0%})")
        for what in ("tool", "model", "user", "session"):
            for name, count in answer["by"][what].items():
                click.echo(f"  {what:<8} {name:<48} {count}")
        click.echo(f"approved by: {', '.join(answer.get('approved_by') or []) or 'nobody yet'}")
        for problem in problems:
            click.echo(f"POLICY: {problem}", err=True)
    if problems:
        raise SystemExit(1)


def _revision(head: str) -> str | None:
    """The full commit id of the head, which the records' line numbers refer to."""
    try:
        out = subprocess.run(["git", "rev-parse", "--verify", f"{head}^{{commit}}"], capture_output=True, text=True,
                             check=True, timeout=60).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return out if len(out) == 40 else None


def _write_agent_trace(path: Path, records: list[dict[str, Any]]) -> None:
    try:
        path.write_text("".join(json.dumps(r, sort_keys=True) + "\n" for r in records), "utf-8")
    except OSError as exc:
        raise ProvenanceError(f"cannot write {path}: {exc}") from None


@click.command()
@click.argument("location")
@click.option("--collector", required=True, envvar="SHADOWMAP_COLLECTOR_URL", help="the collector's URL")
@click.option("--token-file", type=click.Path(dir_okay=False, path_type=Path),
              help=f"file holding an API token (default: ${TOKEN_ENV})")
@click.option("--repo", required=True, help="the repository as host/owner/name")
def trace(location: str, collector: str, token_file: Path | None, repo: str) -> None:
    """Which session(s) wrote FILE:LINE (run in a checkout), and the change that shipped it."""
    file_part, _, line_part = location.rpartition(":")
    if not file_part or not line_part.isdigit() or int(line_part) < 1:
        raise ProvenanceError("give FILE:LINE, e.g. payments/charge.py:42")
    try:
        text = Path(file_part).read_text("utf-8").splitlines()[int(line_part) - 1]
    except (OSError, IndexError, UnicodeDecodeError) as exc:
        raise ProvenanceError(f"cannot read line {line_part} of {file_part}: {exc}") from None
    token = _token(token_file)
    digest = line_rule.line_hash(_line_key(collector, token), text)
    if digest is None:
        raise ProvenanceError("that line is blank or too short to say who wrote it")
    commit = _blame(file_part, int(line_part))
    answer = _call(collector, "/api/v1/provenance", token,
                   {"repo": repo, "commit": commit, "files": [{"path": file_part, "hashes": [digest]}]})
    if not answer["sessions"]:
        click.echo("no recorded AI session wrote this line")
    for session in answer["sessions"]:
        click.echo(f"{session['tool_id']} session {session['session_id']} by {session['user']} "
                   f"({', '.join(session['models']) or 'model unknown'}), {session['started']} - {session['ended']}")
    change = answer.get("change")
    if change:
        click.echo(f"shipped in #{change['number']} by {change['author']}, merged by {change['merged_by'] or '?'}, "
                   f"approved by {', '.join(change['approved_by']) or 'nobody'}")


def _blame(path: str, line: int) -> str | None:
    try:
        out = subprocess.run(["git", "blame", "--porcelain", "-L", f"{line},{line}", "--", path],
                             capture_output=True, text=True, check=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    first = out.split(" ", 1)[0] if out else ""
    return first if len(first) >= 7 and set(first) <= set("0123456789abcdef") else None
