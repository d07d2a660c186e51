"""Background work that lives as long as the app: started in a cleanup context, cancelled
and awaited when the app stops, so no task outlives the store it writes to."""
from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager


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
