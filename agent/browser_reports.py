"""What the extension reports about the pages it watches, besides scans: visits of AI tools,
active time, large pastes on unknown pages, the signed-in account, the policy it needs while
the agent is down and the decisions it took then. Each becomes a spooled event (deduplicated
per user and day where one a day says enough); nothing here scans text."""
from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from shadowmap import contract
from shadowmap.agent import accounts, events
from shadowmap.agent.policy import CLASS_LABELS, PolicyStore, approved_domains, offline_modes
from shadowmap.agent.request_fields import RequestError, domain_of, file_facts, int_field, optional_str
from shadowmap.agent.spool import Spool

VISIT_DEDUPE_MAX = 10_000      # in-memory dedupe keys kept before the table is reset
DATA_CLASSES = tuple(CLASS_LABELS)
OFFLINE_ACTIONS = ("allow", "block")
# offline decision ids come from the extension; the event id is derived per user so one
# user's ids can never collide with another's, and a resent decision is stored once
OFFLINE_ID_NAMESPACE = uuid.UUID("6b0f3c56-4d55-4c43-9a1c-1f2e3d4c5b6a")
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
RFC3339_RE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?(Z|[+-][0-9]{2}:[0-9]{2})$")

# what a visit or signal is deduplicated by, per user and day: a tool id or domain, or (kind, domain)
_Seen = str | tuple[str, str]


