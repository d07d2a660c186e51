"""Alerts: raised from ingested events (shadowmap.collector.alerts.findings says which evidence raises
which finding), deduplicated to one active alert per finding x tool x user, with their
evidence (events, devices, users, first/last seen) and keyed-hash correlation."""
from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from operator import itemgetter

import sqlite_utils

from shadowmap.collector.alerts import agent_risks, hash_sightings, outcomes, personal_accounts, unknown_tools
from shadowmap.collector.alerts.findings import (
    BY_ID,
    FINDINGS,
    USAGE_EVENT_TYPES,
    Finding,
    event_data_classes,
    finding_of,
    vendor_findings,
)
from shadowmap.collector.alerts.standings import vendor_standings
from shadowmap.collector.store.sqlite import alerts as stored_alerts
from shadowmap.collector.store.sqlite import catalog_overlay as stored_overlay
from shadowmap.collector.timestamps import utc_now
from shadowmap.contract import enums
from shadowmap.detectors.catalog import load_catalog

__all__ = ["FINDINGS", "AlertInputs", "Evidence", "Gathered", "gather", "gather_batches", "open_or_bump", "raise_alerts",
           "raise_gathered", "summarise"]

STATUSES = enums.ALERT_STATUSES  # the contract's
MAX_LINKED_EVENTS = 1000   # evidence links kept per alert; the count goes on
MAX_LISTED = 500           # devices / users listed per alert
ALL_USERS = "*"            # the user of an org-scope alert (a vendor's standing)


@dataclass
class Evidence:
    """What one batch adds to one alert."""
    finding: Finding
    tool_id: str | None
    domain: str | None
    vendor: str | None
    user: str
    first_seen: str
    last_seen: str
    count: int = 0
    device_ids: set[str] = field(default_factory=set)
    users: set[str] = field(default_factory=set)
    entity_types: set[str] = field(default_factory=set)
    data_classes: set[str] = field(default_factory=set)
    event_ids: list[str] = field(default_factory=list)
    facts: dict = field(default_factory=dict)
    outcomes: dict[str, int] = field(default_factory=dict)  # paste outcome -> events
    severity: str | None = None  # set by the policy for findings it grades (agent risks)

    def add(self, items: list[tuple[dict, str]], part: Part | None = None) -> None:
        """Add events, given as (event, normalised ts), or their Part when already summed up
        (one batch's events of a tool can evidence several findings)."""
        part = part or Part.of(items)
        self.count += part.count
        self.first_seen, self.last_seen = min(self.first_seen, part.first_seen), max(self.last_seen, part.last_seen)
        self.device_ids |= part.device_ids
        self.users |= part.users
        self.event_ids.extend(part.event_ids)
        self.entity_types |= part.entity_types
        self.data_classes |= part.data_classes
        if part.outcomes:
            self.outcomes = outcomes.merged(self.outcomes, part.outcomes)


@dataclass
class Part:
    """What a list of events adds to an alert, summed up once."""
    count: int
    first_seen: str
    last_seen: str
    device_ids: set[str]
    users: set[str]
    event_ids: list[str]
    entity_types: set[str]
    data_classes: set[str]
    outcomes: dict[str, int] = field(default_factory=dict)  # of the paste events (leak groups only)

    @classmethod
    def of(cls, items: list[tuple[dict, str]]) -> Part:
        group = _Group(list(map(_EVENT, items)), list(map(_TS, items)))
        for event in group.events:
            data = event["data"]
            findings = data.get("findings")
            if findings or data.get("data_classes"):
                group.add_data(findings, event_data_classes(data))
        return group.part()


# C-level field access (map over a list rather than a comprehension per field)
_EVENT, _TS = itemgetter(0), itemgetter(1)
_DEVICE_ID, _USER, _ID = itemgetter("device_id"), itemgetter("user"), itemgetter("id")
_ENTITY_TYPE = itemgetter("entity_type")


