"""What the agent does with each IPC request (docs/internals.md "IPC"). Transport-free:
``handle(message, os_user) -> reply``; the socket server in agent/ipc.py feeds it."""
from __future__ import annotations

import base64
import binascii
import logging
import os
import re
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from shadowmap import __version__, contract
from shadowmap.agent import accounts, events
from shadowmap.agent.enroll import EnrollmentHolder
from shadowmap.agent.events import BadURL
from shadowmap.agent.fair_gate import FairGate
from shadowmap.agent.policy import (
    ACTION_WORDS,
    CLASS_LABELS,
    PolicyStore,
    Verdict,
    approved_domains,
    approved_tool,
    offline_modes,
    redact,
    worst_severity,
)
from shadowmap.agent.spool import Spool
from shadowmap.contract.host import MAX_FILE_CONTENT, MAX_FILES, MAX_FILES_CONTENT
from shadowmap.detectors.catalog import AITool
from shadowmap.detectors.files.batch import FileScanner, ReadFiles
from shadowmap.detectors.hashing import FindingLike, Summarize
from shadowmap.detectors.scan_result import Finding
from shadowmap.detectors.settings import MAX_SCAN_CHARS
from shadowmap.ipc import framing

log = logging.getLogger(__name__)

VISIT_DEDUPE_MAX = 10_000      # in-memory dedupe keys kept before the table is reset
WARNED_KEPT = 1_000            # recent warn verdicts an override may answer (oldest forgotten)
# the redacted text goes back to the browser, whose frames stop at 1 MiB (framing.py)
MAX_REDACTED_BYTES = framing.MAX_TO_BROWSER - 64 * 1024
DATA_CLASSES = tuple(CLASS_LABELS)
OFFLINE_ACTIONS = ("allow", "block")
# offline decision ids come from the extension; the event id is derived per user so one
# user's ids can never collide with another's, and a resent decision is stored once
OFFLINE_ID_NAMESPACE = uuid.UUID("6b0f3c56-4d55-4c43-9a1c-1f2e3d4c5b6a")
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
RFC3339_RE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?(Z|[+-][0-9]{2}:[0-9]{2})$")


class RequestError(Exception):
    def __init__(self, code: str, detail: str):
        super().__init__(detail)
        self.code, self.detail = code, detail


class Engine(Protocol):
    def scan(self, text: str) -> Sequence[Finding]: ...


class Catalog(Protocol):
    def match_domain(self, domain: str) -> AITool | None: ...


# what a visit or signal is deduplicated by, per user and day: a tool id or domain, or (kind, domain)
_Seen = str | tuple[str, str]


def _optional_str(msg: dict, field: str) -> str | None:
    """A string field the contract already checked (type and length: schema/ipc.v1.json)."""
    value = msg.get(field)
    return value if isinstance(value, str) else None


