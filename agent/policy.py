"""The AI acceptable-use policy (schema/policy.v1.json): what to do with each data class on
each tool. Pulled from the collector with an ETag, cached in state_dir/policy.json; a policy
that fails the contract is refused and the previous one kept."""
from __future__ import annotations

import copy
import json
import logging
import os
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

import requests

from shadowmap import contract
from shadowmap.contract.enums import ACTION_RANK, DATA_CLASSES
from shadowmap.contract.host import AGENT_UNAVAILABLE_DEFAULT
from shadowmap.detectors.severity import BY_DATA_CLASS
from shadowmap.detectors.severity import RANK as SEVERITY_RANK

log = logging.getLogger(__name__)

# strictest wins: ACTION_RANK, the contract's order (allow < warn < redact < block)
ACTION_WORDS = {
    "warn": "flagged by company AI policy",
    "redact": "must be redacted by company AI policy",
    "block": "blocked by company AI policy",
}
CLASS_LABELS = {
    "secret": "A secret",
    "pii": "Personal data",
    "payment": "Payment card data",
    "production": "Production data",
}

DEFAULT_POLICY: dict = contract.default_policy()


# when the agent cannot be reached the extension decides alone, per data class it can
# still recognise locally; "default" covers everything else (nothing recognised)
OFFLINE_KEYS = ("default", *DATA_CLASSES)


def offline_modes(policy: Mapping) -> dict[str, str]:
    """`on_agent_unavailable` as a full map {default, secret, pii, payment, production}."""
    setting = policy.get("on_agent_unavailable", AGENT_UNAVAILABLE_DEFAULT)
    if isinstance(setting, str):
        return {key: setting for key in OFFLINE_KEYS}
    default = setting.get("default", AGENT_UNAVAILABLE_DEFAULT)
    return {key: setting.get(key, default) for key in OFFLINE_KEYS}


def approved_tool(policy: Mapping, domain: str) -> str | None:
    """The tool id the policy's approved_tools (the collector's catalog overlay) give a host:
    the organisation's own additions to the catalog, known without a new release."""
    host = domain.lower().rstrip(".")
    for tool in policy.get("approved_tools") or ():
        if isinstance(tool, Mapping) and any(host == d or host.endswith("." + d) for d in tool.get("domains") or ()):
            return str(tool["id"])
    return None


# at most this many approved domains go to the extension (schema/ipc.v1.json policy reply)
MAX_APPROVED_DOMAINS = 1000


def approved_domains(policy: Mapping) -> list[str]:
    """The hosts of the policy's approved_tools, sorted: the extension guards them too."""
    domains = {str(d).lower().rstrip(".") for tool in policy.get("approved_tools") or () if isinstance(tool, Mapping)
               for d in tool.get("domains") or ()}
    return sorted(d for d in domains if d)[:MAX_APPROVED_DOMAINS]


def worst_severity(a: str | None, b: str | None) -> str | None:
    """The worse of two severities; None only when neither is one."""
    known = [s for s in (a, b) if s in SEVERITY_RANK]
    return max(known, key=SEVERITY_RANK.__getitem__) if known else None


def _rule_matches(rule: Mapping, tool_id: str | None, data_class: str, severity: str,
                  account_tier: str = "unknown") -> bool:
    tool = rule.get("tool", "*")
    if not ((tool == "*" or tool == tool_id) and rule["data_class"] in ("*", data_class)):
        return False
    # a rule for one account tier covers the tool only while it is signed in with such an account
    if rule.get("account_tier", account_tier) != account_tier:
        return False
    # a rule with min_severity only covers findings that bad or worse: a lone name is not a dump
    return SEVERITY_RANK[severity] >= SEVERITY_RANK[rule.get("min_severity", "low")]


@dataclass(frozen=True)
class Verdict:
    """What the policy decided for a paste: the action, a reason a user can read, the approved
    alternative the deciding rule names, and the exceptions that allowed a class."""
    action: str
    reason: str
    alternative: str | None = None
    exceptions: tuple[str, ...] = ()