class _Group:
    """Events on their way to one Part, with their normalised ts. The entity types and data
    classes of those that carry data are gathered as they come, so summarise works each
    event's out once (for its leak group and its tool's usage alike)."""
    __slots__ = ("events", "stamps", "entity_types", "data_classes")

    def __init__(self, events: list[dict] | None = None, stamps: list[str] | None = None) -> None:
        self.events: list[dict] = [] if events is None else events
        self.stamps: list[str] = [] if stamps is None else stamps
        self.entity_types: set[str] = set()
        self.data_classes: set[str] = set()

    def add_data(self, findings: list[dict] | None, classes: set[str]) -> None:
        """Gather what one event that carries data adds: its findings, its event_data_classes."""
        if findings:
            self.entity_types.update(map(_ENTITY_TYPE, findings))
        self.data_classes |= classes

    def part(self) -> Part:
        events, stamps = self.events, self.stamps
        return Part(len(events), min(stamps), max(stamps), set(map(_DEVICE_ID, events)), set(map(_USER, events)),
                    list(map(_ID, events)), self.entity_types, self.data_classes)

    def leak_part(self) -> Part:
        """part(), with the outcome of each paste (a leak's severity follows what left the laptop)."""
        part = self.part()
        counted: dict[str, int] = {}
        for event in self.events:
            if event["type"] == outcomes.PASTE_EVENT:
                outcome = outcomes.scan_outcome(event["data"])
                if outcome is not None:
                    counted[outcome] = counted.get(outcome, 0) + 1
        part.outcomes = outcomes.merged(counted)
        return part


def dedupe_key(finding_id: str, tool_key: str, user: str) -> str:
    return json.dumps([finding_id, tool_key, user])


def _tool_key(data: dict) -> str:
    return data.get("tool_id") or f"domain:{data.get('domain', '')}"


GroupKey = tuple[str, str, str]  # finding id, tool key, user


def _collect(grouped: dict[GroupKey, Evidence], finding: Finding, items: list[tuple[dict, str]], user: str,
             vendor: str | None = None, facts: dict | None = None, part: Part | None = None) -> None:
    """Add events that share one tool to the evidence of (finding, tool, user)."""
    data = items[0][0]["data"]
    key = (finding.id, _tool_key(data), user)
    evidence = grouped.get(key)
    if evidence is None:
        ts = items[0][1]
        evidence = grouped[key] = Evidence(finding, data.get("tool_id"), data.get("domain"), vendor, user, ts, ts)
    evidence.add(items, part)
    if facts:
        evidence.facts = facts


@dataclass
class AlertInputs:
    """What raise_alerts takes from a batch's events, summed up once (pure, so ingest works it
    out in a parse worker, off the writer): the Part of each leak group and of each tool used."""
    leaks: list[tuple[str, str, str | None, str | None, str, Part]]  # finding id, tool key, tool id, domain, user
    usage: dict[str, tuple[str | None, Part]]  # tool id -> (domain of its first event, its usage events)
    leak_events: int
    # the users' decisions on warnings: (decision event id, device, user, scan id, decision), joined
    # to their paste.scanned event by id once the batch's alerts are written (decide_warnings)
    decisions: list[tuple[str, str, str, str, str]] = field(default_factory=list)


