"""Who approves the weekly report: a name (and role) the report prints on its approval line,
set by an admin from the reports page or `shadowmap collector report approver`. An org
setting; each change is an entry of the record, since it says who vouches for the evidence."""
from __future__ import annotations

import unicodedata

import sqlite_utils

from shadowmap.collector import record
from shadowmap.collector.store.sqlite import org

APPROVER_SETTING = "report_approver"
MAX_APPROVER = 200


class ApproverError(ValueError):
    pass


def clean_approver(text: str) -> str:
    """The approver as it will be printed: trimmed, one line; refused when empty, too long or
    holding control characters."""
    name = " ".join(text.split())
    if not name:
        raise ApproverError("the approver needs a name")
    if len(name) > MAX_APPROVER:
        raise ApproverError(f"the approver's name is at most {MAX_APPROVER} characters")
    if any(unicodedata.category(ch).startswith("C") for ch in name):
        raise ApproverError("the approver's name cannot hold control characters")
    return name


def approver(db: sqlite_utils.Database) -> str | None:
    """Reader fn: the report's approver, None when nobody is named."""
    return org.setting(db, APPROVER_SETTING)


def set_approver(db: sqlite_utils.Database, name: str | None, actor: str) -> str | None:
    """Writer fn: name the report's approver (None: nobody), recorded. Returns it as stored."""
    cleaned = None if name is None else clean_approver(name)
    if cleaned is None:
        org.delete_setting(db, APPROVER_SETTING)
    else:
        org.set_setting(db, APPROVER_SETTING, cleaned)
    record.append(db, "admin", "report", actor, {"action": "approver", "approver": cleaned})
    return cleaned
