"""What an alert says for itself: a one-line summary ("5 AWS secret key pastes into ChatGPT
on ops-dave-xps, 3 sent after warning"), the evidence a responder needs from its events
(config paths, workspaces, MCP servers, file names, justifications) and the outcome of
each paste, the warning's decision joined to it."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from shadowmap.collector.alerts import outcomes

MAX_FACT_VALUES = 20  # values listed per kind of evidence
MAX_SUMMARY_PATH = 80  # characters of a config path in the one-line summary (its end: the file name)
# entity-type words written as people write them
_WORDS = {"aws": "AWS", "gcp": "GCP", "api": "API", "ssh": "SSH", "jwt": "JWT", "url": "URL", "db": "DB",
          "iban": "IBAN", "ssn": "SSN", "ip": "IP", "pem": "PEM", "npm": "npm", "github": "GitHub",
          "gitlab": "GitLab", "openai": "OpenAI", "pii": "personal data", "id": "ID"}


def entity_name(entity_type: str) -> str:
    """AWS_SECRET_KEY -> "AWS secret key"."""
    words = [_WORDS.get(word, word) for word in entity_type.lower().split("_") if word]
    text = " ".join(words)
    return text[:1].upper() + text[1:] if text and text[0].islower() else text


def outcome_words(outcome: str) -> str:
    return outcome.replace("_", " ")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _where(hosts: Sequence[str], device_count: int) -> str:
    if len(hosts) == 1 and device_count == 1:
        return f" on {hosts[0]}"
    return f" on {_plural(device_count, 'device')}" if device_count else ""


def _what(alert: Mapping[str, Any]) -> str:
    types = alert["entity_types"]
    if len(types) == 1:
        return entity_name(types[0])
    return " and ".join(_WORDS.get(c, c) for c in alert["data_classes"]) or "data"


def _files(paths: Sequence[str]) -> str:
    """The files a secret was found in, as the alert page's config paths name them: the newest
    path (a long one cut to its end, the file name kept), and how many more."""
    path = "".join(ch if ch.isprintable() else "?" for ch in paths[0])  # one line, whatever a path holds
    if len(path) > MAX_SUMMARY_PATH:
        path = "…" + path[-(MAX_SUMMARY_PATH - 1):]
    more = len(paths) - 1
    return f"{path} and {_plural(more, 'other file')}" if more else path


def summary_line(alert: Mapping[str, Any], tool: str, hosts: Sequence[str], files: Sequence[str] = ()) -> str:
    """The alert in one line, from its finding, counts, outcomes, tool and hosts; ``files``:
    the config files its secrets were found in (alert_reads.config_paths), newest first."""
    where = _where(hosts, len(alert["device_ids"]))
    counts: Mapping[str, int] = alert.get("outcomes") or {}
    pastes = sum(counts.values())
    if alert["finding_id"] in ("copied_secrets", "adhoc_production_data"):
        parts = []
        if pastes:
            decided = ", ".join(f"{n} {outcome_words(o)}" for o, n in counts.items())
            parts.append(f"{pastes} {_what(alert)} {'paste' if pastes == 1 else 'pastes'} into {tool}{where}, {decided}")
        if alert["count"] > pastes:
            found = alert["count"] - pastes
            place = f"{_files(files)} ({tool}'s config or workspace)" if files else f"{tool}'s config or workspace"
            parts.append(f"{_what(alert)} found {_plural(found, 'time')} in {place}{where}")
        return "; ".join(parts)
    reason = (alert.get("facts") or {}).get("reason")
    users = len(alert["users"])
    used = f"{tool} used by {_plural(users, 'user')}{where}"
    return f"{used}: {reason}" if reason else f"{used}, {_plural(alert['count'], 'event')}"


def event_outcomes(events: Sequence[Mapping[str, Any]]) -> dict[str, tuple[str, str]]:
    """paste.scanned event id -> (its outcome, the justification if sent after a warning),
    the decisions among these events joined to their scans."""
    decisions = {e["data"].get("scan_id"): e for e in events if e["type"] == outcomes.DECISION_EVENT}
    found = {}
    for event in events:
        if event["type"] != outcomes.PASTE_EVENT:
            continue
        outcome = outcomes.scan_outcome(event["data"]) or ""
        justification = ""
        decision = decisions.get(event["id"])
        if outcome == outcomes.AWAITING and decision is not None and decision["user"] == event["user"]:
            outcome = outcomes.DECISION_OUTCOMES.get(decision["data"].get("decision"), outcome)
            justification = decision["data"].get("justification", "")
        found[event["id"]] = (outcome, justification)
    return found


def evidence_facts(events: Sequence[Mapping[str, Any]]) -> dict[str, list[str]]:
    """What a responder needs from the events, by kind, each value once (at most
    MAX_FACT_VALUES): config paths, workspaces, MCP servers, file names, justifications."""
    facts: dict[str, list[str]] = {"config paths": [], "workspaces": [], "MCP servers": [], "file names": [],
                                   "justifications": []}

    def add(kind: str, value: object) -> None:
        if isinstance(value, str) and value and value not in facts[kind] and len(facts[kind]) < MAX_FACT_VALUES:
            facts[kind].append(value)

    for event in events:
        data = event["data"]
        add("config paths", data.get("path") or data.get("config_path"))
        add("workspaces", data.get("workspace"))
        if event["type"] == "mcp_server.observed":
            add("MCP servers", data.get("name"))
        for item in data.get("files") or ():
            add("file names", item.get("name") if isinstance(item, dict) else None)
        if event["type"] == outcomes.DECISION_EVENT and data.get("justification"):
            add("justifications", f"{event['user']}: {data['justification']}")
    return {kind: values for kind, values in facts.items() if values}