def summarise(events: list[tuple[dict, str]]) -> AlertInputs:
    """AlertInputs of events given as (event, normalised ts), in one pass over them: most
    events (tool sightings) only join their tool's usage; the data classes and finding of the
    others are worked out once, for their leak group and their tool's usage alike."""
    usage: defaultdict[str, _Group] = defaultdict(_Group)  # in order of first use, as before
    leaking: defaultdict[GroupKey, _Group] = defaultdict(_Group)
    decisions = []
    for event, ts in events:
        data = event["data"]
        if event["type"] == outcomes.DECISION_EVENT:
            decisions.append((event["id"], event["device_id"], event["user"], data["scan_id"], data["decision"]))
        tool_id = data.get("tool_id")
        used = usage[tool_id] if tool_id and event["type"] in USAGE_EVENT_TYPES else None
        if used is not None:
            used.events.append(event)
            used.stamps.append(ts)
        findings = data.get("findings")
        if not (findings or data.get("data_classes")):
            continue  # most events (tool sightings) carry no data: no finding, entity type or class
        classes = event_data_classes(data)
        if used is not None:
            used.add_data(findings, classes)
        finding = finding_of(event["type"], data, classes)
        if finding is not None:
            group = leaking[finding.id, _tool_key(data), event["user"]]
            group.events.append(event)
            group.stamps.append(ts)
            group.add_data(findings, classes)
    leaks = []
    for (finding_id, tool_key, user), group in leaking.items():
        data = group.events[0]["data"]
        leaks.append((finding_id, tool_key, data.get("tool_id"), data.get("domain"), user, group.leak_part()))
    return AlertInputs(leaks, {tool_id: (group.events[0]["data"].get("domain"), group.part())
                               for tool_id, group in usage.items()},
                       sum(len(group.events) for group in leaking.values()), decisions)


def _add_part(grouped: dict[GroupKey, Evidence], finding: Finding, tool_key: str, tool_id: str | None,
              domain: str | None, user: str, part: Part, vendor: str | None = None, facts: dict | None = None) -> None:
    """_collect for events already summed up into a Part."""
    key = (finding.id, tool_key, user)
    evidence = grouped.get(key)
    if evidence is None:
        evidence = grouped[key] = Evidence(finding, tool_id, domain, vendor, user, part.first_seen, part.last_seen)
    evidence.add([], part)
    if facts:
        evidence.facts = facts


def tool_vendors(db: sqlite_utils.Database, tool_ids: Iterable[str]) -> dict[str, str]:
    """tool id -> vendor, from the shipped catalog or else the org's catalog overlay (tools
    the security team added from the unknown-tools queue are checked against the register
    like any other); tools neither knows are left out."""
    catalog = load_catalog()
    vendor_of, missing = {}, []
    for tool_id in tool_ids:
        tool = catalog.by_id(tool_id)
        if tool is not None:
            vendor_of[tool_id] = tool.vendor
        else:
            missing.append(tool_id)
    if missing:  # one small read, only for batches that use overlay tools
        overlay = stored_overlay.vendors(db)
        vendor_of.update({tool_id: overlay[tool_id] for tool_id in missing if overlay.get(tool_id)})
    return vendor_of


@dataclass
class Gathered:
    """Batches' alert evidence that reads alone can work out: taken before ingest's org-wide
    alert lock (several nodes raise alerts one at a time; the shorter that lane, the more
    batches a fleet's nodes store at once)."""
    grouped: dict[GroupKey, Evidence]
    risky: list[agent_risks.RiskySetup]
    personal: list[tuple[list[tuple[dict, str]], dict]]
    decisions: list[tuple[str, str, str, str, str]]
    leak_events: int


def gather(db: sqlite_utils.Database, events: list[tuple[dict, str]], inputs: AlertInputs | None = None) -> Gathered:
    """Reads only (part of the ingest transaction, before the alert lock): the leaks, the
    register's findings for the tools in use, agent risks and personal accounts. ``events``
    as for raise_alerts."""
    return gather_batches(db, events, [summarise(events) if inputs is None else inputs])


def gather_batches(db: sqlite_utils.Database, events: list[tuple[dict, str]],
                   inputs: list[AlertInputs]) -> Gathered:
    """gather for several batches at once (a node's ingest lane raises the batches waiting
    for it together): each batch's AlertInputs, ``events`` the items of them all. Evidence
    for one alert from several batches is added up under its key."""
    grouped: dict[GroupKey, Evidence] = {}
    for batch in inputs:
        for finding_id, tool_key, tool_id, domain, user, part in batch.leaks:
            _add_part(grouped, BY_ID[finding_id], tool_key, tool_id, domain, user, part)
    used = {tool_id for batch in inputs for tool_id in batch.usage}
    if used:
        vendor_of = tool_vendors(db, used)
        standings = vendor_standings(db, set(vendor_of.values())) if vendor_of else {}
        for batch in inputs:
            for tool_id, (domain, part) in batch.usage.items():
                vendor = vendor_of.get(tool_id)
                if vendor is None:
                    continue
                for finding, facts in vendor_findings(standings[vendor]):
                    _add_part(grouped, finding, tool_id, tool_id, domain, ALL_USERS, part, vendor, facts)
    return Gathered(grouped, agent_risks.risky_setups(db, events), personal_accounts.personal_sign_ins(events),
                    [decision for batch in inputs for decision in batch.decisions],
                    sum(batch.leak_events for batch in inputs))


