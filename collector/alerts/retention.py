"""Retention: the company's policy (an org setting) and each vendor's default retention of
inputs, from the vendor facts (`shadowmap.detectors.vendors`).

A vendor without facts has unknown retention: no retention finding is raised for it and the
register page says "unknown" rather than guessing."""
from __future__ import annotations

import logging
from typing import Any

import sqlite_utils

from shadowmap.collector.store.sqlite import org
from shadowmap.detectors import vendors
from shadowmap.detectors.vendors import MAX_RETENTION_DAYS, UNTIL_DELETED

log = logging.getLogger(__name__)

POLICY_SETTING = "retention_policy_days"  # the org setting; the register sets it, the findings and the report read it
MAX_POLICY_DAYS = 36500


def policy_retention_days(db: sqlite_utils.Database) -> int | None:
    value = org.setting(db, POLICY_SETTING)
    return int(value) if value is not None and value.isascii() and value.isdigit() else None


def set_policy_retention_days(db: sqlite_utils.Database, days: int | None) -> None:
    """Writer fn: the longest retention of inputs the company accepts from an AI vendor."""
    if days is None:
        org.delete_setting(db, POLICY_SETTING)
        return
    if not 0 <= days <= MAX_POLICY_DAYS:
        raise ValueError(f"retention must be 0..{MAX_POLICY_DAYS} days")
    org.set_setting(db, POLICY_SETTING, str(days))


def _tier_days(value: Any) -> int | None:
    if value == UNTIL_DELETED:
        return MAX_RETENTION_DAYS
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def vendor_retention_days(vendor: str, business_terms: bool = False) -> int | None:
    """The vendor's default retention of inputs in days (kept until deleted counts as
    MAX_RETENTION_DAYS), or None when the vendor facts do not say. Under business terms
    (a signed DPA) the business tier's figure is used; otherwise the longest of the tiers,
    since people without a company contract use whatever tier they signed up for."""
    try:
        facts = vendors.load_vendors().get(vendor) if vendor else None
    except vendors.VendorError:  # a broken facts file must not stop ingest; its own tests catch it
        log.exception("vendor facts could not be loaded; retention is unknown for every vendor")
        return None
    if facts is None:
        return None
    if business_terms:
        return _tier_days(facts.retention_days["business"].value)
    return facts.input_retention_days
