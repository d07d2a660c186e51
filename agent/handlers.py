"""What the agent does with each IPC request (docs/internals.md "IPC"). Transport-free:
``handle(message, os_user) -> reply``; the socket server in agent/ipc.py feeds it."""
from __future__ import annotations

import logging
import os
import threading
import time
from datetime import datetime, timezone
from typing import Any, Callable, Protocol

from extension_bridge import framing

import schema
from agent import events
from agent.enroll import EnrollmentHolder
from agent.events import BadURL
from agent.policy import PolicyStore
from agent.spool import Spool
from shadowmap import __version__

log = logging.getLogger(__name__)

VISIT_DEDUPE_MAX = 10_000      # in-memory dedupe keys kept before the table is reset


class RequestError(Exception):
    def __init__(self, code: str, detail: str):
        super().__init__(detail)
        self.code, self.detail = code, detail


class Engine(Protocol):
    def scan(self, text: str) -> list: ...


class Catalog(Protocol):
    def match_domain(self, domain: str) -> Any: ...


Summarize = Callable[[list, str, bytes], list[dict]]


def _optional_str(msg: dict, field: str, limit: int) -> str | None:
    value = msg.get(field)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise RequestError("bad_request", f"{field} must be a string of at most {limit} characters")
    return value


def _domain(msg: dict) -> str:
    if "url" not in msg:
        raise RequestError("bad_request", "url is required")
    try:
        return events.host_of(msg["url"])
    except BadURL as exc:
        raise RequestError("bad_request", str(exc)) from None


class RequestHandlers:
    def __init__(self, engine: Engine, catalog: Catalog, summarize: Summarize, policy: PolicyStore,
                 spool: Spool, identity: EnrollmentHolder):
        self.engine = engine
        self.catalog = catalog
        self.summarize = summarize
        self.policy = policy
        self.spool = spool
        self.identity = identity
        # scans are serialised: the engine's spaCy pipeline is not promised to be thread-safe
        self._engine_lock = threading.Lock()
        self._visits: set[tuple[str, str, str]] = set()
        self._visits_lock = threading.Lock()
        # until enrollment gives the org key, hashes use a per-process key (not correlatable)
        self._local_key = os.urandom(32)
        self._routes: dict[str, Callable[[dict, str], dict]] = {
            "ping": self.ping, "scan": self.scan, "visit": self.visit,
        }

    def handle(self, msg: dict, user: str) -> dict:
        """Always returns a reply; never raises for anything a client can send."""
        kind = msg.get("type")
        route = self._routes.get(kind) if isinstance(kind, str) else None
        try:
            if route is None:
                raise RequestError("unknown_type", f"unknown request type {str(kind)[:64]!r}")
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
        return getattr(tool, "id", None) if tool is not None else None

    def ping(self, msg: dict, user: str) -> dict:
        return {"type": "pong", "agent_version": __version__}

    def scan(self, msg: dict, user: str) -> dict:
        channel = msg.get("channel")
        if channel not in events.CHANNELS:
            raise RequestError("bad_request", f"channel must be one of {', '.join(events.CHANNELS)}")
        text = msg.get("text")
        if not isinstance(text, str):
            raise RequestError("bad_request", "text must be a string")
        if len(text) > framing.MAX_SCAN_TEXT or len(text.encode("utf-8", "surrogatepass")) > framing.MAX_SCAN_TEXT:
            raise RequestError("too_large", f"text exceeds {framing.MAX_SCAN_TEXT} bytes")
        browser = _optional_str(msg, "browser", 64)
        domain = _domain(msg)
        tool_id = self._tool_id(domain)
        device_id, org_key = self._device()

        started = time.perf_counter()
        with self._engine_lock:
            findings = self.engine.scan(text)
        summary = self.summarize(findings, text, org_key)
        elapsed_ms = (time.perf_counter() - started) * 1000

        data_classes = list(dict.fromkeys(f["data_class"] for f in summary))
        labels = {}
        for item in summary:                 # the first finding of each class names it
            labels.setdefault(item["data_class"], item.get("reason") or item["entity_type"])
        action, reason = self.policy.decide(tool_id, data_classes, labels)
        event = events.paste_scanned(
            device_id=device_id, user=user, channel=channel, tool_id=tool_id, domain=domain,
            findings=summary, action=action, reason=reason, text_length=len(text),
            elapsed_ms=elapsed_ms, browser=browser)
        # spooled (and fsynced) before the user sees the verdict: nothing is lost
        self.spool.put(event)
        return {
            "type": "verdict", "action": action, "reason": reason, "event_id": event["id"],
            "findings": [{"entity_type": f["entity_type"], "data_class": f["data_class"],
                          "count": f["count"], "reason": f.get("reason", "")} for f in summary],
        }

    def visit(self, msg: dict, user: str) -> dict:
        browser = _optional_str(msg, "browser", 64)
        domain = _domain(msg)
        tool_id = self._tool_id(domain)
        day = datetime.now(timezone.utc).strftime("%Y-%m-%d")
        key = (tool_id or domain, user, day)
        with self._visits_lock:
            if key in self._visits:
                return {"type": "ack"}
            if len(self._visits) >= VISIT_DEDUPE_MAX:
                self._visits.clear()
            self._visits.add(key)
        device_id, _ = self._device()
        try:
            event = events.ai_tool_observed(device_id=device_id, user=user, tool_id=tool_id,
                                            source="extension", domain=domain, browser=browser)
            self.spool.put(event)
        except (schema.ContractError, OSError):
            with self._visits_lock:           # not recorded: let the next visit try again
                self._visits.discard(key)
            raise
        return {"type": "ack"}
