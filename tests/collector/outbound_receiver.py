"""A real HTTP receiver on loopback for outbound tests: records every POST (headers, JSON
body) and answers 500 to the first ``fail_first`` requests."""
from __future__ import annotations

import asyncio
import json

from aiohttp import web


class Receiver:
    def __init__(self, fail_first: int = 0, status: int = 200) -> None:
        self.fail_first, self.status = fail_first, status
        self.received: list[dict] = []
        self.attempts = 0
        self.arrived = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def _handle(self, request: web.Request) -> web.Response:
        self.attempts += 1
        body = await request.read()
        if self.attempts <= self.fail_first:
            return web.Response(status=500, text="try later")
        self.received.append({"path": request.path, "headers": dict(request.headers), "raw": body,
                              "json": json.loads(body)})
        self.arrived.set()
        return web.Response(status=self.status, text="ok")

    async def start(self) -> Receiver:
        app = web.Application()
        app.router.add_post("/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def wait_for(self, count: int, timeout: float = 10.0) -> list[dict]:
        async def until() -> None:
            while len(self.received) < count:
                self.arrived.clear()
                await self.arrived.wait()
        await asyncio.wait_for(until(), timeout)
        return self.received

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