def raise_gathered(db: sqlite_utils.Database, events: list[tuple[dict, str]], gathered: Gathered) -> int:
    """Writer fn (part of the ingest transaction, under the alert lock): queue unknown tools,
    then open or bump the gathered alerts. Returns how many events raised a leak alert."""
    grouped = gathered.grouped
    for unknown in unknown_tools.record_sightings(db, events):
        facts = {"reason": f"{unknown['name']} is not in the catalog and looks like an AI tool "
                           f"(score {unknown['score']})", "signals": unknown["signals"]}
        _collect(grouped, BY_ID["unknown_subprocessor"], unknown["events"], ALL_USERS, None, facts)
    for risky in gathered.risky:
        event = risky.item[0]
        _collect(grouped, BY_ID["risky_agent_setup"], [risky.item], event["user"], None, risky.facts)
        grouped[("risky_agent_setup", _tool_key(event["data"]), event["user"])].severity = risky.severity
    for items, facts in gathered.personal:
        _collect(grouped, BY_ID["personal_account"], items, items[0][0]["user"], None, facts)
    keyed = {dedupe_key(*key): evidence for key, evidence in grouped.items()}
    suppressed = stored_alerts.suppressed_keys(db, keyed) if keyed else set()  # false positives made rules
    bump_alerts(db, {key: evidence for key, evidence in keyed.items() if key not in suppressed})
    if gathered.decisions:
        decide_warnings(db, gathered.decisions)
    return gathered.leak_events


def raise_alerts(db: sqlite_utils.Database, events: list[tuple[dict, str]],
                 sightings: list[hash_sightings.SightingRow] | None = None, inputs: AlertInputs | None = None) -> int:
    """Writer fn: open or bump alerts for newly stored events, given as (event, normalised
    ts), and append their keyed-hash sightings. Returns how many events raised a leak alert.
    ``sightings``: hash_sightings.rows(sightings_of(events)), ``inputs``: summarise(events), when already
    computed; with ``inputs``, ``events`` need only hold those without a tool id (the ones
    the unknown-tools queue looks at) when ``sightings`` is given too. Ingest calls gather
    and raise_gathered itself, around its lock."""
    leaks = raise_gathered(db, events, gather(db, events, inputs))
    hash_sightings.append(db, hash_sightings.rows(hash_sightings.sightings_of(events)) if sightings is None
                          else sightings)
    return leaks


def open_or_bump(db: sqlite_utils.Database, key: str, ev: Evidence) -> int:
    """Writer fn: add the evidence to the active alert with this dedupe key, or open one.
    Returns the alert id."""
    return bump_alerts(db, {key: ev})[key]


