"""Approved exception requests in the policy a device pulls: the analyst's approved,
unexpired exceptions for the device's users are added to the served policy as `exceptions`
(policy.v1.json), so the agent allows that user's pastes of that data class on that tool
until each expires; the ETag changes with them (an expired one drops out)."""
from __future__ import annotations

import json

import sqlite_utils

from shadowmap.collector.store.sqlite import exception_requests, org
from shadowmap.collector.timestamps import utc_now

MAX_EXCEPTIONS = 1000   # policy.v1.json exceptions maxItems


def add_to(db: sqlite_utils.Database, device_id: str, policy_json: str, etag: str) -> tuple[str, str]:
    """The served policy (JSON, ETag) with this device's active exceptions added."""
    grants = exception_requests.active_for_device(db, device_id, utc_now())
    if not grants:
        return policy_json, etag
    policy = json.loads(policy_json)
    policy["exceptions"] = [*(policy.get("exceptions") or []), *grants][-MAX_EXCEPTIONS:]   # the newest last
    return json.dumps(policy, sort_keys=True), org.policy_etag(policy)