class BrowserReports:
    def __init__(self, spool: Spool, policy: PolicyStore, tool_id_of: Callable[[str], str | None],
                 device_of: Callable[[], tuple[str, bytes]], tiers: accounts.AccountTiers):
        self.spool = spool
        self.policy = policy
        self.tiers = tiers
        self._tool_id_of = tool_id_of
        self._device_of = device_of
        self._visits: set[tuple[_Seen, str, str]] = set()
        self._visits_lock = threading.Lock()

    def offline_policy(self, msg: dict, user: str) -> dict:
        """What the extension must do on its own while the agent is unreachable (it caches it)."""
        reply = {"type": "policy", "on_agent_unavailable": offline_modes(self.policy.policy)}
        tenants = self.policy.policy.get("tenant_restrictions") if isinstance(self.policy.policy, dict) else None
        if tenants:                       # the extension sets the vendors' tenant headers from these
            reply["tenant_restrictions"] = tenants
        approved = approved_domains(self.policy.policy)
        if approved:                      # the extension registers its guard on these hosts too
            reply["approved_domains"] = approved
        return reply

    def offline_decision(self, msg: dict, user: str) -> dict:
        """A decision the extension took while the agent was down, uploaded once it is back."""
        channel = msg.get("channel")
        if channel not in events.CHANNELS:
            raise RequestError("bad_request", f"channel must be one of {', '.join(events.CHANNELS)}")
        decision_id, decided_at, action = msg.get("decision_id"), msg.get("decided_at"), msg.get("action")
        if not isinstance(decision_id, str) or not UUID_RE.match(decision_id):
            raise RequestError("bad_request", "decision_id must be a lower-case UUID")
        if not isinstance(decided_at, str) or not RFC3339_RE.match(decided_at):
            raise RequestError("bad_request", "decided_at must be an RFC 3339 timestamp")
        if action not in OFFLINE_ACTIONS:
            raise RequestError("bad_request", "action must be allow or block")
        classes = msg.get("data_classes", [])
        if not isinstance(classes, list) or not set(classes) <= set(DATA_CLASSES):
            raise RequestError("bad_request", f"data_classes must list some of {', '.join(DATA_CLASSES)}")
        browser = optional_str(msg, "browser")
        reason = optional_str(msg, "reason") or ""
        domain = domain_of(msg)
        device_id, _ = self._device_of()
        event = events.paste_scanned(
            device_id=device_id, user=user, channel=channel, tool_id=self._tool_id_of(domain), domain=domain,
            findings=[], action=action, reason=reason, text_length=int_field(msg, "text_length", 0, 2**53, 0),
            elapsed_ms=0.0, browser=browser)
        event["id"] = str(uuid.uuid5(OFFLINE_ID_NAMESPACE, f"{user}\n{decision_id}"))
        event["data"].update({"data_classes": list(dict.fromkeys(classes)), "decided_offline": True,
                              "decided_at": decided_at})
        files = file_facts(msg)
        if files:
            event["data"]["files"] = files
        self.spool.put(event)   # validates; a resent decision keeps its id and is stored once
        return {"type": "ack"}

    def usage(self, msg: dict, user: str) -> dict:
        """Active time on a catalogued AI tool's pages (domain and tool id; never the path)."""
        domain = domain_of(msg)
        tool_id = self._tool_id_of(domain)
        if tool_id is None:
            raise RequestError("bad_request", "usage is reported for catalogued AI tools only")
        data: dict[str, Any] = {"tool_id": tool_id, "domain": domain,
                                "active_seconds": int_field(msg, "active_seconds", 0, 86400),
                                "visits": int_field(msg, "visits", 0, 100000, 0)}
        browser = optional_str(msg, "browser")
        if browser:
            data["browser"] = browser
        device_id, _ = self._device_of()
        self.spool.put(events.envelope("ai_tool.usage", device_id, user, data))
        return {"type": "ack"}

    def unknown_signal(self, msg: dict, user: str) -> dict:
        """A large paste into a chat-like input on a page outside the catalog."""
        domain = domain_of(msg)
        if self._tool_id_of(domain) is not None:
            return {"type": "ack"}      # a catalogued tool: the paste itself was scanned
        kind = msg.get("input_kind")
        if kind not in ("textarea", "contenteditable", "input"):
            raise RequestError("bad_request", "input_kind must be textarea, contenteditable or input")
        data: dict[str, Any] = {"domain": domain, "signal": "large_paste_chat_input", "input_kind": kind,
                                "paste_length": int_field(msg, "paste_length", 0, 2**53)}
        browser = optional_str(msg, "browser")
        if browser:
            data["browser"] = browser
        if not self._first_today(("unknown_signal", domain), user):
            return {"type": "ack"}      # one signal per domain, user and day is enough
        device_id, _ = self._device_of()
        self.spool.put(events.envelope("ai_tool.unknown_signal", device_id, user, data))
        return {"type": "ack"}

    def account(self, msg: dict, user: str) -> dict:
        """The account a catalogued AI tool is signed in with (agent/accounts.py classifies it);
        spooled once per tool, account and user a day, the email as a keyed hash only."""
        domain = domain_of(msg)
        tool_id = self._tool_id_of(domain)
        if tool_id is None:
            raise RequestError("bad_request", "accounts are reported for catalogued AI tools only")
        policy = self.policy.policy if isinstance(self.policy.policy, dict) else {}
        try:
            account = accounts.classify_for(policy, optional_str(msg, "email"), optional_str(msg, "hosted_domain"),
                                            optional_str(msg, "sso_tenant"))
        except accounts.BadAccount as exc:
            raise RequestError("bad_request", str(exc)) from None
        device_id, org_key = self._device_of()
        data: dict[str, Any] = {"tool_id": tool_id, "domain": domain, "source": msg.get("source"),
                                **account.event_data(org_key, policy.get("account_emails_in_clear") is True)}
        browser = optional_str(msg, "browser")
        if browser:
            data["browser"] = browser
        self.tiers.remember(user, tool_id, browser, account.tier)
        seen = ("account", f"{tool_id}\n{data.get('account_hash') or account.domain or account.tenant}")
        if self._first_today(seen, user):
            self.spool.put(events.envelope("ai_account.observed", device_id, user, data))
        return {"type": "ack"}

    def _first_today(self, what: _Seen, user: str) -> bool:
        """True the first time `what` is seen for `user` today (in this agent process)."""
        key = (what, user, datetime.now(UTC).strftime("%Y-%m-%d"))
        with self._visits_lock:
            if key in self._visits:
                return False
            if len(self._visits) >= VISIT_DEDUPE_MAX:
                self._visits.clear()
            self._visits.add(key)
        return True

    def visit(self, msg: dict, user: str) -> dict:
        browser = optional_str(msg, "browser")
        domain = domain_of(msg)
        tool_id = self._tool_id_of(domain)
        key = (tool_id or domain, user, datetime.now(UTC).strftime("%Y-%m-%d"))
        if not self._first_today(tool_id or domain, user):
            return {"type": "ack"}
        device_id, _ = self._device_of()
        try:
            event = events.ai_tool_observed(device_id=device_id, user=user, tool_id=tool_id,
                                            source="extension", domain=domain, browser=browser)
            self.spool.put(event)
        except (contract.ContractError, OSError):
            with self._visits_lock:           # not recorded: let the next visit try again
                self._visits.discard(key)
            raise
        return {"type": "ack"}
