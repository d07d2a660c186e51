"""Background work that lives as long as the app: started in a cleanup context, cancelled
and awaited when the app stops, so no task outlives the store it writes to. A job that must
run once across several collector nodes asks holds_lease() each round."""
from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import socket
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

# This process among the collector nodes sharing one database: the holder name of its leases.
NODE_ID = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


async def holds_lease(store: Any, job: str, every_seconds: float) -> bool:
    """Whether this node runs ``job`` this round (retention, reports, outbound delivery: once
    across the fleet). Takes or renews the job's lease, which outlasts two rounds: a node
    that dies stops renewing it, and another node takes the job over once it expires. On
    SQLite (one node) this node always holds it."""
    from shadowmap.collector.store.sqlite import leases

    now = datetime.now(UTC)
    expires = now + timedelta(seconds=2 * every_seconds + LEASE_MARGIN_SECONDS)
    return bool(await store.write(leases.take, job, NODE_ID, _iso(now), _iso(expires)))


LEASE_MARGIN_SECONDS = 30


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


@asynccontextmanager
async def background_task(name: str, work: Coroutine | None) -> AsyncIterator[None]:
    """Run ``work`` (None: nothing to run) until the block ends."""
    task = asyncio.create_task(work, name=name) if work is not None else None
    try:
        yield
    finally:
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
