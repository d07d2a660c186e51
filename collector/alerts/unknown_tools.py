"""Unknown tools: domains and processes that agents saw used like AI tools but that are not in
the catalog, scored for how likely they are AI tools, and queued for review
(add to catalog / approve into the register / ignore)."""
from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import sqlite_utils

from shadowmap.collector import record
from shadowmap.collector.alerts import catalog_overlay, register
from shadowmap.collector.alerts.catalog_overlay import sighting_key
from shadowmap.collector.store.sqlite import catalog_overlay as overlay
from shadowmap.collector.store.sqlite import register as register_store
from shadowmap.collector.store.sqlite import unknown_tools as queue_store
from shadowmap.collector.store.sqlite.unknown_tools import queue
from shadowmap.detectors.ai_names import MODEL_PORTS, looks_like_ai

__all__ = ["queue", "record_sightings", "review", "decide", "catalog_yaml"]

MAX_LISTED = 200
STATUSES = ("new", "catalogued", "approved", "ignored")
ALERT_SCORE = 0.6  # a new unknown tool scoring this high raises "Unknown AI tool / sub-processor not listed"


@dataclass(frozen=True)
class Signal:
    name: str
    weight: float  # independent evidence: score = 1 - prod(1 - weight)
    help: str


# ai_tld and ai_name: fitted by bench/unknown_tools.py (P(AI | signal) on labelled AI and non-AI
# tools, 2026-12-07; see bench/README.md); each alone reaches ALERT_SCORE. The others are set by
# hand: the bench has no labelled data for them (local_model_port's fit, 0.89, is not adopted:
# alone it would alert on iperf2's server, a non-AI program on a distinct model port, 5001).
SIGNALS: tuple[Signal, ...] = (
    Signal("pasted_into", 0.45, "a user pasted, dropped or uploaded into it (the extension treated it as an AI page)"),
    Signal("chat_input_paste", 0.4, "a large paste went into a chat-like input on it (ai_tool.unknown_signal)"),
    Signal("ai_tld", 0.98, "its domain is under .ai"),
    Signal("ai_name", 0.98, "its name contains an AI word (gpt, llm, copilot, llama, ollama, genai, ...)"),
    Signal("seen_in_browser", 0.15, "the browser extension saw it"),
    Signal("process_running", 0.1, "a process with this name ran"),
    Signal("network_connection", 0.1, "a process connected to it"),
    Signal("local_model_port", 0.4, "it listens on a port local model servers use"),
    Signal("several_devices", 0.15, "seen on 3 or more devices"),
)
WEIGHTS = {signal.name: signal.weight for signal in SIGNALS}
EVENT_SIGNALS = {"paste.scanned": ("pasted_into", "seen_in_browser"),
                 "ai_tool.unknown_signal": ("chat_input_paste", "seen_in_browser"),
                 "ai_tool.usage": ("seen_in_browser",)}
SOURCE_SIGNALS = {"extension": "seen_in_browser", "process": "process_running", "network": "network_connection",
                  "listener": "local_model_port"}


def score(signals: Iterable[str], weights: Mapping[str, float] = WEIGHTS) -> float:
    """Noisy-OR of the signals' weights (another set of weights: bench/unknown_tools.py's fits)."""
    remaining = 1.0
    for name in signals:
        remaining *= 1.0 - weights.get(name, 0.0)
    return round(1.0 - remaining, 3)


def name_signals(kind: str, name: str) -> set[str]:
    lowered = name.lower()
    signals = set()
    if kind == "domain" and lowered.rstrip(".").endswith(".ai"):
        signals.add("ai_tld")
    if looks_like_ai(name):
        signals.add("ai_name")
    return signals


def _sighting(event: dict) -> tuple[str, str, set[str]] | None:
    """(kind, name, signals) for an event about a tool neither the catalog nor the overlay knows."""
    key = sighting_key(event)
    if key is None:
        return None
    data = event["data"]
    signals: set[str] = set(EVENT_SIGNALS.get(event["type"], ()))
    if event["type"] == "ai_tool.observed" and data.get("source") in SOURCE_SIGNALS:
        signals.add(SOURCE_SIGNALS[data["source"]])
    if data.get("port") in MODEL_PORTS:
        signals.add("local_model_port")
    kind, name = key
    return kind, name, signals | name_signals(kind, name)


