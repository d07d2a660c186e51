"""The sub-processor register: vendors with their DPA, listing, allowed data classes and
contractual retention."""
from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import sqlite_utils

# (vendor, dpa_signed, dpa_date, listed, data_classes as JSON, retention_days, notes, dpa_url, dpa_expires, owner)
EntryRow = tuple[str, int, str, int, str, int | None, str, str, str, str]


def entries(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    """Every vendor in the register, by name, data classes decoded and flags as booleans."""
    rows = db.query("SELECT * FROM register ORDER BY lower(vendor), vendor")  # (any case; portable)
    return [{**row, "data_classes": json.loads(row["data_classes"]),
             "dpa_signed": bool(row["dpa_signed"]), "listed": bool(row["listed"])} for row in rows]


def vendors(db: sqlite_utils.Database) -> list[str]:
    return [str(row["vendor"]) for row in db.query("SELECT vendor FROM register")]


def standings_rows(db: sqlite_utils.Database, vendors: Iterable[str]) -> dict[str, dict[str, Any]]:
    """casefolded vendor -> its register row (vendor, dpa_signed, listed, retention_days),
    for those of these vendors in the register."""
    return {row["vendor"].casefold(): row for row in db.query(
        "SELECT vendor, dpa_signed, listed, retention_days FROM register "
        "WHERE lower(vendor) IN (SELECT lower(value) FROM json_each(?))", (json.dumps(sorted(vendors)),))}


def vendors_in_use_unlisted(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    """Vendors with an active "not in the register" alert: what compliance should look at."""
    return list(db.query(
        "SELECT vendor, group_concat(DISTINCT tool_id) AS tools, sum(count) AS events, max(last_seen) AS last_seen "
        "FROM alerts WHERE finding_id = 'unknown_subprocessor' AND status IN ('open', 'acknowledged') "
        "AND vendor IS NOT NULL AND lower(vendor) NOT IN (SELECT lower(vendor) FROM register) GROUP BY vendor ORDER BY vendor"))


def save_entries(db: sqlite_utils.Database, rows: Sequence[EntryRow], now: str, actor: str) -> None:
    """Writer fn: add or replace these vendors."""
    db.conn.executemany(
        "INSERT INTO register (vendor, dpa_signed, dpa_date, listed, data_classes, retention_days, notes, "
        "dpa_url, dpa_expires, owner, updated_at, updated_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (vendor) DO UPDATE SET "
        "vendor = excluded.vendor, dpa_signed = excluded.dpa_signed, dpa_date = excluded.dpa_date, "
        "listed = excluded.listed, data_classes = excluded.data_classes, retention_days = excluded.retention_days, "
        "notes = excluded.notes, dpa_url = excluded.dpa_url, dpa_expires = excluded.dpa_expires, "
        "owner = excluded.owner, updated_at = excluded.updated_at, updated_by = excluded.updated_by",
        [(*row, now, actor) for row in rows])


def delete_entry(db: sqlite_utils.Database, vendor: str) -> bool:
    """Writer fn: False when the vendor was not in the register."""
    # lower() on both sides: any case matches on either backend, whatever the column's collation
    return bool(db.execute("DELETE FROM register WHERE lower(vendor) = lower(?)", (vendor,)).rowcount == 1)
