"""Reads of the record are themselves recorded: an alert's detail, the record, an export.
Each read appends a `read` entry and, in the same transaction, queues the read webhook
(sinks subscribed to the `reads` topic), so nobody reads it unnoticed."""
from __future__ import annotations

import sqlite_utils
from aiohttp import web

from shadowmap.collector.outbound import queue as outbound
from shadowmap.collector.record import chain
from shadowmap.collector.state import STORE
from shadowmap.collector.timestamps import utc_now


def record_read_in(db: sqlite_utils.Database, actor: str, subject: str, detail: dict | None = None) -> int:
    """Writer fn: the read entry plus its webhook messages. Returns the entry's seq."""
    seq = chain.append(db, "read", subject, actor, detail)
    outbound.enqueue(db, "reads", {"actor": actor, "subject": subject, "seq": seq, "ts": utc_now(),
                                   "detail": detail or {}})
    return seq


async def record_read(app: web.Application, actor: str, subject: str, detail: dict | None = None) -> int:
    """Record that ``actor`` read ``subject`` (``alert:42``, ``record``, ``export``)."""
    return await app[STORE].write(lambda db: record_read_in(db, actor, subject, detail))
