"""GET /api/v1/policy: the current policy for an authenticated agent, with ETag / 304."""
from __future__ import annotations

import json

import sqlite_utils
from aiohttp import web

from shadowmap.collector.api import exception_grants
from shadowmap.collector.api.node_keys import authenticate_node_key, refuse
from shadowmap.collector.state import STORE
from shadowmap.collector.store.sqlite import catalog_overlay as overlay
from shadowmap.collector.store.sqlite import node_keys, org
from shadowmap.collector.store.sqlite import org_detectors as org_detector_store


def etag_matches(header: str | None, etag: str) -> bool:
    """RFC 9110 weak comparison against an If-None-Match list (or *)."""
    if not header:
        return False
    for candidate in header.split(","):
        candidate = candidate.strip()
        if candidate == "*" or candidate.removeprefix("W/") == etag:
            return True
    return False


def served_policy(db: sqlite_utils.Database) -> tuple[str, str]:
    """The stored policy with the catalog overlay added as approved_tools (the tools the
    security team catalogued or approved from the unknown-tools queue) and the org detectors
    an admin saved (console/org_detectors.py), and an ETag that changes when any does."""
    policy_json, etag = org.current_policy(db)
    tools: dict[str, dict] = {}
    for row in overlay.entries(db):
        tool = tools.setdefault(row["tool_id"], {"id": row["tool_id"], "vendor": row["vendor"] or "",
                                                 "domains": [], "process_names": []})
        tool["domains" if row["kind"] == "domain" else "process_names"].append(row["name"])
    detectors = org_detector_store.current(db)
    if not tools and detectors is None:
        return policy_json, etag
    policy = json.loads(policy_json)
    if tools:
        policy["approved_tools"] = [*(policy.get("approved_tools") or []), *tools.values()][:500]
    if detectors is not None:   # once saved, always served (an emptied document clears the agents' set)
        policy["org_detectors"] = detectors[1]
    return json.dumps(policy, sort_keys=True), org.policy_etag(policy)


def served_policy_for_device(db: sqlite_utils.Database, device_id: str) -> tuple[str, str]:
    """served_policy with the device's approved, unexpired exception requests (api/exception_grants.py)."""
    return exception_grants.add_to(db, device_id, *served_policy(db))


def policy_if_key_current(db: sqlite_utils.Database, device_id: str, key_hash: str) -> tuple[str, str] | None:
    """served_policy_for_device, in the same read that checks the node key is still the
    device's and unrevoked (None when not): one round trip to the database per poll."""
    if not node_keys.is_current(db, device_id, key_hash):
        return None
    return served_policy_for_device(db, device_id)


async def policy_handler(request: web.Request) -> web.Response:
    who = await authenticate_node_key(request)  # cached lookup: the read below checks the key again
    served = await request.app[STORE].read(policy_if_key_current, who.device.device_id, who.key_hash)
    if served is None:
        raise await refuse(request, who)
    policy_json, etag = served
    headers = {"ETag": etag, "Cache-Control": "no-cache"}
    if etag_matches(request.headers.get("If-None-Match"), etag):
        return web.Response(status=304, headers=headers)
    return web.Response(text=policy_json, content_type="application/json", headers=headers)