def active_exception(policy: Mapping, user: str | None, tool_id: str | None, data_class: str,
                     now: datetime | None = None) -> Mapping | None:
    """The policy's unexpired exception (an analyst approved it) for this user, tool and class."""
    if user is None or tool_id is None:
        return None
    moment = now or datetime.now(UTC)
    for grant in policy.get("exceptions") or ():
        if (grant.get("user"), grant.get("tool"), grant.get("data_class")) != (user, tool_id, data_class):
            continue
        try:
            expires = datetime.fromisoformat(str(grant["expires_at"]).replace("Z", "+00:00"))
        except ValueError:
            continue
        if expires > moment:
            return grant
    return None


def judge(
    policy: Mapping, tool_id: str | None, data_classes: Iterable[str],
    labels: Mapping[str, str] | None = None, severities: Mapping[str, str | None] | None = None,
    *, account_tier: str = "unknown", user: str | None = None, now: datetime | None = None,
) -> Verdict:
    """The verdict for a paste.

    ``labels`` names what was found per data class (e.g. {"secret": "AWS access key"});
    ``severities`` the worst severity found per class (shadowmap.detectors.severity; a class without
    one counts at its usual severity); ``account_tier`` the tier of the account last seen on the
    tool (agent/accounts.py). The first rule matching tool, class, severity and tier decides
    that class, unless an approved exception for ``user`` allows it; the strictest class wins.
    """
    classes = list(dict.fromkeys(data_classes))
    if tool_id is None and policy.get("unknown_tool", "monitor") == "monitor":
        if classes:
            return Verdict("allow", "AI tool not in the company catalog: paste recorded, not enforced")
        return Verdict("allow", "No sensitive data found")
    best_action, best_class, best_rule = "allow", None, None
    excepted: list[str] = []
    for data_class in classes:
        severity = (severities or {}).get(data_class)
        if severity not in SEVERITY_RANK:
            severity = BY_DATA_CLASS.get(data_class, "medium")
        rule = next((r for r in policy.get("rules", ())
                     if _rule_matches(r, tool_id, data_class, severity, account_tier)), None)
        action = rule["action"] if rule else "allow"
        if action != "allow":
            grant = active_exception(policy, user, tool_id, data_class, now)
            if grant is not None:
                excepted.append(str(grant["id"]))
                continue
        if ACTION_RANK[action] > ACTION_RANK[best_action]:
            best_action, best_class, best_rule = action, data_class, rule
    if best_class is None:
        if excepted:
            return Verdict("allow", "Allowed by an exception your security team approved", exceptions=tuple(excepted))
        return Verdict("allow", "Allowed by company AI policy" if classes else "No sensitive data found")
    what = (labels or {}).get(best_class) or CLASS_LABELS[best_class]
    return Verdict(best_action, f"{what} found: {ACTION_WORDS[best_action]}",
                   (best_rule or {}).get("alternative"), tuple(excepted))


def decide(
    policy: Mapping, tool_id: str | None, data_classes: Iterable[str],
    labels: Mapping[str, str] | None = None, severities: Mapping[str, str | None] | None = None,
) -> tuple[str, str]:
    """The action for a paste and a reason a user can read (judge() without account or user)."""
    verdict = judge(policy, tool_id, data_classes, labels, severities)
    return verdict.action, verdict.reason


