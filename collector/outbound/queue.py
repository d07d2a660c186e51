"""Outbound delivery: webhooks, Slack-compatible messages and SIEM export (OCSF) of alert
changes, and webhooks on reads of the record. Messages are queued durably (in the same
transaction as what they announce), delivered by `shadowmap.collector.outbound.sender` with retries
and exponential backoff, and end on a dead-letter list after the last failed attempt.

Sinks are an org setting (a JSON list): {name, kind: webhook|slack|ocsf, url, topics:
[alerts, reads], secret (optional: HMAC-SHA256 of the body in X-Shadowmap-Signature)}."""
from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import sqlite_utils

from shadowmap.collector import secret_box
from shadowmap.collector.outbound import destinations
from shadowmap.collector.outbound.ocsf import data_security_finding
from shadowmap.collector.store.sqlite import org
from shadowmap.collector.store.sqlite import outbound as stored
from shadowmap.collector.timestamps import utc_now
from shadowmap.contract import enums

SINKS_SETTING = "outbound_sinks"
KINDS = ("webhook", "slack", "ocsf")
TOPICS = ("alerts", "reads", "anchor")   # anchor: the record's chain head, published (record/anchors.py)
NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
CLOSED_STATUSES = enums.CLOSED_ALERT_STATUSES  # the contract's
JSON_LIST_COLUMNS = ("device_ids", "entity_types", "data_classes", "users")


class SinkError(ValueError):
    """A sink definition is not usable; the message says which and why."""


def validate_sinks(sinks: object) -> list[dict]:
    if not isinstance(sinks, list):
        raise SinkError("sinks must be a list")
    seen, clean = set(), []
    for sink in sinks:
        if not isinstance(sink, dict):
            raise SinkError("each sink must be an object")
        name = sink.get("name")
        if not isinstance(name, str) or not NAME.match(name) or name in seen:
            raise SinkError(f"sink name {name!r} must be a unique lowercase slug")
        if sink.get("kind") not in KINDS:
            raise SinkError(f"sink {name}: kind must be one of {', '.join(KINDS)}")
        url = sink.get("url")
        if not isinstance(url, str) or not re.match(r"^https?://[^\s]+$", url) or len(url) > 2000:
            raise SinkError(f"sink {name}: url must be an http(s) URL")
        try:
            destinations.check_url(url)
        except (destinations.DestinationRefused, ValueError) as exc:
            raise SinkError(f"sink {name}: {exc}") from None
        topics = sink.get("topics", ["alerts"])
        if not isinstance(topics, list) or not topics or any(t not in TOPICS for t in topics):
            raise SinkError(f"sink {name}: topics must be a non-empty subset of {', '.join(TOPICS)}")
        if sink["kind"] == "ocsf" and topics != ["alerts"]:
            raise SinkError(f"sink {name}: an ocsf sink carries alerts only")
        secret = sink.get("secret")
        if secret is not None and (not isinstance(secret, str) or len(secret) < 16):
            raise SinkError(f"sink {name}: a secret must be a string of at least 16 characters")
        seen.add(name)
        clean.append({"name": name, "kind": sink["kind"], "url": url, "topics": topics,
                      **({"secret": secret} if secret else {})})
    return clean


def set_sinks(db: sqlite_utils.Database, sinks: list[dict]) -> list[dict]:
    """Writer fn: replace the sinks; stored sealed (their secrets, and URLs that may carry tokens)."""
    clean = validate_sinks(sinks)
    org.set_setting(db, SINKS_SETTING, secret_box.seal(SINKS_SETTING, json.dumps(clean)))
    return clean


def sinks(db: sqlite_utils.Database) -> list[dict]:
    value = org.setting(db, SINKS_SETTING)
    return json.loads(secret_box.unseal(SINKS_SETTING, value)) if value is not None else []


