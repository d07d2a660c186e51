"""AI coding agents working in git repositories: the working folder of an agent's process
(catalog tools with ``coding_agent: true``) -> the enclosing repository -> its normalised
``origin`` remote and checked-out branch, read from the files under ``.git`` (git is never
run: a laptop's git may be missing, slow, or run hooks)."""
from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shadowmap.agent.discovery import Observation
from shadowmap.contract.repo_names import normalise_repo

if TYPE_CHECKING:
    from shadowmap.agent.discovery.processes import ProcessMatch
    from shadowmap.detectors.catalog import Catalog

MAX_PARENTS = 40                 # folders walked up from a cwd looking for .git
MAX_GIT_FILE_BYTES = 64 * 1024   # .git/config, HEAD and a .git file are small


def _read_small(path: Path) -> str | None:
    """A small regular file's text; a FIFO or device planted as .git/HEAD is never opened (it
    would block the process pass, which may run as root over every user's repositories)."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return None
        with open(path, "rb") as fh:
            return fh.read(MAX_GIT_FILE_BYTES).decode("utf-8", errors="replace")
    except OSError:
        return None


def git_dirs(folder: Path) -> tuple[Path, Path] | None:
    """(git dir, common git dir) of the repository enclosing ``folder``: a ``.git`` folder, or
    a ``.git`` file (``gitdir: ...``) of a worktree or submodule whose ``commondir`` names the
    main repository's git dir, where its config lives."""
    for candidate in [folder, *folder.parents][:MAX_PARENTS]:
        dot_git = candidate / ".git"
        if dot_git.is_dir():
            return dot_git, dot_git
        if dot_git.is_file():
            text = _read_small(dot_git) or ""
            if not text.startswith("gitdir:"):
                return None
            git_dir = Path(text[len("gitdir:"):].strip())
            git_dir = git_dir if git_dir.is_absolute() else (candidate / git_dir)
            common = (_read_small(git_dir / "commondir") or "").strip()
            common_dir = (git_dir / common) if common else git_dir
            return git_dir.resolve(), common_dir.resolve()
    return None


_SECTION = re.compile(r'^\s*\[\s*([A-Za-z0-9.-]+)(?:\s+"((?:\\.|[^"\\])*)")?\s*\]')
_URL = re.compile(r'^\s*url\s*=\s*(.*?)\s*$', re.I)


def origin_url(common_dir: Path) -> str | None:
    """The ``origin`` remote's url from the repository's config file (else the first remote's).
    A line reader, not a full git-config parser: remotes are what git itself writes."""
    text = _read_small(common_dir / "config")
    if text is None:
        return None
    urls: dict[str, str] = {}
    remote: str | None = None
    for line in text.splitlines():
        section = _SECTION.match(line)
        if section:
            remote = section.group(2) if section.group(1).lower() == "remote" else None
            continue
        if remote is None:
            continue
        url = _URL.match(line)
        if url and url.group(1):
            urls.setdefault(remote, url.group(1).strip('"'))
    return urls.get("origin") or next(iter(urls.values()), None)


def branch(git_dir: Path) -> str | None:
    """The checked-out branch (refs/heads/ stripped), None on a detached HEAD."""
    head = (_read_small(git_dir / "HEAD") or "").strip()
    if head.startswith("ref: refs/heads/"):
        return head[len("ref: refs/heads/"):][:256] or None
    return None


@dataclass(frozen=True)
class Repository:
    repo: str
    branch: str | None


def repository_of(folder: str | Path) -> Repository | None:
    dirs = git_dirs(Path(folder))
    if dirs is None:
        return None
    git_dir, common_dir = dirs
    repo = normalise_repo(origin_url(common_dir), bare=False)
    return Repository(repo, branch(git_dir)) if repo else None


def agent_tools(catalog: Catalog) -> set[str]:
    return {tool.id for tool in catalog.tools if getattr(tool, "coding_agent", False)}


def observations(matches: Iterable[ProcessMatch], agents: set[str], fallback_user: str) -> list[Observation]:
    """One ``ai_agent.repo_activity`` observation per tool x repository x branch x user, from
    process matches (shadowmap.agent.discovery.processes.ProcessMatch) of coding agents."""
    seen: dict[tuple, Observation] = {}
    by_folder: dict[str, Repository | None] = {}
    for m in matches:
        if m.tool_id not in agents or not m.cwd or m.cwd == "/":
            continue
        if m.cwd not in by_folder:
            by_folder[m.cwd] = repository_of(m.cwd)
        found = by_folder[m.cwd]
        if found is None:
            continue
        user = m.user or fallback_user
        key = ("repo_activity", m.tool_id, found.repo, found.branch, user)
        if key in seen:
            continue
        data: dict[str, Any] = {"tool_id": m.tool_id, "repo": found.repo}
        if found.branch:
            data["branch"] = found.branch
        if m.user:
            data["process_user"] = m.user[:256]
        seen[key] = Observation("ai_agent.repo_activity", key, "", user, data)
    return list(seen.values())
