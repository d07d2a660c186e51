"""Issue 16 item 11: outbound delivery never follows a redirect, and refuses loopback,
link-local, private (unless allowed by SHADOWMAP_OUTBOUND_ALLOW_NETWORKS) and cloud
metadata addresses for sink URLs, when a sink is saved and again when it is delivered to
(the name is resolved, checked, and the checked address is the one connected to)."""
from __future__ import annotations

import asyncio

import pytest
from aiohttp import web

from shadowmap.collector.app import create_app
from shadowmap.collector.outbound import destinations
from shadowmap.collector.outbound import queue as outbound
from shadowmap.collector.outbound.sender import OUTBOUND_SETTINGS, OutboundSettings
from shadowmap.collector.state import STORE

ALLOW = destinations.ALLOW_ENV


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:9/in", "http://localhost:9/in", "http://[::1]:9/in", "http://169.254.169.254/latest/meta-data",
    "http://[fd00:ec2::254]/latest", "http://10.1.2.3/in", "http://192.168.0.10/in", "http://172.16.5.5/in",
    "http://0.0.0.0:9/in", "http://[::ffff:127.0.0.1]:9/in", "http://2130706433/in",
])
def test_refused_destinations_at_save_time(url, monkeypatch):
    monkeypatch.delenv(ALLOW, raising=False)
    with pytest.raises(outbound.SinkError):
        outbound.validate_sinks([{"name": "s", "kind": "webhook", "url": url}])


def test_allowed_networks_open_private_ranges_but_never_metadata(monkeypatch):
    monkeypatch.setenv(ALLOW, "127.0.0.0/8, 169.254.0.0/16")
    outbound.validate_sinks([{"name": "s", "kind": "webhook", "url": "http://127.0.0.1:9/in"}])
    with pytest.raises(outbound.SinkError):
        outbound.validate_sinks([{"name": "s", "kind": "webhook", "url": "http://169.254.169.254/latest"}])


class Target:
    """A loopback server: /redirect answers 302 to /landing; everything is counted."""

    def __init__(self) -> None:
        self.hits: list[str] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.hits.append(request.path)
        if request.path == "/redirect":
            raise web.HTTPFound("/landing")
        return web.Response(text="ok")

    async def start(self) -> str:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        return f"http://127.0.0.1:{self.runner.addresses[0][1]}"


@pytest.fixture
async def client(aiohttp_client, config, make):
    """The collector with its own sender polling fast and giving up after one attempt: the
    messages here go out the way the product sends them (the sender's lease, one round at a time)."""
    app = create_app(config)
    app[OUTBOUND_SETTINGS] = OutboundSettings(poll_seconds=0.05, max_attempts=1, timeout_seconds=2.0)
    return await make.start_client(aiohttp_client, config, app)


async def dead_lettered(client, count: int) -> list[dict]:
    """Wait until ``count`` messages are on the dead-letter list (the sender's rounds are async)."""
    for _ in range(200):
        dead = await client.app[STORE].read(outbound.dead_letters)
        if len(dead) >= count:
            return dead
        await asyncio.sleep(0.05)
    raise AssertionError(f"{count} dead letters expected, {len(dead)} after 10 s")


async def test_redirects_are_not_followed(client, monkeypatch):
    monkeypatch.setenv(ALLOW, "127.0.0.0/8")
    target = Target()
    base = await target.start()
    try:
        await client.app[STORE].write(lambda db: outbound.set_sinks(db, [
            {"name": "hook", "kind": "webhook", "url": base + "/redirect", "topics": ["reads"]}]))
        await client.app[STORE].write(lambda db: outbound.enqueue(db, "reads", {"actor": "a", "subject": "s",
                                                                                "seq": 1, "ts": "t"}))
        dead = await dead_lettered(client, 1)
        assert target.hits == ["/redirect"]
        assert "302" in dead[0]["last_error"]
    finally:
        await target.runner.cleanup()


async def test_a_destination_is_checked_again_when_delivering(client, monkeypatch):
    monkeypatch.setenv(ALLOW, "127.0.0.0/8")
    target = Target()
    base = await target.start()
    try:
        for sent, url in enumerate((base + "/hook", base.replace("127.0.0.1", "localhost") + "/named"), 1):
            await client.app[STORE].write(lambda db, url=url: outbound.set_sinks(db, [
                {"name": "hook", "kind": "webhook", "url": url, "topics": ["reads"]}]))
            monkeypatch.delenv(ALLOW)  # what was allowed when saved is no longer: nothing may reach it
            await client.app[STORE].write(lambda db: outbound.enqueue(db, "reads", {"actor": "a", "subject": "s",
                                                                                    "seq": 1, "ts": "t"}))
            dead = await dead_lettered(client, sent)
            monkeypatch.setenv(ALLOW, "127.0.0.0/8")
        assert target.hits == []
        assert len(dead) == 2 and all("refused" in letter["last_error"] for letter in dead)
    finally:
        await target.runner.cleanup()
