"""Debian's Firefox ESR driven over WebDriver BiDi (`--remote-debugging-port`), for the
real-Firefox tests: Playwright only drives its own patched Firefox builds. A small
synchronous client over aiohttp's WebSocket (a background event loop), the launch of a
headless Firefox on a throw-away profile and HOME (every hostname resolved to loopback),
and `guarded_firefox()`: that Firefox with the extension's Firefox build installed and its
native host registered by the real `shadowmap bridge install --browser firefox`."""
from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp
from support.processes import Proc

from shadowmap.bridge.build_extension import FIREFOX_ADDON_ID, build_firefox

REPO = Path(__file__).resolve().parents[2]

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

    def write_clipboard(self, context: str, text: str, html: str | None = None) -> None:
        """Put `text` (and `html`, as text/html) on the system clipboard from the page, as a
        site's "copy" button does: navigator.clipboard with user activation (script.evaluate's
        userActivation). Headless Firefox keeps its own in-memory clipboard."""
        if html is None:
            expression = f"navigator.clipboard.writeText({json.dumps(text)})"
        else:
            blobs = {"text/plain": text, "text/html": html}
            expression = ("navigator.clipboard.write([new ClipboardItem(Object.fromEntries(Object.entries("
                          f"{json.dumps(blobs)}).map(([type, body]) => [type, new Blob([body], {{type}})])))])")
        result = self.command("script.evaluate", expression=expression,
                              target={"context": context}, awaitPromise=True, userActivation=True)
        if result.get("type") == "exception":
            raise BiDiError(f"clipboard.writeText: {result['exceptionDetails'].get('text')}")

    def node(self, context: str, selector: str, shadow: bool = False) -> dict:
        """The page element at `selector`, serialized by BiDi (its `sharedId` names it in
        later commands). shadow=True serializes its whole subtree including CLOSED shadow
        roots: the driver may look inside them, page scripts may not."""
        options = {"maxDomDepth": None, "includeShadowTree": "all"} if shadow else {}
        result = self.command("script.evaluate", expression=f"document.querySelector({json.dumps(selector)})",
                              target={"context": context}, awaitPromise=False, serializationOptions=options)
        if result.get("type") == "exception":
            raise BiDiError(result["exceptionDetails"].get("text"))
        if result["result"].get("type") != "node":
            raise BiDiError(f"no element matches {selector}")
        return result["result"]

    def shadow_text(self, context: str, host_selector: str) -> str:
        """The text inside the host's (closed) shadow root, style sheets left out."""
        texts: list[str] = []

        def walk(node: dict) -> None:
            value = node.get("value", {})
            if value.get("nodeType") == 3:
                texts.append(value.get("nodeValue", ""))
            if value.get("localName") == "style":
                return
            for child in value.get("children") or []:
                walk(child)
            if value.get("shadowRoot"):
                walk(value["shadowRoot"])

        walk(self.node(context, host_selector, shadow=True))
        return " ".join(t for t in texts if t.strip())

    def shadow_element(self, context: str, host_selector: str, role: str) -> dict:
        """The element with data-role=`role` inside the host's (closed) shadow root."""
        found: list[dict] = []

        def walk(node: dict) -> None:
            value = node.get("value", {})
            if (value.get("attributes") or {}).get("data-role") == role:
                found.append(node)
            for child in (value.get("children") or []) + ([value["shadowRoot"]] if value.get("shadowRoot") else []):
                walk(child)

        walk(self.node(context, host_selector, shadow=True))
        if len(found) != 1:
            raise BiDiError(f"{len(found)} elements with data-role={role!r} in {host_selector}")
        return found[0]

    def click_element(self, context: str, element: dict) -> None:
        """A trusted mouse click in the middle of a serialized element (even one in a
        closed shadow root, which the page cannot reach)."""
        origin = {"type": "element", "element": {"sharedId": element["sharedId"]}}
        actions = [{"type": "pointerMove", "x": 0, "y": 0, "origin": origin}, {"type": "pointerDown", "button": 0},
                   {"type": "pointerUp", "button": 0}]
        self.command("input.performActions", context=context,
                     actions=[{"type": "pointer", "id": "mouse", "actions": actions}])

    def set_files(self, context: str, selector: str, paths: list[Path]) -> None:
        """Choose files in an <input type=file> as a user would (input.setFiles)."""
        element = self.node(context, selector)
        self.command("input.setFiles", context=context, element={"sharedId": element["sharedId"]},
                     files=[str(p) for p in paths])

    def screenshot(self, context: str, path: Path) -> Path:
        data = self.command("browsingContext.captureScreenshot", context=context)["data"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))
        return path

    def close(self) -> None:
        async def shut():
            await self._ws.close()
            await self._session.close()
        try:
            self._run(shut())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)


