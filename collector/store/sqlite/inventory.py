"""The tool inventory's read: per tool x user x device, first/last seen and events, from
the stored usage events."""
from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import sqlite_utils

# An event's tool: its own tool_id, else the org catalog overlay's entry for its domain
# (port dropped, lowercase) or process -- the same key ingest attributes new events by.
EVENT_TOOLS = """
    SELECT e.ts, e.user, e.device_id,
           coalesce(json_extract(e.body, '$.data.tool_id'), (SELECT o.tool_id FROM catalog_overlay o WHERE
               (o.kind = 'domain' AND o.name = rtrim(lower(CASE WHEN instr(e.domain, ':') > 0
                    THEN substr(e.domain, 1, instr(e.domain, ':') - 1) ELSE e.domain END), '.'))
               OR (e.domain IS NULL AND o.kind = 'process' AND o.name = substr(e.process, 1, 256)))) AS tool_id
    FROM (SELECT ts, user, device_id, body, nullif(json_extract(body, '$.data.domain'), '') AS domain,
                 json_extract(body, '$.data.process') AS process
          FROM events WHERE type IN (SELECT value FROM json_each(?)) AND ts >= ?) e
"""


def tool_use_since(db: sqlite_utils.Database, event_types: Iterable[str], since: str) -> list[dict[str, Any]]:
    """(tool_id, user, device_id, first_seen, last_seen, events) of the events of these
    types since ``since`` that name a tool (or whose domain or process the overlay names)."""
    return list(db.query(
        f"SELECT tool_id, user, device_id, min(ts) AS first_seen, max(ts) AS last_seen, count(*) AS events "
        f"FROM ({EVENT_TOOLS}) AS tools WHERE tool_id IS NOT NULL GROUP BY 1, 2, 3", (json.dumps(sorted(event_types)), since)))
