"""AI coding agents working in git repositories (remote naming: tests/test_repo_names.py): the
repository found from .git folders, worktrees and submodule-style .git files, and a real
process named like an agent whose cwd is a real `git init` repository -> one
ai_agent.repo_activity event when first seen, then once a day (the tracker's logic)."""
from __future__ import annotations

import os
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

from shadowmap.agent import events
from shadowmap.agent.discovery import processes, repos
from shadowmap.agent.discovery.tracker import Tracker

from .conftest import wait_until

SLEEP = shutil.which("sleep")

def git(*args: str, cwd: Path) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                   env={"GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1", "PATH": "/usr/bin:/bin",
                        "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org",
                        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org"})


def make_repo(folder: Path, remote: str, branch: str = "main") -> Path:
    folder.mkdir(parents=True)
    git("init", "-q", "-b", branch, cwd=folder)
    git("remote", "add", "upstream", "https://github.com/someone-else/fork.git", cwd=folder)
    git("remote", "add", "origin", remote, cwd=folder)
    return folder


def test_repository_from_git_files_worktree_and_detached_head(tmp_path):
    main = make_repo(tmp_path / "payments", "git@github.com:acme/payments.git", "feature/ai-refactor")
    (main / "src" / "deep").mkdir(parents=True)
    assert repos.repository_of(main / "src" / "deep") == \
        repos.Repository("github.com/acme/payments", "feature/ai-refactor")

    (main / "README").write_text("x\n")
    git("add", "README", cwd=main)
    git("commit", "-q", "-m", "init", cwd=main)
    git("worktree", "add", "-q", "-b", "hotfix", str(tmp_path / "wt"), cwd=main)
    assert (tmp_path / "wt" / ".git").is_file()                      # gitdir: .../worktrees/wt
    assert repos.repository_of(tmp_path / "wt") == repos.Repository("github.com/acme/payments", "hotfix")

    git("checkout", "-q", "--detach", cwd=main)
    assert repos.repository_of(main) == repos.Repository("github.com/acme/payments", None)

    local = make_repo(tmp_path / "local-only", "/srv/git/x.git")
    assert repos.repository_of(local) is None                        # no host: nothing to join on
    assert repos.repository_of(tmp_path) is None
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / ".git").write_text("not a gitdir line\n")
    assert repos.repository_of(bad) is None
    trap = make_repo(tmp_path / "trap", "git@github.com:acme/trap.git")
    (trap / ".git" / "HEAD").unlink()
    os.mkfifo(trap / ".git" / "HEAD")                                 # would block a naive reader
    assert repos.repository_of(trap) == repos.Repository("github.com/acme/trap", None)


def test_agent_process_in_a_repository_is_reported_once_then_daily(tmp_path, catalog, spawn):
    repo = make_repo(tmp_path / "work" / "payments", "https://gitlab.example.com/group/sub/payments.git",
                     "feature/x")
    (repo / "app").mkdir()
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("aider", "Cursor", "ollama"):
        shutil.copy(SLEEP, bin_dir / name)
    agent = spawn(str(bin_dir / "aider"), "120", cwd=repo / "app")
    agent_again = spawn(str(bin_dir / "aider"), "120", cwd=repo)           # same tool, same repo
    not_an_agent = spawn(str(bin_dir / "ollama"), "120", cwd=repo)        # an AI tool, not a coding agent
    outside = spawn(str(bin_dir / "Cursor"), "120", cwd=tmp_path)          # an agent, not in a repository
    matcher = processes.ProcessMatcher(catalog)
    pids = {agent.pid, agent_again.pid, not_an_agent.pid, outside.pid}
    matches = wait_until(lambda: (lambda m: m if pids <= {x.pid for x in m} else None)(matcher.scan()),
                         10, "the fake tools in the process table")
    ours = [m for m in matches if m.pid in pids]
    assert {m.tool_id for m in ours} == {"aider", "ollama", "cursor"}

    agents = repos.agent_tools(catalog)
    assert {"aider", "claude-code", "codex-cli", "gemini-cli", "cursor"} <= agents and "ollama" not in agents
    [obs] = repos.observations(ours, agents, "agent-user")
    assert obs.data == {"tool_id": "aider", "repo": "gitlab.example.com/group/sub/payments",
                        "branch": "feature/x", "process_user": "root"}

    now = [datetime(2026, 11, 26, 9, 0, tzinfo=UTC)]
    spooled: list[dict] = []
    tracker = Tracker(None, lambda kind, user, data: spooled.append(
        events.discovered(kind, device_id="d1", user=user, data=data)), clock=lambda: now[0])
    for _ in range(3):                                       # polls the same day: one event
        tracker.observe(repos.observations(ours, agents, "agent-user"))
        now[0] += timedelta(minutes=1)
    now[0] += timedelta(days=1)
    tracker.observe(repos.observations(ours, agents, "agent-user"))
    git("checkout", "-q", "-b", "feature/y", cwd=repo)      # another branch: another item
    tracker.observe(repos.observations(ours, agents, "agent-user"))
    assert [(e["type"], e["data"]["change"], e["data"].get("branch")) for e in spooled] == [
        ("ai_agent.repo_activity", "new", "feature/x"), ("ai_agent.repo_activity", "daily", "feature/x"),
        ("ai_agent.repo_activity", "new", "feature/y")]
    assert spooled[1]["data"]["first_seen"] == "2026-11-26T09:00:00Z"
    assert spooled[1]["data"]["last_seen"] == "2026-11-27T09:03:00Z"
