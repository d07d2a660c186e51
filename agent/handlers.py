"""What the agent does with each IPC request (docs/internals.md "IPC"). Transport-free:
``handle(message, os_user) -> reply``; the socket server in agent/ipc.py feeds it. Here:
scans (text and files, judged by the policy) and the user's answers to warnings; the
extension's other reports are agent/browser_reports.py, the request fields'
checks agent/request_fields.py."""
from __future__ import annotations

import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from shadowmap import __version__
from shadowmap.agent import accounts, events
from shadowmap.agent.browser_reports import BrowserReports
from shadowmap.agent.enroll import EnrollmentHolder
from shadowmap.agent.fair_gate import FairGate
from shadowmap.agent.policy import (
    ACTION_WORDS,
    PolicyStore,
    Verdict,
    approved_tool,
    redact,
    worst_severity,
)
from shadowmap.agent.request_fields import (
    RequestError,
    check_contract,
    domain_of,
    file_contents,
    file_facts,
    optional_str,
)
from shadowmap.agent.spool import Spool
from shadowmap.detectors.catalog import AITool
from shadowmap.detectors.files.batch import FileScanner, ReadFiles
from shadowmap.detectors.hashing import FindingLike, Summarize
from shadowmap.detectors.scan_result import Finding, ScanResult
from shadowmap.detectors.settings import MAX_SCAN_CHARS
from shadowmap.ipc import framing

log = logging.getLogger(__name__)

WARNED_KEPT = 1_000            # recent warn verdicts an override may answer (oldest forgotten)
# the redacted text goes back to the browser, whose frames stop at 1 MiB (framing.py)
MAX_REDACTED_BYTES = framing.MAX_TO_BROWSER - 64 * 1024

class Engine(Protocol):
    """The detection engine (ScanEngine); the column scan of files' tables needs the last two."""

    def scan(self, text: str) -> ScanResult: ...

    def data_class_of(self, entity_type: str) -> str: ...

    def severity_of(self, entity_type: str) -> str: ...


class Catalog(Protocol):
    def match_domain(self, domain: str) -> AITool | None: ...


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
        # until enrollment gives the org key, hashes use a per-process key (not correlatable)
        self._local_key = os.urandom(32)
        self._warned: OrderedDict[str, dict] = OrderedDict()   # event id -> what an override needs
        self._warned_lock = threading.Lock()
        self.tiers = accounts.AccountTiers()     # the last account tier seen per user x tool x browser
        reports = BrowserReports(spool, policy, self._tool_id, self._device, self.tiers)
        self._routes: dict[str, Callable[[dict, str], dict]] = {
            "ping": self.ping, "scan": self.scan, "override": self.override, "exception": self.exception,
            "visit": reports.visit, "usage": reports.usage, "unknown_signal": reports.unknown_signal,
            "account": reports.account, "policy": reports.offline_policy,
            "offline_decision": reports.offline_decision,
        }

    def handle(self, msg: dict, user: str) -> dict:
        """Always returns a reply; never raises for anything a client can send."""
        kind = msg.get("type")
        route = self._routes.get(kind) if isinstance(kind, str) else None
        try:
            if route is None:
                raise RequestError("unknown_type", f"unknown request type {str(kind)[:64]!r}")
            check_contract(msg)
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

    def _scan_text(self, text: str, user: str, read: ReadFiles | None = None) -> Sequence[Finding]:
        """The findings in ``text`` (and in the files ``read``, after it: their long tables
        column by column, detectors/files/table_scan.py)."""
        with self._engine_gate.held(user):
            return read.scan(self.engine, text) if read is not None else self.engine.scan(text)

    def scan(self, msg: dict, user: str) -> dict:
        channel = msg.get("channel")
        if channel not in events.CHANNELS:
            raise RequestError("bad_request", f"channel must be one of {', '.join(events.CHANNELS)}")
        text = msg.get("text")
        if not isinstance(text, str):
            raise RequestError("bad_request", "text must be a string")
        if len(text) > framing.MAX_SCAN_TEXT or len(text.encode("utf-8", "surrogatepass")) > framing.MAX_SCAN_TEXT:
            raise RequestError("too_large", f"text exceeds {framing.MAX_SCAN_TEXT} bytes")
        browser = optional_str(msg, "browser")
        files = file_facts(msg)
        contents = file_contents(msg)
        domain = domain_of(msg)
        tool_id = self._tool_id(domain)
        device_id, org_key = self._device()

        started = time.perf_counter()
        read = self._read_files(contents, files, len(text))
        findings = self._scan_text(text, user, read)
        text = text + read.text
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
        justification = optional_str(msg, "justification")
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
        text = (optional_str(msg, "reason") or "").strip()
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