def launch_firefox(profile: Path, home: Path, log_path: Path, unsigned: bool = False) -> tuple[Proc, int]:
    """Headless Firefox ESR on `profile`, with HOME=`home` (where it looks for native
    messaging host manifests: ~/.mozilla/native-messaging-hosts); `unsigned` lets it keep an
    unsigned permanent add-on (ESR honours xpinstall.signatures.required)."""
    assert Path(FIREFOX).exists(), f"{FIREFOX} missing: `make test` installs Debian's firefox-esr"
    profile.mkdir(parents=True, exist_ok=True)
    prefs = {**PROFILE_PREFS, "xpinstall.signatures.required": False} if unsigned else PROFILE_PREFS
    (profile / "user.js").write_text(
        "".join(f"user_pref({json.dumps(k)}, {json.dumps(v)});\n" for k, v in prefs.items()))
    port = free_port()
    env = {"HOME": str(home), "PATH": "/usr/bin:/bin", "MOZ_HEADLESS": "1"}
    proc = Proc([FIREFOX, "--headless", "--no-remote", "--profile", str(profile),
                 f"--remote-debugging-port={port}", "about:blank"], log_path, env=env)
    return proc, port


def install_firefox_bridge(home: Path, socket_path: Path, launcher_dir: Path) -> Path:
    """The real `shadowmap bridge install --browser firefox --scope user` under HOME=`home`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHADOWMAP_")}
    subprocess.run([sys.executable, "-m", "shadowmap.cli", "bridge", "install", "--browser", "firefox",
                    "--scope", "user", "--socket", str(socket_path), "--launcher-dir", str(launcher_dir)],
                   check=True, capture_output=True, env={**env, "HOME": str(home)}, cwd=REPO, timeout=60)
    return home / ".mozilla" / "native-messaging-hosts" / "com.shadowmap.bridge.json"


def install_addon(bidi: BiDi, workdir: Path, permanent: bool) -> None:
    """The extension's Firefox build: a temporary add-on (gone when Firefox stops), or a
    permanent one (an .xpi kept in the profile, with its storage and declarativeNetRequest
    rules, across restarts: ESR loads it unsigned with xpinstall.signatures.required off)."""
    addon_dir = build_firefox(workdir / "addon").parent
    if permanent:
        xpi = Path(shutil.make_archive(str(workdir / "addon-build"), "zip", addon_dir))
        data = {"type": "archivePath", "path": str(xpi)}
        installed = bidi.command("webExtension.install", extensionData=data, **{"moz:permanent": True})
    else:
        installed = bidi.command("webExtension.install", extensionData={"type": "path", "path": str(addon_dir)})
    assert installed["extension"] == FIREFOX_ADDON_ID


@contextlib.contextmanager
def guarded_firefox(workdir: Path, agent_socket: Path, permanent: bool = False,
                    install: bool = True) -> Iterator[tuple[BiDi, str]]:
    """Headless Firefox ESR with the extension's Firefox build installed as a temporary
    add-on (or a permanent one: `permanent`; `install=False` restarts a profile that already
    has it) and its native host pointed at `agent_socket`; yields (client, top-level
    context). Firefox is stopped on exit, even on failure."""
    manifest = install_firefox_bridge(workdir / "home", agent_socket, workdir / "bin")
    assert FIREFOX_ADDON_ID in manifest.read_text()
    proc, port = launch_firefox(workdir / "profile", workdir / "home", workdir / "firefox.log", unsigned=permanent)
    bidi = None
    try:
        bidi = BiDi(port)
        bidi.command("session.new", capabilities={"alwaysMatch": {"acceptInsecureCerts": True}})
        if install:
            install_addon(bidi, workdir, permanent)
        yield bidi, bidi.command("browsingContext.getTree")["contexts"][0]["context"]
    finally:
        if bidi is not None:
            bidi.close()
        proc.stop(timeout=20)


def open_ai_page(bidi: BiDi, context: str, url: str) -> None:
    """Navigate and wait until both the page and the extension's content script are ready."""
    bidi.command("browsingContext.navigate", context=context, url=url, wait="complete")
    bidi.wait_for(context, "document.documentElement.dataset.shadowmapLoaded === '1' && window.pageReady === true")


def reset(bidi: BiDi, context: str) -> None:
    """Forget the last decision and remove any banner before the next action."""
    bidi.evaluate(context, "(() => { delete document.documentElement.dataset.shadowmapDecision;"
                           " document.querySelectorAll('shadowmap-banner').forEach(b => b.remove()); })()")


def decision(bidi: BiDi, context: str) -> str:
    """The extension's final decision on the last action (waited for, bounded)."""
    return bidi.wait_for(context, "document.documentElement.dataset.shadowmapDecision")
