"""The record: an append-only, hash-chained log of every stored event, triage decision,
read of the record and retention run, exportable as a signed bundle an auditor verifies
offline (`shadowmap collector record export` / `verify`).

For other collector modules:
    from shadowmap.collector import record
    record.append(db, "triage", f"alert:{alert_id}", actor, {"action": ..., "note": ...})  # writer fn
    await record.record_read(app, actor, f"alert:{alert_id}", {"page": "detail"})         # on a read
"""
from __future__ import annotations

from shadowmap.collector.record.chain import append, append_event_rows, append_events

__all__ = ["append", "append_event_rows", "append_events", "record_read"]


def __getattr__(name: str):
    # record_read needs aiohttp; keep `import shadowmap.collector.record` light for the offline verifier
    if name == "record_read":
        from shadowmap.collector.record.reads import record_read
        return record_read
    raise AttributeError(name)
