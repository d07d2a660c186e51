"""The sub-processor register: the company's approved AI vendors (DPA signed and when,
publicly listed as a sub-processor, data classes allowed, contractual retention, notes),
imported and exported as CSV. A change re-judges the vendor's open register alerts."""
from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import date

import sqlite_utils

from shadowmap.collector.alerts.findings import BY_ID, VENDOR_CHECKS
from shadowmap.collector.alerts.retention import set_policy_retention_days
from shadowmap.collector.alerts.standings import vendor_standings  # the same standing ingest judges by
from shadowmap.collector.alerts.triage import log_action
from shadowmap.collector.store.sqlite import alerts
from shadowmap.collector.store.sqlite import register as stored
from shadowmap.collector.timestamps import utc_now
from shadowmap.contract import enums

CSV_COLUMNS = ("vendor", "dpa_signed", "dpa_date", "listed", "data_classes", "retention_days", "notes")
DATA_CLASSES = enums.DATA_CLASSES  # the contract's
MAX_ROWS = 5000
MAX_CSV_BYTES = 2 * 1024 * 1024
LIMITS = {"vendor": 100, "notes": 2000}
YES, NO = ("yes", "y", "true", "1", "x"), ("no", "n", "false", "0", "")
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


class RegisterError(ValueError):
    """A register row or CSV file is not acceptable; the message says where and why."""


@dataclass(frozen=True)
class Entry:
    vendor: str
    dpa_signed: bool = False
    dpa_date: str = ""
    listed: bool = False
    data_classes: tuple[str, ...] = ()
    retention_days: int | None = None
    notes: str = ""


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
    return Entry(vendor, _flag(fields.get("dpa_signed") or "", "dpa_signed"), dpa_date,
                 _flag(fields.get("listed") or "", "listed"), tuple(sorted(set(classes))),
                 int(retention_text) if retention_text else None, notes)


def parse_csv(text: str) -> list[Entry]:
    """Every row of a register CSV; the first bad row stops the import (nothing is half-imported)."""
    if len(text.encode("utf-8")) > MAX_CSV_BYTES:
        raise RegisterError(f"the file is larger than {MAX_CSV_BYTES // 1024} KiB")
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff"), newline=""), strict=True)
    try:
        header = [name.strip().lower() for name in reader.fieldnames or []]
    except csv.Error as exc:
        raise RegisterError(f"line 1: not valid CSV ({exc})") from None
    if "vendor" not in header:
        raise RegisterError(f"the header must name the columns {', '.join(CSV_COLUMNS)} (vendor is required)")
    reader.fieldnames = header
    entries: dict[str, Entry] = {}
    try:
        for row in reader:
            if len(entries) >= MAX_ROWS:
                raise RegisterError(f"at most {MAX_ROWS} vendors per file")
            if None in row:
                raise RegisterError(f"line {reader.line_num}: more cells than columns")
            try:
                entry = parse_entry({k: v or "" for k, v in row.items()})
            except RegisterError as exc:
                raise RegisterError(f"line {reader.line_num}: {exc}") from None
            entries[entry.vendor.casefold()] = entry
    except csv.Error as exc:
        raise RegisterError(f"line {reader.line_num}: not valid CSV ({exc})") from None
    return list(entries.values())


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
                         "" if row["retention_days"] is None else str(row["retention_days"]), _cell(row["notes"])])
    return out.getvalue()


def upsert(db: sqlite_utils.Database, entries: list[Entry], actor: str) -> list[int]:
    """Writer fn: add or replace vendors, then re-judge their register alerts. Returns the
    ids of alerts resolved because the register now satisfies them."""
    stored.save_entries(db, [(e.vendor, int(e.dpa_signed), e.dpa_date, int(e.listed), json.dumps(list(e.data_classes)),
                              e.retention_days, e.notes) for e in entries], utc_now(), actor)
    return reconcile(db, {e.vendor for e in entries}, actor)


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
    return reconcile(db, alerts.vendors_with_alerts(db), actor)
