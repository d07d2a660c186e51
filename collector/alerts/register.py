"""The sub-processor register: the company's approved AI vendors (DPA signed and when, its
link, expiry and owner, publicly listed as a sub-processor, data classes allowed,
contractual retention, notes), imported and exported as CSV, vendor names checked against
the catalog ("Cursor" is a tool: its vendor is Anysphere). A change re-judges the vendor's
open register alerts at once."""
from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, replace
from datetime import date, timedelta
from functools import lru_cache

import sqlite_utils

from shadowmap.collector import record
from shadowmap.collector.alerts import raising  # a module: raising imports this one (through unknown_tools)
from shadowmap.collector.alerts.findings import BY_ID, VENDOR_CHECKS, vendor_findings
from shadowmap.collector.alerts.retention import set_policy_retention_days
from shadowmap.collector.alerts.standings import vendor_standings  # the same standing ingest judges by
from shadowmap.collector.alerts.triage import log_action
from shadowmap.collector.csv_rows import EXTRA_CELLS, csv_rows
from shadowmap.collector.store.sqlite import alerts, recent_usage
from shadowmap.collector.store.sqlite import register as stored
from shadowmap.collector.timestamps import utc_now
from shadowmap.contract import enums
from shadowmap.detectors.catalog import load_catalog
from shadowmap.detectors.vendors import load_vendors

CSV_COLUMNS = ("vendor", "dpa_signed", "dpa_date", "listed", "data_classes", "retention_days", "notes",
               "dpa_url", "dpa_expires", "owner")
DATA_CLASSES = enums.DATA_CLASSES  # the contract's
MAX_ROWS = 5000
MAX_CSV_BYTES = 2 * 1024 * 1024
LIMITS = {"vendor": 100, "notes": 2000, "dpa_url": 500, "owner": 100}
MAX_ERRORS = 100  # an import lists this many of its bad lines
RECENT_USE_DAYS = 30  # a register change judges the tools used this recently at once
YES, NO = ("yes", "y", "true", "1", "x"), ("no", "n", "false", "0", "")
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