def slack_escape(text: object) -> str:
    """Slack mrkdwn control characters; event fields are untrusted."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _slack_text(topic: str, message: dict) -> str:
    if topic == "alerts":
        alert = message["alert"]
        return (f"[{slack_escape(alert.get('severity', '')).upper()}] {slack_escape(alert.get('finding', ''))} "
                f"({message['activity']}): tool {slack_escape(alert.get('tool_id') or alert.get('domain') or 'unknown')}, "
                f"user {slack_escape(alert.get('user', ''))}, {alert.get('count', 1)} event(s), "
                f"status {slack_escape(alert.get('status', ''))}")
    if topic == "anchor":
        return (f"Record head: entry {message['seq']} {slack_escape(message['entry_hash'])} "
                f"at {slack_escape(message['published_at'])}")
    return (f"Record read: {slack_escape(message['actor'])} read {slack_escape(message['subject'])} "
            f"at {slack_escape(message['ts'])} (record entry {message['seq']})")


def render(sink: dict, topic: str, message: dict, product_version: str = "0") -> dict:
    """The body a sink receives for one message."""
    if sink["kind"] == "ocsf":
        return data_security_finding(message["alert"], message["activity"], product_version, message["ts"])
    if sink["kind"] == "slack":
        text = _slack_text(topic, message)
        return {"text": text, "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]}
    return {"topic": topic, **message}


def enqueue(db: sqlite_utils.Database, topic: str, message: dict, product_version: str = "0") -> int:
    """Writer fn: queue ``message`` for every sink subscribed to ``topic``; returns how many."""
    return _enqueue_all(db, sinks(db), [(topic, message)], product_version)


def _enqueue_all(db: sqlite_utils.Database, configured: list[dict], messages: list[tuple[str, dict]],
                 product_version: str) -> int:
    now = utc_now()
    rows = [(sink["name"], topic, json.dumps(render(sink, topic, message, product_version)), now, now)
            for topic, message in messages for sink in configured if topic in sink["topics"]]
    stored.enqueue(db, rows)
    return len(rows)


def _decode_alert(row: dict) -> dict:
    alert = dict(row)
    for column in JSON_LIST_COLUMNS:
        if isinstance(alert.get(column), str):
            try:
                alert[column] = json.loads(alert[column])
            except ValueError:
                alert[column] = []
    return alert


def enqueue_alert_changes(db: sqlite_utils.Database, product_version: str = "0") -> int:
    """Writer fn: queue an OCSF/webhook/Slack message for each alert that is new, bumped or
    changed status since the last call. Returns how many alerts changed. The sinks are read
    once and the states written in one statement: during a busy ingest hundreds of alerts
    are bumped between two polls, and a round trip each held a writer for most of a poll."""
    changed = stored.changed_alerts(db, 500)
    if not changed:
        return 0
    now = utc_now()
    messages, announced = [], []
    for row in changed:
        known = row.pop("known")
        activity = "create" if known is None else "close" if row["status"] in CLOSED_STATUSES else "update"
        messages.append(("alerts", {"activity": activity, "ts": now, "alert": _decode_alert(row)}))
        announced.append((row["id"], row["status"], row["count"]))
    _enqueue_all(db, sinks(db), messages, product_version)
    stored.mark_announced(db, announced)
    return len(changed)


def due(db: sqlite_utils.Database, limit: int = 100) -> list[dict]:
    return stored.due(db, utc_now(), limit)


def mark_delivered(db: sqlite_utils.Database, message_id: int) -> None:
    stored.mark_delivered(db, message_id, utc_now())


def mark_failed(db: sqlite_utils.Database, message_id: int, error: str, max_attempts: int,
                backoff_base: float, backoff_max: float) -> str:
    """Writer fn: count a failed attempt; back off exponentially, or dead-letter it after
    ``max_attempts``. Returns the new status."""
    attempts = stored.attempts(db, message_id) + 1
    status = "dead" if attempts >= max_attempts else "pending"
    delay = min(backoff_max, backoff_base * 2 ** (attempts - 1))
    next_at = (datetime.now(UTC) + timedelta(seconds=delay)).isoformat(timespec="microseconds")
    stored.mark_attempt_failed(db, message_id, attempts, status, error[:500], next_at.replace("+00:00", "Z"))
    return status


def dead_letters(db: sqlite_utils.Database, limit: int = 500) -> list[dict]:
    return stored.dead_letters(db, limit)


def retry_dead(db: sqlite_utils.Database, message_ids: list[int] | None = None) -> int:
    """Writer fn: put dead letters (all, or the given ids) back in the queue."""
    return stored.retry_dead(db, utc_now(), message_ids)
