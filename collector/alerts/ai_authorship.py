"""AI-authorship markers in code changes, as data: the bot accounts, co-author trailers and
phrases that AI coding agents leave on commits and pull/merge requests."""
from __future__ import annotations

import re
from dataclasses import dataclass

TRAILER = re.compile(r"^\s*co-authored-by:\s*(?P<name>[^<\n]*?)\s*<(?P<email>[^>\n]*)>\s*$", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True)
class AgentMarkers:
    tool_id: str                 # catalog id of the agent
    logins: frozenset[str]       # bot / app accounts (lowercase) that author, commit or push
    emails: tuple[str, ...]      # author / co-author addresses (lowercase substrings)
    names: tuple[str, ...] = ()  # co-author names, trusted only with a no-reply address
    phrases: tuple[str, ...] = ()  # lowercase text the agent writes into messages or descriptions


AGENTS: tuple[AgentMarkers, ...] = (
    AgentMarkers("claude-code", frozenset({"claude[bot]", "claude-code[bot]"}), ("noreply@anthropic.com",),
                 ("claude", "claude code"), ("generated with [claude code]", "generated with claude code")),
    AgentMarkers("github-copilot", frozenset({"copilot", "copilot-swe-agent", "copilot-swe-agent[bot]"}),
                 ("+copilot@users.noreply.github.com", "copilot@github.com"), ("copilot",)),
    AgentMarkers("cursor", frozenset({"cursor[bot]", "cursoragent", "cursor-agent[bot]"}), ("cursoragent@cursor.com",),
                 ("cursor agent", "cursor")),
    AgentMarkers("codex-cli", frozenset({"chatgpt-codex-connector[bot]", "codex[bot]", "openai-codex[bot]"}),
                 ("codex@openai.com",), ("codex",)),
    AgentMarkers("devin", frozenset({"devin-ai-integration[bot]"}), ("devin-ai-integration[bot]@users.noreply.github.com",),
                 ("devin ai", "devin")),
    AgentMarkers("aider", frozenset(), ("noreply@aider.chat",), ("aider",), ("aider: ",)),
    AgentMarkers("jules", frozenset({"google-labs-jules[bot]"}), ("google-labs-jules[bot]@users.noreply.github.com",)),
    AgentMarkers("gemini-cli", frozenset({"gemini-code-assist[bot]", "gemini-cli[bot]"}),
                 ("gemini-code-assist[bot]@users.noreply.github.com",)),
    AgentMarkers("amazon-q-developer", frozenset({"amazon-q-developer[bot]"}),
                 ("amazon-q-developer[bot]@users.noreply.github.com",)),
    AgentMarkers("windsurf", frozenset({"windsurf[bot]"}), ("noreply@windsurf.com", "noreply@codeium.com"),
                 ("windsurf", "cascade")),
)
AI_LOGINS = frozenset(login for agent in AGENTS for login in agent.logins)


def is_ai_login(login: str | None) -> bool:
    return bool(login) and login is not None and login.lower() in AI_LOGINS


def agents_for_login(login: str | None) -> set[str]:
    lowered = (login or "").lower()
    return {agent.tool_id for agent in AGENTS if lowered in agent.logins}


def agents_for_person(name: str | None, email: str | None) -> set[str]:
    """Agents an author or co-author (name, email) stands for."""
    name, email = (name or "").strip().lower(), (email or "").strip().lower()
    found = set()
    for agent in AGENTS:
        if email and any(marker in email for marker in agent.emails) or name in agent.names and "noreply" in email:
            found.add(agent.tool_id)
    return found


def agents_in_text(text: str | None) -> set[str]:
    """Agents named by co-author trailers or telltale phrases in a message or description."""
    if not text:
        return set()
    text = text[:200_000]
    found = set()
    for match in TRAILER.finditer(text):
        found |= agents_for_person(match.group("name"), match.group("email"))
    lowered = text.lower()
    for agent in AGENTS:
        if any(phrase in lowered for phrase in agent.phrases):
            found.add(agent.tool_id)
    return found