class PolicyStore:
    """The current policy, its ETag, and the on-disk cache. Reads are lock-free swaps."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._lock = threading.Lock()
        self.policy: dict = copy.deepcopy(DEFAULT_POLICY)
        self.etag: str | None = None
        self._load_cache()

    def _load_cache(self) -> None:
        try:
            cached = json.loads(self.path.read_text("utf-8"))
            contract.validate_policy(cached["policy"])
        except FileNotFoundError:
            return
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("ignoring cached policy %s: %s", self.path, exc)
            return
        self.policy = cached["policy"]
        self.etag = cached.get("etag") if isinstance(cached.get("etag"), str) else None

    def decide(self, tool_id: str | None, data_classes: Iterable[str],
               labels: Mapping[str, str] | None = None,
               severities: Mapping[str, str | None] | None = None) -> tuple[str, str]:
        return decide(self.policy, tool_id, data_classes, labels, severities)

    def judge(self, tool_id: str | None, data_classes: Iterable[str], labels: Mapping[str, str] | None = None,
              severities: Mapping[str, str | None] | None = None, *, account_tier: str = "unknown",
              user: str | None = None) -> Verdict:
        return judge(self.policy, tool_id, data_classes, labels, severities, account_tier=account_tier, user=user)

    def coaching(self, verdict: Verdict) -> dict[str, str]:
        """What the banner and dialog show besides the reason: the AI policy page, the alternative."""
        coaching = {}
        url = self.policy.get("ai_policy_url")
        if isinstance(url, str) and url.startswith("https://"):
            coaching["policy_url"] = url
        if verdict.alternative:
            coaching["alternative"] = verdict.alternative
        return coaching

    def accept(self, policy: object, etag: str | None) -> bool:
        """Install a policy from the collector if it meets the contract; else keep the old one."""
        try:
            contract.validate_policy(policy)
        except contract.ContractError as exc:
            log.error("refused a policy from the collector that breaks the contract: %s", exc)
            return False
        with self._lock:
            self.policy, self.etag = cast(dict, policy), etag     # validated: the schema's object
            self._save()
        log.info("policy updated (etag %s)", etag)
        return True

    def _save(self) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"policy": self.policy, "etag": self.etag}), "utf-8")
        os.replace(tmp, self.path)

    def refresh(self, collector_url: str, node_key: str, timeout: float = 10.0) -> bool:
        """Pull the policy; True if a new one was installed. Never raises on network trouble."""
        headers = {"Authorization": f"Bearer {node_key}"}
        if self.etag:
            headers["If-None-Match"] = self.etag
        try:
            resp = requests.get(f"{collector_url}/api/v1/policy", headers=headers, timeout=timeout)
        except requests.RequestException as exc:
            log.warning("policy refresh: collector unreachable: %s", exc)
            return False
        if resp.status_code == 304:
            return False
        if resp.status_code != 200:
            log.warning("policy refresh: collector answered HTTP %s", resp.status_code)
            return False
        try:
            body = resp.json()
        except ValueError:
            log.error("refused a policy from the collector that is not JSON")
            return False
        return self.accept(body, resp.headers.get("ETag"))


# short, readable placeholder names for the common entity types; others use the type itself
PLACEHOLDER_NAMES = {
    "EMAIL_ADDRESS": "EMAIL", "PHONE_NUMBER": "PHONE", "CREDIT_CARD": "CARD", "IBAN_CODE": "IBAN",
    "IP_ADDRESS": "IP", "DATABASE_URL": "DB_URL", "AWS_SECRET_KEY": "AWS_SECRET",
    "STREET_ADDRESS": "ADDRESS", "DATE_OF_BIRTH": "DOB",
}


def redact(text: str, findings: Iterable) -> str:
    """`text` with every finding's value replaced by a typed placeholder (`<EMAIL_1>`).

    The same value always gets the same placeholder, so a redacted prompt still reads
    consistently; overlapping findings keep the one that starts first (the longer on a tie).
    """
    spans = sorted(findings, key=lambda f: (f.start, -(f.end - f.start)))
    numbers: dict[tuple[str, str], int] = {}
    counters: dict[str, int] = {}
    parts, cursor = [], 0
    for finding in spans:
        if finding.start < cursor or finding.end <= finding.start:
            continue
        name = PLACEHOLDER_NAMES.get(finding.entity_type, finding.entity_type)
        value = text[finding.start:finding.end]
        key = (name, value)
        if key not in numbers:
            counters[name] = counters.get(name, 0) + 1
            numbers[key] = counters[name]
        parts += [text[cursor:finding.start], f"<{name}_{numbers[key]}>"]
        cursor = finding.end
    parts.append(text[cursor:])
    return "".join(parts)
