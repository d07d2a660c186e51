"""One rule for naming a git repository, shared by the agent (remotes read from .git/config)
and the collector (code hosts' webhooks, and again at ingest: it does not trust the agent to
have applied it), so the two sides meet — the form of ``ai_agent.repo_activity``'s ``repo``: lowercase ``host/owner/name`` (GitLab:
``host/group/sub/project``), without scheme, user, password, port or ``.git`` suffix."""
from __future__ import annotations

import re
from urllib.parse import urlsplit

# git's "scp-like" syntax: [user@]host:path (no scheme, and not a Windows drive letter path)
SCP_LIKE = re.compile(r"^(?:[^@/\s]+@)?(?P<host>[^@/:\s]{2,}):(?P<path>[^\s]+)$")
HOST = re.compile(r"^[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?$")
SEGMENT = re.compile(r"^[a-z0-9._-]+$")
MIN_SEGMENTS, MAX_SEGMENTS = 2, 8  # owner/name up to GitLab's nested subgroups
MAX_LENGTH = 300


def normalise_repo(remote: str | None, *, bare: bool = True) -> str | None:
    """``host/owner/name`` for a git remote URL (https, ssh, scp-like, git://) or, with
    ``bare``, an already bare ``host/owner/name``; None when it does not name a repository on
    a host. The agent passes ``bare=False``: in .git/config a remote without a scheme or a
    colon is a relative local path to git, not a host."""
    text = (remote or "").strip() if isinstance(remote, str) else ""
    if not text or len(text) > 2048:
        return None
    if "://" in text:
        try:
            parts = urlsplit(text)
            host = parts.hostname or ""  # lowercased; user, password and port dropped
            parts.port  # noqa: B018 - raises ValueError on a malformed port
        except ValueError:
            return None
        path = parts.path
    elif match := SCP_LIKE.match(text):
        host, path = match["host"], match["path"]
    elif not bare:
        return None
    else:
        host, _, path = text.partition("/")
        host = host.rsplit("@", 1)[-1]
    host = host.lower().rstrip(".")
    if ":" in host:  # host:port in a bare name
        host, _, port = host.partition(":")
        if not port.isdigit():
            return None
    path = path.strip("/")
    if path.lower().endswith(".git"):
        path = path[:-4].rstrip("/")
    segments = [segment for segment in path.lower().split("/") if segment]
    if not HOST.match(host) or not MIN_SEGMENTS <= len(segments) <= MAX_SEGMENTS:
        return None
    if any(not SEGMENT.match(segment) or segment in (".", "..") for segment in segments):
        return None
    name = f"{host}/{'/'.join(segments)}"
    return name if len(name) <= MAX_LENGTH else None


def provider_path(repo: str) -> str:
    """A normalised ``host/owner/name`` as the SCM providers name it in webhooks (GitHub's
    full_name, GitLab's path_with_namespace): ``owner/name``; "" without a host part."""
    host, _, path = repo.partition("/")
    return path if path and "/" in path and "." in host else ""
