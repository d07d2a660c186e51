"""A vendor's standing against the sub-processor register and the company's retention
policy: in the register, publicly listed, DPA signed, how long it keeps inputs. Ingest and
register changes judge vendors by the same standing (shadowmap.collector.alerts.findings
says which standing raises which finding)."""
from __future__ import annotations

import sqlite_utils

from shadowmap.collector.alerts.findings import VendorStanding
from shadowmap.collector.alerts.retention import policy_retention_days, vendor_retention_days
from shadowmap.collector.store.sqlite import register


def vendor_standings(db: sqlite_utils.Database, vendors: set[str]) -> dict[str, VendorStanding]:
    rows = register.standings_rows(db, vendors)
    policy = policy_retention_days(db)
    standings = {}
    for vendor in vendors:
        row = rows.get(vendor.casefold())
        if row and row["retention_days"] is not None:
            retention = row["retention_days"]  # the contract's figure wins
        else:
            retention = vendor_retention_days(vendor, business_terms=bool(row and row["dpa_signed"]))
        standings[vendor] = VendorStanding(vendor, row is not None, bool(row and row["listed"]),
                                           bool(row and row["dpa_signed"]), retention, policy)
    return standings