class RegisterError(ValueError):
    """A register row or CSV file is not acceptable; the message says where and why,
    ``errors`` every problem found (an import reports all its bad lines at once)."""

    def __init__(self, message: str, errors: list[str] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or [message]


@dataclass(frozen=True)
class Entry:
    vendor: str
    dpa_signed: bool = False
    dpa_date: str = ""
    listed: bool = False
    data_classes: tuple[str, ...] = ()
    retention_days: int | None = None
    notes: str = ""
    dpa_url: str = ""
    dpa_expires: str = ""
    owner: str = ""


@lru_cache(maxsize=1)
def _catalog_names() -> tuple[dict[str, str], dict[str, tuple[str, str]]]:
    """casefolded vendor -> its spelling; casefolded tool name or id -> (tool name, vendor)."""
    catalog = load_catalog()
    vendors = {tool.vendor.casefold(): tool.vendor for tool in catalog.tools}
    vendors.update({name.casefold(): name for name in load_vendors()})
    tools: dict[str, tuple[str, str]] = {}
    for tool in catalog.tools:
        tools.setdefault(tool.name.casefold(), (tool.name, tool.vendor))
        tools.setdefault(tool.id.casefold(), (tool.name, tool.vendor))
    return vendors, tools


def catalog_vendors() -> list[str]:
    """Every vendor the catalog and the vendor facts know, for the register's picker."""
    return sorted(set(_catalog_names()[0].values()), key=str.casefold)


def check_vendor(name: str) -> tuple[str, str | None, bool]:
    """(the catalog's spelling of the name, a warning or None, whether the warning means the
    name cannot be right). A tool's name is not its vendor's: alerts name the vendor."""
    vendors, tools = _catalog_names()
    key = name.strip().casefold()
    if key in vendors:
        return vendors[key], None, False
    if key in tools:
        tool, vendor = tools[key]
        return name, f"{tool} is a tool, not a vendor: its vendor is {vendor}", True
    return name, (f"{name} is not a vendor in the catalog: it will only match the alerts and report rows "
                  "that name it exactly"), False


def _flag(value: str, column: str) -> bool:
    lowered = value.strip().lower()
    if lowered in YES:
        return True
    if lowered in NO:
        return False
    raise RegisterError(f"{column} must be yes or no, not {value[:20]!r}")


def parse_entry(fields: dict[str, str]) -> Entry:
    """An Entry from text fields (a CSV row or a form), validated."""
    vendor = (fields.get("vendor") or "").strip()
    if not vendor or len(vendor) > LIMITS["vendor"]:
        raise RegisterError(f"vendor must be 1..{LIMITS['vendor']} characters")
    dpa_date = (fields.get("dpa_date") or "").strip()
    if dpa_date:
        try:
            date.fromisoformat(dpa_date)
        except ValueError:
            raise RegisterError(f"dpa_date must be YYYY-MM-DD, not {dpa_date[:20]!r}") from None
        if len(dpa_date) != 10:
            raise RegisterError("dpa_date must be YYYY-MM-DD")
    classes = [c.strip().lower() for c in (fields.get("data_classes") or "").replace(",", ";").split(";") if c.strip()]
    unknown = [c for c in classes if c not in DATA_CLASSES]
    if unknown:
        raise RegisterError(f"data_classes must be among {', '.join(DATA_CLASSES)}, not {unknown[0][:20]!r}")
    retention_text = (fields.get("retention_days") or "").strip()
    if retention_text and not (retention_text.isascii() and retention_text.isdigit() and len(retention_text) <= 5
                               and int(retention_text) <= 36500):
        raise RegisterError("retention_days must be a whole number of days (0..36500) or empty")
    notes = (fields.get("notes") or "").strip()
    if len(notes) > LIMITS["notes"]:
        raise RegisterError(f"notes must be at most {LIMITS['notes']} characters")
    dpa_url = (fields.get("dpa_url") or "").strip()
    if dpa_url and not (dpa_url.startswith(("https://", "http://")) and len(dpa_url) <= LIMITS["dpa_url"]
                        and not any(c.isspace() for c in dpa_url)):
        raise RegisterError(f"dpa_url must be an http(s) link of at most {LIMITS['dpa_url']} characters")
    dpa_expires = (fields.get("dpa_expires") or "").strip()
    if dpa_expires:
        try:
            date.fromisoformat(dpa_expires)
        except ValueError:
            raise RegisterError(f"dpa_expires must be YYYY-MM-DD, not {dpa_expires[:20]!r}") from None
    owner = (fields.get("owner") or "").strip()
    if len(owner) > LIMITS["owner"]:
        raise RegisterError(f"owner must be at most {LIMITS['owner']} characters")
    return Entry(vendor, _flag(fields.get("dpa_signed") or "", "dpa_signed"), dpa_date,
                 _flag(fields.get("listed") or "", "listed"), tuple(sorted(set(classes))),
                 int(retention_text) if retention_text else None, notes, dpa_url, dpa_expires, owner)


def _header_problem(header: list[str]) -> str | None:
    if "vendor" not in header:
        return f"the header must name the columns {', '.join(CSV_COLUMNS)} (vendor is required)"
    return None


def parse_csv(text: str) -> tuple[list[Entry], list[str]]:
    """Every row of a register CSV, and warnings (names the catalog does not know). Any bad
    row refuses the whole file (nothing is half-imported); the RegisterError then lists every
    bad line found, up to MAX_ERRORS."""
    entries: dict[str, Entry] = {}
    errors: list[str] = []
    warnings: list[str] = []
    for line, row in csv_rows(text, MAX_CSV_BYTES, RegisterError, _header_problem):
        if len(entries) >= MAX_ROWS:
            raise RegisterError(f"at most {MAX_ROWS} vendors per file")
        if EXTRA_CELLS in row:
            errors.append(f"line {line}: more cells than columns")
        else:
            try:
                entry = parse_entry(row)
            except RegisterError as exc:
                errors.append(f"line {line}: {exc}")
            else:
                spelling, warning, wrong = check_vendor(entry.vendor)
                if wrong:
                    errors.append(f"line {line}: {warning}")
                else:
                    if warning:
                        warnings.append(f"line {line}: {warning}")
                    entry = replace(entry, vendor=spelling)
                    entries[entry.vendor.casefold()] = entry
        if len(errors) >= MAX_ERRORS:
            break
    if errors:
        more = " (and maybe more: the first ones are listed)" if len(errors) >= MAX_ERRORS else ""
        raise RegisterError(f"{len(errors)} bad line(s){more}: {errors[0]}", errors)
    return list(entries.values()), warnings


def _cell(value: str) -> str:
    # A cell that a spreadsheet would run as a formula is quoted as text.
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def export_csv(entries: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in entries:
        writer.writerow([_cell(row["vendor"]), "yes" if row["dpa_signed"] else "no", row["dpa_date"],
                         "yes" if row["listed"] else "no", ";".join(row["data_classes"]),
                         "" if row["retention_days"] is None else str(row["retention_days"]), _cell(row["notes"]),
                         _cell(row.get("dpa_url") or ""), row.get("dpa_expires") or "", _cell(row.get("owner") or "")])
    return out.getvalue()


def upsert(db: sqlite_utils.Database, entries: list[Entry], actor: str) -> list[int]:
    """Writer fn: add or replace vendors, then re-judge their register alerts. Returns the
    ids of alerts resolved because the register now satisfies them."""
    stored.save_entries(db, [(e.vendor, int(e.dpa_signed), e.dpa_date, int(e.listed), json.dumps(list(e.data_classes)),
                              e.retention_days, e.notes, e.dpa_url, e.dpa_expires, e.owner) for e in entries],
                        utc_now(), actor)
    record.append(db, "admin", "register", actor, {"action": "save", "vendors": sorted(e.vendor for e in entries)})
    changed = {e.vendor for e in entries}
    raise_now(db, changed)  # what the new standing calls for, at once
    return reconcile(db, changed, actor)


def raise_now(db: sqlite_utils.Database, vendors: set[str]) -> list[int]:
    """Writer fn: the register findings these vendors' standing calls for now (a vendor removed,
    a DPA unticked), opened at once for their tools used in the last RECENT_USE_DAYS days, on
    the usage rollup's evidence; a finding already active for the tool is left as it is.
    Returns the ids of the alerts opened."""
    wanted = {vendor.casefold() for vendor in vendors}
    used = recent_usage.tools_since(db, (date.today() - timedelta(days=RECENT_USE_DAYS)).isoformat())
    tools = {tool: vendor for tool, vendor in raising.tool_vendors(db, used).items() if vendor.casefold() in wanted}
    if not tools:
        return []
    standings = vendor_standings(db, set(tools.values()))
    evidence: dict[str, raising.Evidence] = {}
    for tool, vendor in tools.items():
        rows = used[tool]
        part = raising.Part(count=sum(r[2] for r in rows), first_seen=min(r[3] for r in rows) + "T00:00:00.000000Z",
                    last_seen=max(r[4] for r in rows) + "T00:00:00.000000Z", device_ids={r[0] for r in rows},
                    users={r[1] for r in rows}, event_ids=[], entity_types=set(), data_classes=set())
        for finding, facts in vendor_findings(standings[vendor]):
            found = raising.Evidence(finding, tool, None, vendor, raising.ALL_USERS, part.first_seen, part.last_seen,
                                     facts=facts)
            found.add([], part)
            evidence[raising.dedupe_key(finding.id, tool, raising.ALL_USERS)] = found
    active, suppressed = alerts.active_alerts(db, evidence), alerts.suppressed_keys(db, evidence)
    fresh = {key: found for key, found in evidence.items() if key not in active and key not in suppressed}
    return sorted(raising.bump_alerts(db, fresh).values())


def reconcile(db: sqlite_utils.Database, vendors: set[str], actor: str) -> list[int]:
    """Writer fn: resolve active register alerts of these vendors whose check no longer fires."""
    if not vendors:
        return []
    checks = dict(VENDOR_CHECKS)
    rows = alerts.active_vendor_alerts(db, vendors)
    standings = vendor_standings(db, {row["vendor"] for row in rows}) if rows else {}
    resolved = []
    for row in rows:
        check = checks.get(row["finding_id"])
        if check is not None and check(standings[row["vendor"]]) is None:
            alerts.set_status(db, row["id"], "resolved", utc_now())
            log_action(db, row["id"], actor, "resolve",
                       f"register updated: {BY_ID[row['finding_id']].name} no longer applies to {row['vendor']}")
            resolved.append(row["id"])
    return resolved


def set_retention_policy(db: sqlite_utils.Database, days: int | None, actor: str) -> list[int]:
    """Writer fn: the company's retention policy (None: none); every vendor with alerts is
    judged again. Returns the alerts it resolved."""
    set_policy_retention_days(db, days)
    record.append(db, "admin", "register", actor, {"action": "retention_policy", "days": days})
    return reconcile(db, alerts.vendors_with_alerts(db), actor)


def delete(db: sqlite_utils.Database, vendor: str, actor: str) -> bool:
    """Writer fn: remove a vendor from the register (recorded); False when it is not there."""
    deleted = stored.delete_entry(db, vendor)
    if deleted:
        record.append(db, "admin", "register", actor, {"action": "delete", "vendor": vendor})
        raise_now(db, {vendor})  # its tools in use are unlisted sub-processors again, at once
    return bool(deleted)
