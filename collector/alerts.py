"""Findings and alerts. Which evidence raises which finding is data (FINDINGS); one open
alert per finding x tool x user collects every event that raised it."""
from __future__ import annotations

import json
from dataclasses import dataclass, field

import sqlite_utils
from aiohttp import web

from collector.auth import admin_or_token
from collector.http import json_error
from collector.state import STORE


@dataclass(frozen=True)
class FindingRule:
    id: str
    name: str
    severity: str
    event_type: str
    actions: frozenset[str]
    # raised when the event's data classes intersect these
    data_classes: frozenset[str]


# First matching rule wins, so keep the most severe first.
FINDINGS: tuple[FindingRule, ...] = (
    FindingRule(
        id="copied_secrets",
        name="AI tool with production read access via copied secrets",
        severity="critical",
        event_type="paste.scanned",
        actions=frozenset({"block", "warn"}),
        data_classes=frozenset({"secret"}),
    ),
    FindingRule(
        id="adhoc_production_data",
        name="Production data pasted into an AI chat, ad hoc",
        severity="high",
        event_type="paste.scanned",
        actions=frozenset({"block", "warn"}),
        data_classes=frozenset({"pii", "payment", "production"}),
    ),
)

ALERT_LIST_LIMIT = 500


def event_data_classes(data: dict) -> set[str]:
    classes = set(data.get("data_classes") or [])
    classes.update(f["data_class"] for f in data.get("findings") or [])
    return classes


def finding_for(event: dict) -> FindingRule | None:
    data = event.get("data") or {}
    classes = event_data_classes(data)
    for rule in FINDINGS:
        if event["type"] == rule.event_type and data.get("action") in rule.actions and classes & rule.data_classes:
            return rule
    return None


@dataclass
class _Evidence:
    """What one batch adds to one alert (events grouped by dedupe key)."""
    rule: FindingRule
    tool_id: str | None
    domain: str | None
    user: str
    first_seen: str
    last_seen: str
    count: int = 0
    device_ids: set[str] = field(default_factory=set)
    entity_types: set[str] = field(default_factory=set)
    data_classes: set[str] = field(default_factory=set)


def raise_alerts(db: sqlite_utils.Database, events: list[tuple[dict, str]]) -> int:
    """Writer fn (part of the ingest transaction): open or bump alerts for newly stored
    events, given as (event, normalised ts). Returns how many events raised an alert."""
    grouped: dict[str, _Evidence] = {}
    for event, ts in events:
        rule = finding_for(event)
        if rule is None:
            continue
        data = event["data"]
        tool_key = data.get("tool_id") or f"domain:{data.get('domain', '')}"
        key = json.dumps([rule.id, tool_key, event["user"]])
        evidence = grouped.setdefault(key, _Evidence(rule, data.get("tool_id"), data.get("domain"),
                                                     event["user"], ts, ts))
        evidence.count += 1
        evidence.first_seen, evidence.last_seen = min(evidence.first_seen, ts), max(evidence.last_seen, ts)
        evidence.device_ids.add(event["device_id"])
        evidence.entity_types.update(f["entity_type"] for f in data.get("findings") or [])
        evidence.data_classes.update(event_data_classes(data))
    for key, evidence in grouped.items():
        _open_or_bump(db, key, evidence)
    return sum(evidence.count for evidence in grouped.values())


def _open_or_bump(db: sqlite_utils.Database, dedupe_key: str, ev: _Evidence) -> None:
    rows = list(db.query(
        "SELECT id, device_ids, entity_types, data_classes, first_seen, last_seen FROM alerts "
        "WHERE dedupe_key = ? AND status = 'open'", (dedupe_key,)
    ))
    if rows:
        row = rows[0]
        db.execute(
            "UPDATE alerts SET count = count + ?, first_seen = ?, last_seen = ?, device_ids = ?, "
            "entity_types = ?, data_classes = ? WHERE id = ?",
            (
                ev.count, min(row["first_seen"], ev.first_seen), max(row["last_seen"], ev.last_seen),
                _union(row["device_ids"], ev.device_ids), _union(row["entity_types"], ev.entity_types),
                _union(row["data_classes"], ev.data_classes), row["id"],
            ),
        )
        return
    db.execute(
        "INSERT INTO alerts (dedupe_key, finding_id, finding, severity, tool_id, domain, user, device_ids, "
        "entity_types, data_classes, count, first_seen, last_seen, status) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'open')",
        (
            dedupe_key, ev.rule.id, ev.rule.name, ev.rule.severity, ev.tool_id, ev.domain, ev.user,
            json.dumps(sorted(ev.device_ids)), json.dumps(sorted(ev.entity_types)),
            json.dumps(sorted(ev.data_classes)), ev.count, ev.first_seen, ev.last_seen,
        ),
    )


def _union(stored_json: str, new: set[str]) -> str:
    return json.dumps(sorted(set(json.loads(stored_json)) | new))


def list_alerts(db: sqlite_utils.Database, limit: int = ALERT_LIST_LIMIT) -> list[dict]:
    """Alerts, most recently seen first, with list columns decoded."""
    rows = db.query(
        "SELECT id, finding_id, finding, severity, tool_id, domain, user, device_ids, entity_types, "
        "data_classes, count, first_seen, last_seen, status FROM alerts "
        "ORDER BY last_seen DESC, id DESC LIMIT ?", (limit,)
    )
    alerts = []
    for row in rows:
        for column in ("device_ids", "entity_types", "data_classes"):
            row[column] = json.loads(row[column])
        alerts.append(row)
    return alerts


async def alerts_api_handler(request: web.Request) -> web.Response:
    if await admin_or_token(request) is None:
        return json_error(401, "unauthorized", "an admin session or API token is required")
    raw_limit = request.query.get("limit", str(ALERT_LIST_LIMIT))
    if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= ALERT_LIST_LIMIT:
        return json_error(400, "bad_request", f"limit must be 1..{ALERT_LIST_LIMIT}")
    alerts = await request.app[STORE].read(lambda db: list_alerts(db, int(raw_limit)))
    return web.json_response({"alerts": alerts})
