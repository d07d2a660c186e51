"""Line provenance end to end, in a real git repository with a real collector: a captured Claude
Code session (read by the agent's readers, sent through the real ingest API as ai_session.recorded)
writes lines; they are committed, squashed and rebased onto a moved main; `shadowmap provenance`
on the pull request attributes them to the session by content and fails a path that needs an
independent approval while it has none, and writes Agent Trace records that validate against the
published schema; `shadowmap trace FILE:LINE` names the session; the pull request merged with no
approval raises the unreviewed-code finding with the session as its line-level evidence."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import subprocess
import sys
import urllib.request
import uuid
from pathlib import Path

import sqlite_utils
from support.processes import REPO, repo_env, shadowmap_argv, start_collector

from shadowmap import contract
from shadowmap.agent.sessions.collect import collect
from shadowmap.collector import secret_box
from shadowmap.collector.store.sqlite import org
from shadowmap.contract import agent_trace

CODE = ["def charge(card, amount):", "    if amount <= 0:", "        raise ValueError('amount must be positive')",
        "    return gateway.capture(card, amount)"]


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.name=Dana", "-c", "user.email=dana@acme.test", *args], cwd=repo,
                          capture_output=True, text=True, check=True, timeout=60).stdout


def post(url: str, path: str, body: dict, token: str) -> dict:
    request = urllib.request.Request(url + path, data=json.dumps(body).encode(), method="POST",
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def session_home(home: Path, repo: Path) -> None:
    project = home / ".claude" / "projects" / "-src-shop"
    project.mkdir(parents=True)
    rows = [
        {"type": "user", "sessionId": "s-pay-1", "cwd": str(repo), "timestamp": "2026-12-05T09:00:00.000Z",
         "version": "2.1.0", "message": {"role": "user", "content": "add a charge function"}},
        {"type": "assistant", "sessionId": "s-pay-1", "cwd": str(repo), "timestamp": "2026-12-05T09:00:30.000Z",
         "message": {"role": "assistant", "model": "claude-sonnet-4-5", "content": [
             {"type": "tool_use", "name": "Write", "input": {"file_path": f"{repo}/payments/charge.py",
                                                              "content": "\n".join(CODE) + "\n"}}]}}]
    (project / "s-pay-1.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))


def approve(collector, number: int, reviewer: str) -> None:
    """A signed GitHub webhook: ``reviewer`` approved pull request ``number`` of acme/shop."""
    db = sqlite_utils.Database(collector.db_path)
    try:
        secret = org.scm_secret(db, "github")
    finally:
        db.conn.close()
    body = json.dumps({"action": "submitted", "repository": {"full_name": "acme/shop"},
                       "pull_request": {"number": number}, "review": {"user": {"login": reviewer},
                                                                      "state": "approved"}}).encode()
    request = urllib.request.Request(collector.url + "/api/v1/scm/github", data=body, method="POST", headers={
        "X-GitHub-Event": "pull_request_review", "Content-Type": "application/json",
        "X-Hub-Signature-256": "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()})
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200


def merge_without_review(collector, head: str) -> dict:
    """A signed GitHub webhook: pull request #7 merged, nobody approved; the unreviewed-code alert's facts."""
    secret_box.install_from(collector.db_path.parent / secret_box.KEY_FILE_NAME)   # the collector's own key
    db = sqlite_utils.Database(collector.db_path)
    try:
        secret = org.set_scm_secret(db, "github")
    finally:
        db.conn.close()
    body = json.dumps({"action": "closed", "repository": {"full_name": "acme/shop", "html_url": "https://github.com/acme/shop"},
                       "pull_request": {"number": 7, "title": "Add charge", "body": "", "user": {"login": "dana"},
                                        "merged": True, "merged_by": {"login": "dana"},
                                        "merged_at": "2026-12-05T12:00:00Z", "merge_commit_sha": head,
                                        "head": {"sha": head, "ref": "feature/pay"},
                                        "html_url": "https://github.com/acme/shop/pull/7"}}).encode()
    request = urllib.request.Request(collector.url + "/api/v1/scm/github", data=body, method="POST", headers={
        "X-GitHub-Event": "pull_request", "Content-Type": "application/json",
        "X-Hub-Signature-256": "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()})
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200
    db = sqlite_utils.Database(collector.db_path)
    try:
        [row] = db.query("SELECT facts FROM alerts WHERE finding_id = 'unreviewed_ai_code'")
    finally:
        db.conn.close()
    return json.loads(row["facts"])


def check_agent_trace(path: Path, head: str, collector_url: str) -> None:
    """The Agent Trace records validate against the published schema (schema/agent_trace.v0.1.0.json) and
    say: lines 1-4 by the session (ai, its model, its tool and version), lines 6-7 by no recorded session."""
    ai, unknown = [json.loads(line) for line in path.read_text().splitlines()]
    for record in (ai, unknown):
        agent_trace.validate(record)
        assert record["version"] == "0.1.0" and record["vcs"] == {"type": "git", "revision": head}
    [conversation] = ai["files"][0]["conversations"]
    assert ai["files"][0]["path"] == "payments/charge.py" and ai["tool"] == {"name": "claude-code", "version": "2.1.0"}
    assert conversation["contributor"] == {"type": "ai", "model_id": "anthropic/claude-sonnet-4-5"}
    assert conversation["url"].startswith(collector_url + "/sessions/") and conversation["url"].endswith("/claude-code/s-pay-1")
    [ai_range] = conversation["ranges"]
    assert (ai_range["start_line"], ai_range["end_line"]) == (1, 4)
    assert ai_range["content_hash"] == "sha256:" + hashlib.sha256("\n".join(CODE).encode()).hexdigest()
    assert ai["metadata"]["dev.shadowmap"]["session"]["session_id"] == "s-pay-1"
    [other] = unknown["files"][0]["conversations"]
    assert "tool" not in unknown and other["contributor"] == {"type": "unknown"}
    assert [(r["start_line"], r["end_line"]) for r in other["ranges"]] == [(6, 7)]
    assert "gateway.capture" not in path.read_text()              # hashes and line numbers, never the code


def test_a_squashed_and_rebased_change_is_traced_to_its_session(tmp_path):
    repo = tmp_path / "shop"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "remote", "add", "origin", "git@github.com:acme/shop.git")
    (repo / "README.md").write_text("shop\n")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "start")
    home = tmp_path / "home" / "dana"
    session_home(home, repo)

    (tmp_path / "collector").mkdir()
    with start_collector(tmp_path / "collector", "a long enough admin password") as collector:
        enrolled = post(collector.url, "/api/v1/enroll", {"enroll_secret": collector.enroll_secret,
                                                          "host_identifier": "laptop-dana", "hostname": "ops-dana",
                                                          "os": "linux"}, "")
        org_key = base64.b64decode(enrolled["org_key"])
        [captured] = collect([home])
        data = captured.record.as_event_data(org_key, captured.repo, captured.findings, "dana")
        event = {"schema": "shadowmap.event/1", "id": str(uuid.uuid4()), "type": "ai_session.recorded",
                 "device_id": enrolled["device_id"], "user": "dana@acme.test", "ts": "2026-12-05T09:01:00Z",
                 "data": data}
        contract.validate_event(event)
        assert post(collector.url, "/api/v1/events", {"events": [event]}, enrolled["node_key"])["rejected"] == []

        # the session's lines, committed in pieces, squashed, and rebased onto a main that moved
        git(repo, "checkout", "-qb", "feature/pay")
        (repo / "payments").mkdir()
        (repo / "payments" / "charge.py").write_text("\n".join(CODE[:2]) + "\n")
        git(repo, "add", ".")
        git(repo, "commit", "-qm", "wip")
        (repo / "payments" / "charge.py").write_text("\n".join(CODE) + "\n\n# reviewed by hand\nTIMEOUT_SECONDS = 30\n")
        git(repo, "commit", "-qam", "more")
        git(repo, "reset", "-q", "--soft", "main")
        git(repo, "commit", "-qm", "Add charge (squashed)")
        git(repo, "checkout", "-q", "main")
        (repo / "CHANGELOG.md").write_text("moved on\n")
        git(repo, "add", ".")
        git(repo, "commit", "-qm", "main moves")
        git(repo, "checkout", "-q", "feature/pay")
        git(repo, "rebase", "-q", "main")

        created = subprocess.run(shadowmap_argv("collector", "token", "create", "--db", str(collector.db_path),
                                                "--name", "ci", "--role", "viewer"), env=repo_env(),
                                 capture_output=True, text=True, timeout=120, cwd=REPO)
        assert created.returncode == 0, created.stderr
        token = created.stdout.strip().split()[-1]
        token_file = tmp_path / "ci-token"
        token_file.write_text(token)
        base = ["--collector", collector.url, "--token-file", str(token_file), "--repo", "github.com/acme/shop"]

        run = subprocess.run([sys.executable, "-m", "shadowmap.cli", "provenance", *base, "--base", "main",
                              "--pr", "7", "--author", "dana", "--require-approval", "payments/*", "--json"],
                             cwd=repo, env=repo_env(), capture_output=True, text=True, timeout=120)
        assert run.returncode == 1, run.stderr                      # payments/ needs an independent approval
        answer = json.loads(run.stdout)
        assert (answer["ai_lines"], answer["lines"]) == (4, 6)       # the hand-written line is not the session's
        assert answer["by"]["tool"] == {"claude-code": 4} and answer["by"]["model"] == {"claude-sonnet-4-5": 4}
        assert answer["by"]["user"] == {"dana@acme.test": 4}
        assert [s["session_id"] for s in answer["sessions"]] == ["s-pay-1"]
        assert answer["problems"] and "payments/charge.py" in answer["problems"][0]

        unguarded = subprocess.run([sys.executable, "-m", "shadowmap.cli", "provenance", *base, "--base", "main",
                                    "--agent-trace", str(tmp_path / "traces.jsonl")],
                                   cwd=repo, env=repo_env(), capture_output=True, text=True, timeout=120)
        assert unguarded.returncode == 0, unguarded.stderr
        assert "4 of 6 added lines written in AI sessions (67%)" in unguarded.stdout
        check_agent_trace(tmp_path / "traces.jsonl", git(repo, "rev-parse", "HEAD").strip(), collector.url)

        traced = subprocess.run([sys.executable, "-m", "shadowmap.cli", "trace", "payments/charge.py:3", *base],
                                cwd=repo, env=repo_env(), capture_output=True, text=True, timeout=120)
        assert traced.returncode == 0, traced.stderr
        assert "claude-code session s-pay-1 by dana@acme.test (claude-sonnet-4-5)" in traced.stdout
        untraced = subprocess.run([sys.executable, "-m", "shadowmap.cli", "trace", "payments/charge.py:7", *base],
                                  cwd=repo, env=repo_env(), capture_output=True, text=True, timeout=120)
        assert "no recorded AI session wrote this line" in untraced.stdout

        # #7 merged with no approval: the finding, its line-level evidence naming the session (no AI marker in it)
        facts = merge_without_review(collector, git(repo, "rev-parse", "HEAD").strip())
        assert "4 of its 6 added lines written in AI sessions" in facts["reason"]
        assert [s["session_id"] for s in facts["provenance"]["sessions"]] == ["s-pay-1"]

        # then maria approves #7: the webhooks name the repository owner/name, CI host/owner/name
        approve(collector, 7, "maria")
        approved = subprocess.run([sys.executable, "-m", "shadowmap.cli", "provenance", *base, "--base", "main",
                                   "--pr", "7", "--author", "dana", "--require-approval", "payments/*", "--json"],
                                  cwd=repo, env=repo_env(), capture_output=True, text=True, timeout=120)
        assert approved.returncode == 0, approved.stdout + approved.stderr
        assert json.loads(approved.stdout)["approved_by"] == ["maria"]

    # nothing of the code reached the collector: its files hold hashes only
    stored = b"".join(p.read_bytes() for p in collector.db_path.parent.glob("collector.db*") if p.is_file())
    assert b"gateway.capture" not in stored and b"amount must be positive" not in stored
