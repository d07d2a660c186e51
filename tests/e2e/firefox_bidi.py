"""Debian's Firefox ESR driven over WebDriver BiDi (`--remote-debugging-port`), for the one
real-Firefox test: Playwright only drives its own patched Firefox builds. A small
synchronous client over aiohttp's WebSocket (a background event loop), and the launch of
a headless Firefox on a throw-away profile and HOME, every hostname resolved to loopback."""
from __future__ import annotations

import asyncio
import json
import shutil
import socket
import threading
import time
from pathlib import Path

import aiohttp

from support.processes import Proc

FIREFOX = shutil.which("firefox-esr") or "/usr/lib/firefox-esr/firefox-esr"

# every name resolves to 127.0.0.1 (the test server; nothing leaves the machine), no DNS
# over HTTPS, no system proxy, no first-run chores
PROFILE_PREFS = {
    "network.dns.forceResolve": "127.0.0.1",
    "network.trr.mode": 5,
    "network.proxy.type": 0,
    "browser.shell.checkDefaultBrowser": False,
    "datareporting.policy.dataSubmissionEnabled": False,
    "toolkit.telemetry.reportingpolicy.firstRun": False,
    "app.update.disabledForTesting": True,
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class BiDiError(AssertionError):
    pass


class BiDi:
    """One WebDriver BiDi session; `command()` blocks until the answer (events are dropped)."""

    def __init__(self, port: int, timeout: float = 30.0):
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._timeout = timeout
        self._next_id = 0
        self._ws = self._run(self._connect(port))

    def _run(self, coro):
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(self._timeout + 5)

    async def _connect(self, port: int):
        self._session = aiohttp.ClientSession()
        deadline = time.monotonic() + self._timeout
        while True:
            try:
                return await self._session.ws_connect(f"ws://127.0.0.1:{port}/session", max_msg_size=0)
            except aiohttp.ClientError:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.2)

    async def _command(self, method: str, params: dict) -> dict:
        self._next_id += 1
        await self._ws.send_json({"id": self._next_id, "method": method, "params": params})
        async with asyncio.timeout(self._timeout):
            while True:
                message = json.loads((await self._ws.receive()).data)
                if message.get("id") == self._next_id:
                    if message.get("type") == "error":
                        raise BiDiError(f"{method}: {message.get('error')}: {message.get('message')}")
                    return message["result"]

    def command(self, method: str, **params) -> dict:
        return self._run(self._command(method, params))

    def evaluate(self, context: str, expression: str):
        """A page expression's value (primitives and plain JSON via JSON.stringify)."""
        result = self.command("script.evaluate", expression=f"JSON.stringify({expression})",
                              target={"context": context}, awaitPromise=True)
        if result.get("type") == "exception":
            raise BiDiError(result["exceptionDetails"].get("text"))
        value = result["result"].get("value")
        return None if value is None else json.loads(value)

    def wait_for(self, context: str, expression: str, timeout: float = 20.0):
        deadline = time.monotonic() + timeout
        while True:
            value = self.evaluate(context, expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise BiDiError(f"timed out waiting for {expression}")
            time.sleep(0.1)

    def type_keys(self, context: str, text: str) -> None:
        """Trusted key presses (input.performActions); "\\ue007" is Enter."""
        actions = []
        for char in text:
            actions += [{"type": "keyDown", "value": char}, {"type": "keyUp", "value": char}]
        self.command("input.performActions", context=context,
                     actions=[{"type": "key", "id": "keyboard", "actions": actions}])

    def click(self, context: str, selector: str) -> None:
        """A trusted mouse click in the middle of the element."""
        box = self.evaluate(context, f"(() => {{ const r = document.querySelector({json.dumps(selector)})"
                                     ".getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; })()")
        x, y = (round(v) for v in box)
        actions = [{"type": "pointerMove", "x": x, "y": y}, {"type": "pointerDown", "button": 0},
                   {"type": "pointerUp", "button": 0}]
        self.command("input.performActions", context=context,
                     actions=[{"type": "pointer", "id": "mouse", "actions": actions}])

    def chord(self, context: str, modifier: str, key: str) -> None:
        """A trusted key chord, e.g. Control ("\ue009") + Enter ("\ue007")."""
        actions = [{"type": "keyDown", "value": modifier}, {"type": "keyDown", "value": key},
                   {"type": "keyUp", "value": key}, {"type": "keyUp", "value": modifier}]
        self.command("input.performActions", context=context,
                     actions=[{"type": "key", "id": "keyboard", "actions": actions}])

    def close(self) -> None:
        async def shut():
            await self._ws.close()
            await self._session.close()
        try:
            self._run(shut())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)


def launch_firefox(profile: Path, home: Path, log_path: Path) -> tuple[Proc, int]:
    """Headless Firefox ESR on `profile`, with HOME=`home` (where it looks for native
    messaging host manifests: ~/.mozilla/native-messaging-hosts)."""
    profile.mkdir(parents=True, exist_ok=True)
    (profile / "user.js").write_text(
        "".join(f"user_pref({json.dumps(k)}, {json.dumps(v)});\n" for k, v in PROFILE_PREFS.items()))
    port = free_port()
    env = {"HOME": str(home), "PATH": "/usr/bin:/bin", "MOZ_HEADLESS": "1"}
    proc = Proc([FIREFOX, "--headless", "--no-remote", "--profile", str(profile),
                 f"--remote-debugging-port={port}", "about:blank"], log_path, env=env)
    return proc, port