def bump_alerts(db: sqlite_utils.Database, evidence: dict[str, Evidence]) -> dict[str, int]:
    """Writer fn: open_or_bump for many dedupe keys at once, in a few statements whatever
    their number (ingest raises dozens per batch). Returns dedupe key -> alert id."""
    if not evidence:
        return {}
    active = stored_alerts.active_alerts(db, evidence)
    now = utc_now()
    alert_ids: dict[str, int] = {}
    bumps: list[tuple[object, ...]] = []
    opened: list[tuple[object, ...]] = []
    linked: list[tuple[str, Evidence, int]] = []  # key, its evidence, events linked before
    for key, ev in evidence.items():
        facts = json.dumps(ev.facts)
        row = active.get(key)
        if row is not None:
            (alert_id, device_ids, users, entity_types, data_classes, first_seen, last_seen, linked_before,
             stored_outcomes) = row
            counts = outcomes.merged(json.loads(stored_outcomes), ev.outcomes)
            severity = ev.severity or _severity(ev.finding, counts, linked_before + ev.count)
            bumps.append((ev.count, min(first_seen, ev.first_seen), max(last_seen, ev.last_seen),
                          _union(device_ids, ev.device_ids), _union(users, ev.users),
                          _union(entity_types, ev.entity_types), _union(data_classes, ev.data_classes),
                          facts, facts, now, json.dumps(counts), severity, alert_id))
            alert_ids[key] = alert_id
        else:
            linked_before = 0
            opened.append((
                key, ev.finding.id, ev.finding.name, ev.severity or _severity(ev.finding, ev.outcomes, ev.count),
                ev.tool_id,
                ev.domain, ev.vendor, ev.user, _dump(ev.device_ids), _dump(ev.users), _dump(ev.entity_types),
                _dump(ev.data_classes), ev.count, ev.first_seen, ev.last_seen, facts, now, json.dumps(ev.outcomes)))
        linked.append((key, ev, linked_before))
    alert_ids.update(stored_alerts.open_alerts(db, opened))  # one statement for all the new ones
    links: list[tuple[int, str]] = []
    for key, ev, linked_before in linked:
        room = max(0, MAX_LINKED_EVENTS - linked_before)
        links.extend((alert_ids[key], event_id) for event_id in ev.event_ids[:room])
    stored_alerts.bump_alerts(db, bumps)
    stored_alerts.link_events(db, links)
    return alert_ids


def _severity(finding: Finding, counts: dict[str, int], count: int) -> str:
    return outcomes.judged_severity(finding.severity, finding.stopped_severity, counts, count)


def decide_warnings(db: sqlite_utils.Database, decisions: list[tuple[str, str, str, str, str]]) -> None:
    """Writer fn: join each decision on a warning to the alert its paste.scanned event is
    evidence of (by the scan's id), move that paste from awaiting a decision to sent or
    cancelled, re-judge the severity and link the decision as evidence. A decision counts
    only from the device and user whose paste was warned, and only while one is awaited."""
    scans = stored_alerts.alerts_of_scans(db, [decision[3] for decision in decisions])
    changed: dict[int, tuple[str, dict[str, int], int]] = {}
    links: list[tuple[int, str]] = []
    for decision_id, device_id, user, scan_id, decision in decisions:
        for alert_id, finding_id, stored_outcomes, count, scan_device, scan_user, scan_body in scans.get(scan_id, ()):
            if (scan_device, scan_user) != (device_id, user) or json.loads(scan_body)["data"].get("action") != "warn":
                continue
            _, counts, _ = changed.get(alert_id, (finding_id, json.loads(stored_outcomes), count))
            decided = outcomes.decide(counts, decision)
            if decided is not None:
                changed[alert_id] = (finding_id, decided, count)
                links.append((alert_id, decision_id))
    now = utc_now()
    stored_alerts.set_outcomes(db, [(json.dumps(counts), _severity(BY_ID[finding_id], counts, count), now, alert_id)
                                    for alert_id, (finding_id, counts, count) in changed.items()])
    stored_alerts.link_events(db, links)


def _dump(values: set[str]) -> str:
    return json.dumps(sorted(values)[:MAX_LISTED])


def _union(stored_json: str, new: set[str]) -> str | None:
    """The list with ``new`` added, or None when that leaves it as it is (the bump then keeps
    the stored text: an org-wide alert lists up to 500 devices, and writing the same list
    again on every batch rewrote kilobytes per alert under ingest's lock)."""
    stored = set(json.loads(stored_json))
    if new <= stored:
        return None
    merged = _dump(stored | new)
    return None if merged == stored_json else merged