def record_sightings(db: sqlite_utils.Database, events: list[tuple[dict, str]]) -> list[dict]:
    """Writer fn (ingest transaction): queue or update unknown tools seen in these events.
    Returns the queue rows still new whose score reached ALERT_SCORE, with the events."""
    batch: dict[tuple[str, str], dict] = {}
    for event, ts in events:
        sighting = _sighting(event)
        if sighting is None:
            continue
        kind, name, signals = sighting
        item = batch.setdefault((kind, name), {"first": ts, "last": ts, "count": 0, "devices": set(),
                                                "users": set(), "signals": set(), "events": []})
        item["first"], item["last"] = min(item["first"], ts), max(item["last"], ts)
        item["count"] += 1
        item["devices"].add(event["device_id"])
        item["users"].add(event["user"])
        item["signals"] |= signals
        item["events"].append((event, ts))
    alerting = []
    for (kind, name), item in batch.items():
        row = queue_store.queued_tool(db, kind, name)
        if row is not None:
            devices = set(json.loads(row["devices"])) | item["devices"]
            users = set(json.loads(row["users"])) | item["users"]
            signals = set(json.loads(row["signals"])) | item["signals"]
            first, last, count, status = (min(row["first_seen"], item["first"]), max(row["last_seen"], item["last"]),
                                          row["count"] + item["count"], row["status"])
        else:
            devices, users, signals = item["devices"], item["users"], item["signals"]
            first, last, count, status = item["first"], item["last"], item["count"], "new"
        if len(devices) >= 3:
            signals.add("several_devices")
        new_score = score(signals)
        queue_store.save_sighting(db, kind, name, first, last, count, sorted(devices)[:MAX_LISTED],
                                  sorted(users)[:MAX_LISTED], sorted(signals), new_score)
        if status == "new" and new_score >= ALERT_SCORE:
            alerting.append({"kind": kind, "name": name, "score": new_score, "signals": sorted(signals),
                             "events": item["events"]})
    return alerting


def decide(db: sqlite_utils.Database, kind: str, name: str, status: str, actor: str,
           tool_id: str | None = None, vendor: str | None = None) -> bool:
    """Writer fn: record a review decision. Returns False when there is no such entry."""
    if status not in STATUSES:
        raise ValueError(f"unknown status {status!r}")
    saved = queue_store.save_decision(db, kind, name, status, actor, tool_id, vendor)
    if saved:
        record.append(db, "admin", f"unknown_tool:{kind}:{name}", actor,
                      {"action": "decide", "status": status, "tool_id": tool_id, "vendor": vendor})
    return saved


def review(db: sqlite_utils.Database, kind: str, name: str, decision: str, actor: str,
           tool_id: str | None = None, vendor: str | None = None) -> bool:
    """Writer fn: a reviewer's decision, taking effect at once. "catalogued" adds the name to
    the org catalog overlay (ingest attributes its events to ``tool_id`` from now on, and the
    report counts the ones already stored); "approved" does that too and puts the vendor in
    the register. Returns False when there is no such queue entry."""
    queued = queue_store.queued_tool(db, kind, name)
    if queued is None:
        return False
    if decision in ("catalogued", "approved"):
        tool_id = tool_id or overlay.tool_of(db, kind, name) or default_tool_id(name)
        catalog_overlay.add(db, kind, name, tool_id, vendor or name, actor, since=queued["first_seen"])
    decide(db, kind, name, decision, actor, tool_id, vendor)
    if decision == "approved" and vendor:
        existing = {registered.casefold() for registered in register_store.vendors(db)}
        if vendor.casefold() not in existing:
            register.upsert(db, [register.Entry(vendor, notes=f"approved from the unknown-tools queue ({name})")],
                            actor)
    return True


def default_tool_id(name: str) -> str:
    """A catalog-style id for a name when the reviewer gave none: chat.acme-ai.example -> chat-acme-ai-example."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:64] or "unnamed-tool"


def catalog_yaml(db: sqlite_utils.Database) -> str:
    """The org catalog overlay as a catalog.v1 YAML file, to merge into detectors/data/catalog/
    so agents attribute these tools themselves (the collector already does)."""
    import yaml

    tools: dict[str, dict] = {}
    for row in overlay.entries(db):
        tool = tools.setdefault(row["tool_id"], {"id": row["tool_id"], "name": row["tool_id"],
                                                 "vendor": row["vendor"] or "unknown", "category": "other",
                                                 "domains": []})
        if row["kind"] == "domain":
            tool["domains"].append(row["name"])
        else:
            tool.setdefault("process_names", []).append(row["name"])
    return yaml.safe_dump({"version": 1, "tools": list(tools.values())}, sort_keys=False)
