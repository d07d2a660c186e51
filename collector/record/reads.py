"""Reads of data about people are themselves recorded: an alert's detail, the record, an
export, and (`read_recording_middleware`) every list, page, CSV and API that shows people,
devices or accounts. Each read appends a `read` entry and, in the same transaction, queues
the read webhook (sinks subscribed to the `reads` topic), so nobody reads it unnoticed."""
from __future__ import annotations

import sqlite_utils
from aiohttp import web

from shadowmap.collector.outbound import queue as outbound
from shadowmap.collector.principals import current_principal
from shadowmap.collector.record import chain
from shadowmap.collector.state import STORE
from shadowmap.collector.timestamps import utc_now

# GET path -> the subject its read is recorded under. Pages that record their own reads
# (an alert's detail, the overview, reports, the alerts CSV export, the record API, a device's
# page) are not here.
RECORDED_READS = {
    "/alerts": "alerts",
    "/api/v1/alerts": "alerts",
    "/false-positives": "false-positives",
    "/inventory": "inventory",
    "/register": "register",
    "/register.csv": "register",
    "/api/v1/register": "register",
    "/unknown-tools": "unknown-tools",
    "/admin/devices": "devices",
    "/devices": "devices",
    "/mcp-servers": "mcp-servers",
    "/extensions": "extensions",
    "/admin": "accounts",
}
MAX_QUERY_DETAIL = 500


def record_read_in(db: sqlite_utils.Database, actor: str, subject: str, detail: dict | None = None) -> int:
    """Writer fn: the read entry plus its webhook messages. Returns the entry's seq."""
    seq = chain.append(db, "read", subject, actor, detail)
    outbound.enqueue(db, "reads", {"actor": actor, "subject": subject, "seq": seq, "ts": utc_now(),
                                   "detail": detail or {}})
    return seq


async def record_read(app: web.Application, actor: str, subject: str, detail: dict | None = None) -> int:
    """Record that ``actor`` read ``subject`` (``alert:42``, ``record``, ``export``)."""
    return await app[STORE].write(lambda db: record_read_in(db, actor, subject, detail))


@web.middleware
async def read_recording_middleware(request: web.Request, handler) -> web.StreamResponse:
    """A successful GET of a path in RECORDED_READS is recorded with who read it (refused
    and redirected requests read nothing)."""
    response = await handler(request)
    subject = RECORDED_READS.get(request.path) if request.method == "GET" else None
    if subject is not None and response.status == 200:
        principal = await current_principal(request)
        if principal is not None:
            await record_read(request.app, principal.name, subject,
                              {"path": request.path, "query": request.query_string[:MAX_QUERY_DETAIL]})
    return response