def _int(msg: dict, field: str, low: int, high: int, default: int | None = None) -> int:
    value = msg.get(field, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise RequestError("bad_request", f"{field} must be an integer from {low} to {high}")
    return value


def _files(msg: dict) -> list[dict]:
    """File facts from the extension (name, type, size, read), checked field by field."""
    raw = msg.get("files", [])
    if not isinstance(raw, list) or len(raw) > MAX_FILES:
        raise RequestError("bad_request", f"files must be a list of at most {MAX_FILES} entries")
    files = []
    for item in raw:
        if not isinstance(item, dict):
            raise RequestError("bad_request", "each file must be an object")
        name, mime, read = item.get("name"), item.get("mime", ""), item.get("read")
        if not isinstance(name, str) or not isinstance(mime, str) or not isinstance(read, bool):
            raise RequestError("bad_request", "a file needs name and mime as strings and read as a boolean")
        entry = {"name": name[:255], "size": _int(item, "size", 0, 2**53), "read": read}
        if mime:
            entry["mime"] = mime[:255]
        files.append(entry)
    return files


def _file_contents(msg: dict) -> list[tuple[int, str, bytes]]:
    """The bytes of the files that carry them (base64): (index in files, name, bytes),
    within the contract's limits (schema/host.v1.json)."""
    contents, total = [], 0
    for index, item in enumerate(msg.get("files") or []):
        encoded = item.get("content") if isinstance(item, dict) else None
        if not isinstance(encoded, str):
            continue
        try:
            data = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise RequestError("bad_request", "a file's content must be base64") from None
        total += len(data)
        if len(data) > MAX_FILE_CONTENT or total > MAX_FILES_CONTENT:
            raise RequestError("too_large", f"file content over {MAX_FILE_CONTENT} bytes a file "
                                            f"or {MAX_FILES_CONTENT} bytes a request")
        contents.append((index, str(item.get("name", ""))[:255], data))
    return contents


def _domain(msg: dict) -> str:
    if "url" not in msg:
        raise RequestError("bad_request", "url is required")
    try:
        return events.host_of(msg["url"])
    except BadURL as exc:
        raise RequestError("bad_request", str(exc)) from None


def _check_contract(msg: dict) -> None:
    """The request as schema/ipc.v1.json declares it (what the native host checks too); the
    handlers then check what a schema cannot say (URLs, byte sizes, whose warning it is)."""
    try:
        contract.validate_ipc_request(msg)
    except contract.ContractError as exc:
        raise RequestError("bad_request", str(exc)) from None


class RequestHandlers:
    def __init__(self, engine: Engine, catalog: Catalog, summarize: Summarize, policy: PolicyStore,
                 spool: Spool, identity: EnrollmentHolder, files: FileScanner | None = None):
        self.engine = engine
        self.files = files or FileScanner()     # reads files and OCRs images (loaded on first use)
        self.catalog = catalog
        self.summarize = summarize
        self.policy = policy
        self.spool = spool
        self.identity = identity
        # scans are serialised (the engine's spaCy pipeline is not promised to be thread-safe),
        # and served round-robin by OS user: one user's big scans cannot starve another's paste
        self._engine_gate = FairGate()
        self._visits: set[tuple[_Seen, str, str]] = set()
        self._visits_lock = threading.Lock()
        # until enrollment gives the org key, hashes use a per-process key (not correlatable)
        self._local_key = os.urandom(32)
        self._warned: OrderedDict[str, dict] = OrderedDict()   # event id -> what an override needs
        self._warned_lock = threading.Lock()
        self.tiers = accounts.AccountTiers()     # the last account tier seen per user x tool x browser
        self._routes: dict[str, Callable[[dict, str], dict]] = {
            "ping": self.ping, "scan": self.scan, "visit": self.visit, "override": self.override,
            "policy": self.offline_policy, "offline_decision": self.offline_decision,
            "usage": self.usage, "unknown_signal": self.unknown_signal, "account": self.account,
            "exception": self.exception,
        }

    def handle(self, msg: dict, user: str) -> dict:
        """Always returns a reply; never raises for anything a client can send."""
        kind = msg.get("type")
        route = self._routes.get(kind) if isinstance(kind, str) else None
        try:
            if route is None:
                raise RequestError("unknown_type", f"unknown request type {str(kind)[:64]!r}")
            _check_contract(msg)
            reply = route(msg, user)
        except RequestError as exc:
            reply = framing.error(exc.code, exc.detail)
        except Exception:
            log.exception("request %r failed", kind)
            reply = framing.error("internal", "the agent failed to handle this request")
        if "id" in msg:
            reply["id"] = msg["id"]
        return reply

    def _device(self) -> tuple[str, bytes]:
        current = self.identity.current
        if current is None:
            return events.UNENROLLED_DEVICE, self._local_key
        return current.device_id, current.org_key_bytes

    def _tool_id(self, domain: str) -> str | None:
        tool = self.catalog.match_domain(domain)
        return tool.id if tool is not None else approved_tool(self.policy.policy, domain)

    def ping(self, msg: dict, user: str) -> dict:
        return {"type": "pong", "agent_version": __version__}

    def _scan_text(self, text: str, user: str) -> Sequence[Finding]:
        with self._engine_gate.held(user):
            return self.engine.scan(text)

    def scan(self, msg: dict, user: str) -> dict:
        channel = msg.get("channel")
        if channel not in events.CHANNELS:
            raise RequestError("bad_request", f"channel must be one of {', '.join(events.CHANNELS)}")
        text = msg.get("text")
        if not isinstance(text, str):
            raise RequestError("bad_request", "text must be a string")
        if len(text) > framing.MAX_SCAN_TEXT or len(text.encode("utf-8", "surrogatepass")) > framing.MAX_SCAN_TEXT:
            raise RequestError("too_large", f"text exceeds {framing.MAX_SCAN_TEXT} bytes")
        browser = _optional_str(msg, "browser")
        files = _files(msg)
        contents = _file_contents(msg)
        domain = _domain(msg)
        tool_id = self._tool_id(domain)
        device_id, org_key = self._device()

        started = time.perf_counter()
        read = self._read_files(contents, files, len(text))
        text = text + read.text
        findings = self._scan_text(text, user)
        read.locate(findings)
        summary = self.summarize(findings, text, org_key)

        data_classes = list(dict.fromkeys(f["data_class"] for f in summary))
        labels: dict[str, str] = {}
        severities: dict[str, str | None] = {}
        for item in summary:                 # the first finding of each class names it
            labels.setdefault(item["data_class"], item.get("reason") or item["entity_type"])
            severities[item["data_class"]] = worst_severity(severities.get(item["data_class"]), item.get("severity"))
        tier = self.tiers.tier(user, tool_id, browser)
        verdict = self.policy.judge(tool_id, data_classes, labels, severities, account_tier=tier, user=user)
        action, reason = self._unscanned_files(verdict.action, verdict.reason, read)
        redacted_text = None
        if action == "redact":
            action, reason, redacted_text = self._redaction(text, findings, files, reason)
        elapsed_ms = (time.perf_counter() - started) * 1000
        event = events.paste_scanned(
            device_id=device_id, user=user, channel=channel, tool_id=tool_id, domain=domain,
            findings=summary, action=action, reason=reason, text_length=len(text),
            elapsed_ms=elapsed_ms, browser=browser)
        extra: dict[str, Any] = {"files": files} if files else {}
        if redacted_text is not None:
            extra["redacted"] = True
        extra.update(self._policy_facts(tier, verdict))
        limits = sorted({limit.kind for limit in getattr(findings, "limits", ())})
        if limits:                           # a bounded scan is said, never passed off as complete
            extra["scan_limits"] = limits
        event["data"].update(extra)
        # spooled (validated, fsynced) before the user sees the verdict: nothing is lost
        self.spool.put(event)
        if action == "warn":
            self._remember_warning(event["id"], user=user, domain=domain, tool_id=tool_id,
                                   channel=channel, browser=browser, data_classes=data_classes, tier=tier)
        reply = {
            "type": "verdict", "action": action, "reason": reason, "event_id": event["id"],
            "findings": [{"entity_type": f["entity_type"], "data_class": f["data_class"],
                          "count": f["count"], "reason": f.get("reason", "")} for f in summary],
        }
        if redacted_text is not None:
            reply["redacted_text"] = redacted_text
        reply.update(self._coaching(verdict, action, tool_id, tier))
        if limits:
            reply["scan_limits"] = limits
        if read.facts:
            reply["files"] = [facts.as_reply() for facts in read.facts]
        return reply

    @staticmethod
    def _policy_facts(tier: str, verdict: Verdict) -> dict[str, Any]:
        """For the paste.scanned event: the account tier the rules were matched against (when
        known) and the exceptions that let a class through."""
        facts: dict[str, Any] = {"account_tier": tier} if tier != "unknown" else {}
        if verdict.exceptions:
            facts["exceptions"] = list(dict.fromkeys(verdict.exceptions))[:20]
        return facts

    def _coaching(self, verdict: Verdict, action: str, tool_id: str | None, tier: str) -> dict[str, Any]:
        """The verdict's coaching (the AI policy page, the alternative) when it stops or warns,
        and the account tier the rules were matched against."""
        extra: dict[str, Any] = {"account_tier": tier} if tool_id is not None else {}
        coaching = self.policy.coaching(verdict) if action in ("warn", "block") else {}
        if coaching:
            extra["coaching"] = coaching
        return extra

    def _read_files(self, contents: list[tuple[int, str, bytes]], files: list[dict], text_length: int) -> ReadFiles:
        """Binary files' text (documents extracted, images OCRed), scanned after the request's
        text; each file's ``read`` fact then says whether its content was scanned."""
        budget = (self.policy.policy.get("on_incomplete_file") or {}).get("image_budget_seconds")
        read = self.files.read([(name, data) for _, name, data in contents], text_length,
                               MAX_SCAN_CHARS - text_length, ocr_budget_s=budget)
        for (index, _, _), facts in zip(contents, read.facts, strict=True):
            files[index]["read"] = facts.read
        return read

    def _unscanned_files(self, action: str, reason: str, read: ReadFiles) -> tuple[str, str]:
        """A file whose content could not be scanned blocks when the policy says fail_closed."""
        # policy.v1.json on_incomplete_file: each kind fails open unless the policy says fail_closed
        modes = self.policy.policy.get("on_incomplete_file") or {}
        closed = [f for f in read.unscanned if modes.get(f.unscanned or "") == "fail_closed"]
        if not closed or action == "block":
            return action, reason
        names = ", ".join(f"'{f.name[:80]}' ({f.error})" for f in closed[:3])
        return "block", f"a file could not be checked: {names}; {ACTION_WORDS['block']}"[:500]

    @staticmethod
    def _redaction(text: str, findings: Sequence[FindingLike], files: list[dict],
                   reason: str) -> tuple[str, str, str | None]:
        """The redact action, or block where a redacted copy cannot be given back."""
        what = reason.split(" found:")[0]
        if files:
            return "block", f"{what} found in a file: files cannot be redacted, {ACTION_WORDS['block']}", None
        redacted = redact(text, findings)
        if len(redacted.encode("utf-8", "surrogatepass")) > MAX_REDACTED_BYTES:
            return "block", f"{what} found: too large to redact, {ACTION_WORDS['block']}", None
        return "redact", reason, redacted

    def _remember_warning(self, event_id: str, **facts: Any) -> None:
        with self._warned_lock:
            self._warned[event_id] = facts
            while len(self._warned) > WARNED_KEPT:
                self._warned.popitem(last=False)

    def override(self, msg: dict, user: str) -> dict:
        """The user's answer to a warning: send anyway (with a justification) or cancel."""
        scan_id, decision = msg.get("event_id"), msg.get("decision")
        justification = _optional_str(msg, "justification")
        if decision == "send_anyway" and not (justification or "").strip():
            raise RequestError("bad_request", "sending anyway needs a justification")
        with self._warned_lock:
            facts = self._warned.get(scan_id) if isinstance(scan_id, str) else None
            if not isinstance(scan_id, str) or facts is None or facts["user"] != user:
                raise RequestError("bad_request", "event_id is not a recent warning of this user")
            del self._warned[scan_id]
        data: dict[str, Any] = {"scan_id": scan_id, "decision": decision, "tool_id": facts["tool_id"],
                                "domain": facts["domain"], "channel": facts["channel"]}
        if facts["browser"]:
            data["browser"] = facts["browser"][:64]
        if decision == "send_anyway":
            # the justification is free text: scanned like a paste, and what it names is redacted
            text = (justification or "").strip()      # not empty: checked above
            data["justification"] = redact(text, self._scan_text(text, user))[:500]
        device_id, _ = self._device()
        self.spool.put(events.envelope("paste.override", device_id, user, data))
        return {"type": "ack"}

    def exception(self, msg: dict, user: str) -> dict:
        """The user asks for an exception from a warning (the warn dialog): spooled as
        exception.requested for an analyst to approve or deny in the console. The reason is
        scanned and redacted like a justification; the warning stays open for its decision."""
        scan_id = msg.get("event_id")
        text = (_optional_str(msg, "reason") or "").strip()
        if not text:
            raise RequestError("bad_request", "an exception request needs a reason")
        with self._warned_lock:
            facts = self._warned.get(scan_id) if isinstance(scan_id, str) else None
            if not isinstance(scan_id, str) or facts is None or facts["user"] != user:
                raise RequestError("bad_request", "event_id is not a recent warning of this user")
            if facts["tool_id"] is None or not facts["data_classes"]:
                raise RequestError("bad_request", "exceptions are asked for a catalogued tool's warning")
            if facts.get("exception_asked"):        # one request per warning: no flooding the queue
                raise RequestError("bad_request", "an exception was already asked for this warning")
            facts["exception_asked"] = True
        data: dict[str, Any] = {"scan_id": scan_id, "tool_id": facts["tool_id"], "domain": facts["domain"],
                                "data_classes": facts["data_classes"], "channel": facts["channel"],
                                "account_tier": facts["tier"],
                                "reason": redact(text, self._scan_text(text, user))[:500]}
        if facts["browser"]:
            data["browser"] = facts["browser"][:64]
        device_id, _ = self._device()
        self.spool.put(events.envelope("exception.requested", device_id, user, data))
        return {"type": "ack"}

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
        browser = _optional_str(msg, "browser")
        reason = _optional_str(msg, "reason") or ""
        domain = _domain(msg)
        device_id, _ = self._device()
        event = events.paste_scanned(
            device_id=device_id, user=user, channel=channel, tool_id=self._tool_id(domain), domain=domain,
            findings=[], action=action, reason=reason, text_length=_int(msg, "text_length", 0, 2**53, 0),
            elapsed_ms=0.0, browser=browser)
        event["id"] = str(uuid.uuid5(OFFLINE_ID_NAMESPACE, f"{user}\n{decision_id}"))
        event["data"].update({"data_classes": list(dict.fromkeys(classes)), "decided_offline": True,
                              "decided_at": decided_at})
        files = _files(msg)
        if files:
            event["data"]["files"] = files
        self.spool.put(event)   # validates; a resent decision keeps its id and is stored once
        return {"type": "ack"}

    def usage(self, msg: dict, user: str) -> dict:
        """Active time on a catalogued AI tool's pages (domain and tool id; never the path)."""
        domain = _domain(msg)
        tool_id = self._tool_id(domain)
        if tool_id is None:
            raise RequestError("bad_request", "usage is reported for catalogued AI tools only")
        data: dict[str, Any] = {"tool_id": tool_id, "domain": domain,
                                "active_seconds": _int(msg, "active_seconds", 0, 86400),
                                "visits": _int(msg, "visits", 0, 100000, 0)}
        browser = _optional_str(msg, "browser")
        if browser:
            data["browser"] = browser
        device_id, _ = self._device()
        self.spool.put(events.envelope("ai_tool.usage", device_id, user, data))
        return {"type": "ack"}

    def unknown_signal(self, msg: dict, user: str) -> dict:
        """A large paste into a chat-like input on a page outside the catalog."""
        domain = _domain(msg)
        if self._tool_id(domain) is not None:
            return {"type": "ack"}      # a catalogued tool: the paste itself was scanned
        kind = msg.get("input_kind")
        if kind not in ("textarea", "contenteditable", "input"):
            raise RequestError("bad_request", "input_kind must be textarea, contenteditable or input")
        data: dict[str, Any] = {"domain": domain, "signal": "large_paste_chat_input", "input_kind": kind,
                                "paste_length": _int(msg, "paste_length", 0, 2**53)}
        browser = _optional_str(msg, "browser")
        if browser:
            data["browser"] = browser
        if not self._first_today(("unknown_signal", domain), user):
            return {"type": "ack"}      # one signal per domain, user and day is enough
        device_id, _ = self._device()
        self.spool.put(events.envelope("ai_tool.unknown_signal", device_id, user, data))
        return {"type": "ack"}

    def account(self, msg: dict, user: str) -> dict:
        """The account a catalogued AI tool is signed in with (agent/accounts.py classifies it);
        spooled once per tool, account and user a day, the email as a keyed hash only."""
        domain = _domain(msg)
        tool_id = self._tool_id(domain)
        if tool_id is None:
            raise RequestError("bad_request", "accounts are reported for catalogued AI tools only")
        policy = self.policy.policy if isinstance(self.policy.policy, dict) else {}
        try:
            account = accounts.classify(_optional_str(msg, "email"), _optional_str(msg, "hosted_domain"),
                                        policy.get("org_email_domains") or ())
        except accounts.BadAccount as exc:
            raise RequestError("bad_request", str(exc)) from None
        device_id, org_key = self._device()
        data: dict[str, Any] = {"tool_id": tool_id, "domain": domain, "source": msg.get("source"),
                                **account.event_data(org_key, policy.get("account_emails_in_clear") is True)}
        browser = _optional_str(msg, "browser")
        if browser:
            data["browser"] = browser
        self.tiers.remember(user, tool_id, browser, account.tier)
        seen = ("account", f"{tool_id}\n{data.get('account_hash') or account.domain}")
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
        browser = _optional_str(msg, "browser")
        domain = _domain(msg)
        tool_id = self._tool_id(domain)
        key = (tool_id or domain, user, datetime.now(UTC).strftime("%Y-%m-%d"))
        if not self._first_today(tool_id or domain, user):
            return {"type": "ack"}
        device_id, _ = self._device()
        try:
            event = events.ai_tool_observed(device_id=device_id, user=user, tool_id=tool_id,
                                            source="extension", domain=domain, browser=browser)
            self.spool.put(event)
        except (contract.ContractError, OSError):
            with self._visits_lock:           # not recorded: let the next visit try again
                self._visits.discard(key)
            raise
        return {"type": "ack"}
