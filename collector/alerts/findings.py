"""The six findings of the design, as data, and which evidence raises each.

Two kinds of evidence: an event that is itself a leak (EVENT_RULES: a secret or production
data pasted, a secret in an AI tool's config), and the use of an AI tool whose vendor fails
a register check (VENDOR_CHECKS: not in the sub-processor register, no DPA, retention
longer than the company allows). The sixth, generated code deployed without review, is
raised by the SCM webhook receiver (shadowmap.collector.api.scm_webhooks)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from shadowmap.contract import enums


@dataclass(frozen=True)
class Finding:
    id: str
    name: str
    severity: str
    # "user": one alert per tool x user; "org": one per tool (the vendor's standing), users listed
    scope: str
    raised_by: str
    # The severity when none of the evidence reached the tool (every paste blocked, redacted,
    # cancelled or still awaiting a decision); None: the finding is not judged by outcomes.
    stopped_severity: str | None = None


FINDINGS: tuple[Finding, ...] = (
    Finding("copied_secrets", "AI tool with production read access via copied secrets", "critical", "user",
            "a secret pasted into an AI tool (any tool, unknown ones included, whatever the policy did), or found "
            "in an AI tool's config or workspace; medium when every paste was stopped", "medium"),
    Finding("adhoc_production_data", "Production data pasted into an AI chat, ad hoc", "high", "user",
            "a paste, drop or upload with personal data, card data or production records, whatever the policy did; "
            "low when every one was stopped", "low"),
    Finding("unknown_subprocessor", "Unknown AI tool / sub-processor not listed", "medium", "org",
            "an AI tool in use whose vendor is not in the sub-processor register, or is not publicly listed there"),
    Finding("dpa_missing", "AI-tool DPA missing", "medium", "org",
            "an AI tool in use whose vendor is in the register without a signed DPA"),
    Finding("retention_exceeds", "AI-tool retention exceeds company retention policy", "medium", "org",
            "an AI tool in use whose vendor keeps inputs longer than the company's retention policy"),
    Finding("unreviewed_ai_code", "Generated code deployed without human review", "high", "user",
            "a merged change with AI-authorship markers and no approving review by someone other than its author"),
    Finding("risky_agent_setup", "Risky AI agent or MCP setup", "high", "user",
            "an MCP server or AI agent set up with risks the policy's agent_risks entries name: unpinned "
            "fetch-and-exec, shell exec, approvals switched off, hidden instructions, credentials in configs"),
    Finding("protection_disabled", "Protection disabled", "high", "user",
            "a device silent for longer than the set time (not retired on purpose), or the extension disabled "
            "or missing in a browser profile that policy force-installs it in; resolves itself when fixed"),
    Finding("personal_account", "AI tool used with a personal account", "medium", "user",
            "a catalogued AI tool signed in with a personal account (a consumer mail domain, or any domain "
            "outside the org's org_email_domains): nobody can deprovision it, and its vendor is a sub-processor "
            "in use; evidence: the tool, the account's keyed hash, the device"),
    Finding("console_lockout", "Console sign-in locked out", "high", "user",
            "failed sign-ins to this console reached the lockout threshold for an account or a client address: "
            "someone may be guessing passwords; one alert per account, unknown usernames share one"),
)
BY_ID = {finding.id: finding for finding in FINDINGS}
SEVERITIES = enums.FINDING_SEVERITIES  # the contract's, most severe first


@dataclass(frozen=True)
class EventRule:
    finding: str
    event_types: frozenset[str]
    data_classes: frozenset[str]  # raised when the event's data classes intersect these
    actions: frozenset[str] | None = None  # None: any (or no) action


# First matching rule wins, so the most severe comes first. Pastes raise their finding
# whatever the policy did: what left the laptop (the outcome) sets the severity, so a
# secret sent to a tool the policy only monitors is a critical leak, a blocked one is not.
EVENT_RULES: tuple[EventRule, ...] = (
    EventRule("copied_secrets", frozenset({"paste.scanned"}), frozenset({"secret"})),
    EventRule("copied_secrets", frozenset({"ai_config.finding"}), frozenset(enums.DATA_CLASSES)),
    EventRule("adhoc_production_data", frozenset({"paste.scanned"}), frozenset({"pii", "payment", "production"})),
)

RULE_EVENT_TYPES = frozenset().union(*(rule.event_types for rule in EVENT_RULES))

# Events that show an AI tool in use (its vendor then faces the register checks).
USAGE_EVENT_TYPES = frozenset({"paste.scanned", "ai_tool.observed", "ai_config.finding", "mcp_server.observed",
                               "ai_account.observed"})


# event type -> (data classes, actions, finding) of each rule for it, in rule order: the
# per-event check skips the other types' rules and the BY_ID look-up.
_RULES_BY_TYPE: dict[str, tuple[tuple[frozenset[str], frozenset[str] | None, Finding], ...]] = {
    event_type: tuple((rule.data_classes, rule.actions, BY_ID[rule.finding])
                      for rule in EVENT_RULES if event_type in rule.event_types)
    for event_type in RULE_EVENT_TYPES}


def event_data_classes(data: dict) -> set[str]:
    classes = set(data.get("data_classes") or ())
    for f in data.get("findings") or ():  # a plain loop: cheaper than a generator for a few findings
        if isinstance(f, dict) and "data_class" in f:
            classes.add(f["data_class"])
    return classes


def event_finding(event: dict) -> Finding | None:
    """The leak finding an event raises by itself, if any."""
    event_type = event["type"]
    if event_type not in RULE_EVENT_TYPES:
        return None  # most events (tool sightings) cannot raise one
    data = event.get("data") or {}
    if not (data.get("data_classes") or data.get("findings")):
        return None  # no data class, so no rule matches
    return finding_of(event_type, data, event_data_classes(data))


def finding_of(event_type: str, data: dict, classes: set[str]) -> Finding | None:
    """event_finding of an event of this type and data whose classes (event_data_classes)
    are already worked out."""
    for data_classes, actions, finding in _RULES_BY_TYPE.get(event_type, ()):
        if classes.isdisjoint(data_classes):
            continue
        if actions is not None and data.get("action") not in actions:
            continue
        return finding
    return None


@dataclass(frozen=True)
class VendorStanding:
    """What the collector knows about a vendor when one of its tools is used."""
    vendor: str
    in_register: bool
    listed: bool
    dpa_signed: bool
    retention_days: int | None      # the vendor's default retention of inputs (vendor facts)
    policy_retention_days: int | None  # the company's policy; None = not set


def _unknown(v: VendorStanding) -> dict | None:
    if not v.in_register:
        return {"reason": f"{v.vendor} is not in the sub-processor register"}
    if not v.listed:
        return {"reason": f"{v.vendor} is in the register but not publicly listed as a sub-processor"}
    return None


def _dpa(v: VendorStanding) -> dict | None:
    # A vendor missing from the register is reported as unknown; this one is about the DPA.
    if v.in_register and not v.dpa_signed:
        return {"reason": f"no signed DPA with {v.vendor} on file"}
    return None


def _retention(v: VendorStanding) -> dict | None:
    if v.retention_days is None or v.policy_retention_days is None:
        return None  # no facts, or no policy: nothing to compare (the register page says so)
    if v.retention_days > v.policy_retention_days:
        return {"reason": f"{v.vendor} keeps inputs {v.retention_days} days; policy allows "
                          f"{v.policy_retention_days}",
                "vendor_retention_days": v.retention_days, "policy_retention_days": v.policy_retention_days}
    return None


VENDOR_CHECKS: tuple[tuple[str, Callable[[VendorStanding], dict | None]], ...] = (
    ("unknown_subprocessor", _unknown),
    ("dpa_missing", _dpa),
    ("retention_exceeds", _retention),
)


def vendor_findings(standing: VendorStanding) -> list[tuple[Finding, dict]]:
    """Every register finding this vendor's standing raises, with its facts."""
    raised = []
    for finding_id, check in VENDOR_CHECKS:
        facts = check(standing)
        if facts is not None:
            raised.append((BY_ID[finding_id], facts))
    return raised
