"""Real-browser fixtures: a local HTTPS server reached as https://chatgpt.com/,
https://claude.ai/, an uncatalogued https://llm-playground.example.net/ and the vendors'
sign-in and tool hosts the tenant-header and account tests need (SIGN_IN_HOSTS; self-signed
cert, --host-resolver-rules), serving a page with the REAL ProseMirror editor from npm
(site/package.json: `npm ci --prefix tests/e2e/site`), and Debian's Chromium with the real
extension loaded through Playwright."""
from __future__ import annotations

import contextlib
import functools
import http.server
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from playwright.sync_api import BrowserContext, Page, Playwright, sync_playwright

from shadowmap.bridge.extension_id import EXTENSION_DIR, committed_extension_id
from shadowmap.ipc import framing

REPO = Path(__file__).resolve().parents[2]
SITE = Path(__file__).resolve().parent / "site"
CHROMIUM = "/usr/lib/chromium/chromium"
UNKNOWN_AI_HOST = "llm-playground.example.net"    # an AI-like page outside the catalog
AI_HOSTS = ("chatgpt.com", "claude.ai", UNKNOWN_AI_HOST)
# where the vendors' tenant-restriction headers go (schema/host.v1.json tenant_restrictions),
# hosts next to them that must not get them, and catalogued tools' pages for the account tests
SIGN_IN_HOSTS = ("login.microsoftonline.com", "login.microsoft.com", "login.windows.net",
                 "device.login.microsoftonline.com", "login.live.com", "accounts.google.com",
                 "gemini.google.com", "copilot.microsoft.com", "api.anthropic.com", "www.anthropic.com")
MAPPED_HOSTS = AI_HOSTS + SIGN_IN_HOSTS
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"   # screenshots (gitignored)
SITE_FILES = ("/static/", "/node_modules/")


class _SiteHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self):
        if self.path.startswith("/__headers"):   # what the browser sent, for header tests
            body = json.dumps({k.lower(): v for k, v in self.headers.items()}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        super().do_GET()

    def send_head(self):  # every other path (/, /new, /c/123) is the one test page
        if not self.path.startswith(SITE_FILES) or ".." in self.path:
            self.path = "/index.html"
        return super().send_head()


@pytest.fixture(scope="session")
def https_port(tmp_path_factory) -> Iterator[int]:
    assert (SITE / "node_modules" / "prosemirror-view").is_dir(), \
        "the test page needs the ProseMirror packages: run `npm ci --prefix tests/e2e/site`"
    certs = tmp_path_factory.mktemp("certs")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-keyout", str(certs / "key.pem"), "-out", str(certs / "cert.pem"), "-subj", "/CN=shadowmap-test",
         "-addext", "subjectAltName=" + ",".join(f"DNS:{h}" for h in MAPPED_HOSTS)],
        check=True, capture_output=True, timeout=60)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_SiteHandler, directory=str(SITE)))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certs / "cert.pem", certs / "key.pem")
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.fixture
def short_dir() -> Iterator[Path]:
    # Unix socket paths are limited to ~108 bytes; pytest's tmp_path can be longer
    path = Path(tempfile.mkdtemp(prefix="sme-", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def install_bridge(user_data_dir: Path, socket_path: Path, launcher_dir: Path) -> None:
    """The real `shadowmap bridge install`, registering the host for this profile only."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHADOWMAP_")}
    subprocess.run([sys.executable, "-m", "shadowmap.cli", "bridge", "install", "--browser", "chromium",
                    "--user-data-dir", str(user_data_dir), "--socket", str(socket_path),
                    "--launcher-dir", str(launcher_dir)],
                   check=True, capture_output=True, env=env, cwd=REPO, timeout=60)


@pytest.fixture
def launch_chromium(https_port: int) -> Iterator[Callable[[Path], BrowserContext]]:
    """Start Chromium on a profile dir with the extension; closed at teardown, even on failure."""
    contexts: list[BrowserContext] = []
    with sync_playwright() as pw:
        def launch(user_data_dir: Path) -> BrowserContext:
            context = launch_guarded_context(pw, user_data_dir, https_port)
            contexts.append(context)
            return context
        yield launch
        for context in contexts:
            context.close()


def launch_guarded_context(pw: Playwright, user_data_dir: Path, https_port: int) -> BrowserContext:
    """Chromium on a profile dir with the extension loaded, the AI hostnames mapped to the
    local test site, clipboard access granted."""
    rules = ", ".join(f"MAP {host} 127.0.0.1:{https_port}" for host in MAPPED_HOSTS)
    context = pw.chromium.launch_persistent_context(
        str(user_data_dir), executable_path=CHROMIUM, headless=False,
        args=["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
              "--disable-component-update", "--disable-sync", "--no-first-run",
              f"--disable-extensions-except={EXTENSION_DIR}", f"--load-extension={EXTENSION_DIR}",
              f"--host-resolver-rules={rules}", "--ignore-certificate-errors"],
        ignore_default_args=["--disable-extensions"], ignore_https_errors=True)
    try:
        worker = context.service_workers[0] if context.service_workers else context.wait_for_event(
            "serviceworker", timeout=30000)
        assert worker.url.split("/")[2] == committed_extension_id()
        for host in AI_HOSTS:
            context.grant_permissions(["clipboard-read", "clipboard-write"], origin=f"https://{host}")
    except BaseException:
        context.close()
        raise
    return context


def open_ai_page(context: BrowserContext, url: str, page: Page | None = None) -> Page:
    page = page or (context.pages[0] if context.pages else context.new_page())
    page.goto(url)
    page.wait_for_function("document.documentElement.dataset.shadowmapLoaded === '1' && window.pageReady",
                           timeout=20000)
    return page


def reset(page: Page) -> None:
    """Forget the last decision and remove any banner before the next action."""
    page.evaluate("() => { delete document.documentElement.dataset.shadowmapDecision;"
                  " document.querySelectorAll('shadowmap-banner').forEach(b => b.remove()); }")


def start_paste(page: Page, selector: str, text: str) -> None:
    """A trusted Ctrl+V of `text` into `selector`."""
    reset(page)
    page.evaluate("t => navigator.clipboard.writeText(t)", text)
    page.click(selector)
    page.keyboard.press("Control+V")


def decision(page: Page) -> str:
    """Wait for the extension's final decision on the last action and return it."""
    page.wait_for_function("document.documentElement.dataset.shadowmapDecision", timeout=20000)
    return page.evaluate("document.documentElement.dataset.shadowmapDecision")


def real_paste(page: Page, selector: str, text: str) -> str:
    """A trusted Ctrl+V of `text` into `selector`; returns the extension's decision."""
    start_paste(page, selector, text)
    return decision(page)


def editor_text(page: Page, selector: str) -> str:
    return page.eval_on_selector(selector, "e => e.value !== undefined ? e.value : e.innerText")


def banner_kind(page: Page) -> str | None:
    return page.evaluate("(document.querySelector('shadowmap-banner') || {dataset: {}}).dataset.kind || null")


def _shadow_tree(page: Page) -> dict:
    cdp = page.context.new_cdp_session(page)
    try:
        return cdp.send("DOM.getDocument", {"depth": -1, "pierce": True})["root"]
    finally:
        cdp.detach()


def shadow_text(page: Page, host_tag: str) -> str:
    """The text inside a closed shadow root, read through the DevTools protocol: page
    scripts (and Playwright's selectors) cannot see into it."""
    texts: list[str] = []

    def walk(node: dict, inside: bool) -> None:
        inside = inside or node.get("localName") == host_tag
        if inside and node.get("nodeType") == 3:
            texts.append(node.get("nodeValue", ""))
        for child in node.get("children", []) + node.get("shadowRoots", []):
            if child.get("localName") != "style":
                walk(child, inside)

    walk(_shadow_tree(page), False)
    return " ".join(texts)


def banner_text(page: Page) -> str:
    return shadow_text(page, "shadowmap-banner")


def wait_dialog(page: Page, state: str = "asking") -> str:
    """Wait for the warn dialog; returns its text."""
    page.wait_for_function(f"(document.querySelector('shadowmap-dialog') || {{dataset: {{}}}}).dataset.state === {state!r}",
                           timeout=20000)
    return shadow_text(page, "shadowmap-dialog")


def dialog_click(page: Page, role: str) -> None:
    """A real mouse click on a dialog control (found by data-role through the DevTools
    protocol, since the page cannot reach into the closed shadow root)."""
    found: list[int] = []

    def walk(node: dict) -> None:
        attrs = node.get("attributes", [])
        if "data-role" in attrs[::2] and attrs[attrs.index("data-role") + 1] == role:
            found.append(node["backendNodeId"])
        for child in node.get("children", []) + node.get("shadowRoots", []):
            walk(child)

    walk(_shadow_tree(page))
    assert len(found) == 1, f"dialog control {role!r}: {found}"
    cdp = page.context.new_cdp_session(page)
    try:
        quad = cdp.send("DOM.getBoxModel", {"backendNodeId": found[0]})["model"]["content"]
    finally:
        cdp.detach()
    page.mouse.click(sum(quad[0::2]) / 4, sum(quad[1::2]) / 4)


def send_anyway(page: Page, justification: str) -> None:
    """Answer the warn dialog like a user: Send anyway, type the reason, Send anyway."""
    dialog_click(page, "send")
    wait_dialog(page, "justifying")
    page.keyboard.type(justification)
    dialog_click(page, "send")


def screenshot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


@pytest.fixture
def ui() -> SimpleNamespace:
    """The helpers as a fixture: test modules are imported by path, not as a package."""
    return SimpleNamespace(open=open_ai_page, paste=real_paste, start_paste=start_paste, decision=decision,
                           reset=reset, text=editor_text, banner_kind=banner_kind, banner_text=banner_text,
                           wait_dialog=wait_dialog, dialog_click=dialog_click, send_anyway=send_anyway,
                           screenshot=screenshot, install_bridge=install_bridge,
                           SECRET_VALUE=SECRET_VALUE, REDACT_MARK=REDACT_MARK, UNKNOWN_AI_HOST=UNKNOWN_AI_HOST)


class ServiceProcess:
    """A real `shadowmap ...` subprocess: stdout lines are collected by a thread so the test
    can wait (bounded) for a readiness line; stderr goes to a log file for diagnosis."""

    def __init__(self, args: list[str], log_path: Path, env: dict[str, str] | None = None):
        self.log_path = log_path
        self.lines: list[str] = []
        self._new_line = threading.Condition()
        base_env = {k: v for k, v in os.environ.items() if not k.startswith("SHADOWMAP_")}
        with open(log_path, "wb") as log_file:
            self.proc = subprocess.Popen([sys.executable, "-m", "shadowmap.cli", *args], cwd=REPO,
                                         stdout=subprocess.PIPE, stderr=log_file, env={**base_env, **(env or {})})
        threading.Thread(target=self._read_stdout, daemon=True).start()

    def _read_stdout(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            with self._new_line:
                self.lines.append(raw.decode("utf-8", "replace").rstrip("\n"))
                self._new_line.notify_all()
        with self._new_line:
            self._new_line.notify_all()

    def wait_for_line(self, prefix: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        with self._new_line:
            while True:
                for line in self.lines:
                    if line.startswith(prefix):
                        return line
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    raise AssertionError(f"no {prefix!r} line (exit code {self.proc.poll()}); log:\n{self.log_tail()}")
                self._new_line.wait(min(left, 0.5))

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_path.read_text("utf-8", "replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=15)


@pytest.fixture
def services() -> Iterator[Callable[..., ServiceProcess]]:
    """Start real shadowmap services; every one is stopped at teardown, even on failure."""
    started: list[ServiceProcess] = []

    def start(args: list[str], log_path: Path, env: dict[str, str] | None = None) -> ServiceProcess:
        service = ServiceProcess(args, log_path, env)
        started.append(service)
        return service

    yield start
    for service in reversed(started):
        service.stop()


SECRET_VALUE = "AKIAQ7ZXW3RT5YUP2MNB"
SCRIPTED_FINDINGS = {
    "block": [{"entity_type": "AWS_ACCESS_KEY", "data_class": "secret", "count": 1, "reason": "AWS access key"},
              {"entity_type": "EMAIL_ADDRESS", "data_class": "pii", "count": 1, "reason": "email"}],
    "warn": [{"entity_type": "PERSON", "data_class": "pii", "count": 1, "reason": "person"}],
    "redact": [{"entity_type": "EMAIL_ADDRESS", "data_class": "pii", "count": 1, "reason": "email"}],
    "allow": [],
}
REDACT_MARK = "jane@acme-corp.com"


def scripted_action(text: str) -> str:
    """The scripted agent's policy, by markers in the text."""
    return ("block" if "AKIA" in text else "warn" if "Dr." in text
            else "redact" if REDACT_MARK in text else "allow")


class ScriptedAgent:
    """Answers on a Unix socket like the agent, deciding by scripted_action(); records
    every request. Stands in for the real agent (which is in test_browser_paste.py) so the
    channel x action matrix runs in seconds. stop()/start() simulate the agent going down."""

    def __init__(self, path: Path, offline_modes: dict | None = None):
        self.path = path
        self.received: list[dict] = []
        self.event_ids: list[str] = []      # of the verdicts, in order
        self.offline_modes = offline_modes or {"default": "fail_open", "secret": "fail_closed", "pii": "fail_open",
                                               "payment": "fail_closed", "production": "fail_open"}
        self.tenant_restrictions: dict | None = None     # what the policy reply hands the extension
        self._server: socket.socket | None = None
        self._conns: list[socket.socket] = []
        self.connections = 0                # accepted so far (one per native-host process)

    def reply_to(self, request: dict) -> dict:
        kind = request.get("type")
        if kind == "scan":
            action = scripted_action(request["text"])
            reply = {"type": "verdict", "action": action, "reason": f"policy says {action}",
                     "findings": SCRIPTED_FINDINGS[action], "event_id": f"ev-{len(self.received)}"}
            self.event_ids.append(reply["event_id"])
            if action == "redact":
                reply["redacted_text"] = request["text"].replace(REDACT_MARK, "<EMAIL_1>")
            return reply
        if kind == "policy":
            reply = {"type": "policy", "on_agent_unavailable": self.offline_modes}
            return {**reply, "tenant_restrictions": self.tenant_restrictions} if self.tenant_restrictions else reply
        return {"type": "ack"}

    def _serve(self, conn: socket.socket) -> None:
        try:
            with conn.makefile("rb") as reader:
                while (request := framing.read_frame(reader)) is not None:
                    self.received.append(request)
                    conn.sendall(framing.encode({**self.reply_to(request), "id": request.get("id")}))
        except (OSError, framing.FrameError):
            pass
        finally:
            conn.close()

    def _accept(self, server: socket.socket) -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            self._conns.append(conn)
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def start(self) -> None:
        self.path.unlink(missing_ok=True)
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        server.bind(str(self.path))
        server.listen()
        self._server = server
        threading.Thread(target=self._accept, args=(server,), daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for conn in self._conns:
            with contextlib.suppress(OSError):      # already closed by the peer
                conn.shutdown(socket.SHUT_RDWR)
        self._conns.clear()
        self.path.unlink(missing_ok=True)

    def requests(self, kind: str) -> list[dict]:
        return [r for r in self.received if r.get("type") == kind]


@pytest.fixture
def scripted_agent(short_dir: Path) -> Iterator[ScriptedAgent]:
    agent = ScriptedAgent(short_dir / "agent.sock")
    agent.start()
    yield agent
    agent.stop()


@pytest.fixture
def guarded_browser(launch_chromium, scripted_agent, short_dir, tmp_path):
    """Chromium with the extension, its host registered against the scripted agent."""
    udd = tmp_path / "profile"
    install_bridge(udd, scripted_agent.path, tmp_path / "bin")
    return launch_chromium(udd)


# ---- the real stack, once per module: collector + enrolled agent (Presidio/spaCy) + Chromium

ENGINE_LOAD_TIMEOUT_S = 180   # the agent loads and verifies the spaCy model before it listens
POLICY_PULL_TIMEOUT_S = 30


class FullStack:
    """The real collector, a real agent enrolled with it and pulling its policy every
    second, and Chromium whose native host talks to that agent. Built once per module:
    the agent's start-up (spaCy) is the expensive part."""

    def __init__(self, root: Path, socket_dir: Path):
        self.root = root
        self.collector_dir, self.state_dir, self.log_dir = root / "collector", root / "agent-state", root / "logs"
        for path in (self.collector_dir, self.log_dir):
            path.mkdir()
        self.db_path = self.collector_dir / "collector.db"
        self.socket_path = socket_dir / "agent.sock"
        self.services: list[ServiceProcess] = []
        self.context: BrowserContext | None = None

    def _start(self, args: list[str], log_name: str) -> ServiceProcess:
        service = ServiceProcess(args, self.log_dir / log_name)
        self.services.append(service)
        return service

    def start_services(self) -> None:
        self.collector = self._start(["collector", "serve", "--db", str(self.db_path), "--host", "127.0.0.1",
                                      "--port", "0"], "collector.log")
        self.url = self.collector.wait_for_line("listening on http://", timeout=60).split("listening on ", 1)[1].strip()
        enroll = self._start(["agent", "enroll", "--collector", self.url, "--secret-file",
                              str(self.collector_dir / "enroll_secret"), "--state-dir", str(self.state_dir)],
                             "enroll.log")
        assert enroll.proc.wait(timeout=60) == 0, enroll.log_tail()
        self.agent = self._start(["agent", "run", "--state-dir", str(self.state_dir), "--socket", str(self.socket_path),
                                  "--collector", self.url, "--upload-interval", "0.5", "--backoff-max", "2",
                                  "--policy-refresh-interval", "1"], "agent.log")
        self.agent.wait_for_line("agent ready on", timeout=ENGINE_LOAD_TIMEOUT_S)

    def set_policy(self, policy: dict) -> str:
        """Replace the collector's policy as an admin would (`shadowmap collector policy
        set`, validated and recorded), then wait until the agent has pulled it. Returns the
        policy's ETag."""
        result = subprocess.run(
            [sys.executable, "-m", "shadowmap.cli", "collector", "policy", "set", "--db", str(self.db_path),
             "--actor", "e2e-admin", "-"],
            input=json.dumps(policy), capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        etag = result.stdout.split("ETag ", 1)[1].split(";", 1)[0]
        cache = self.state_dir / "policy.json"   # the agent's copy of the last policy it pulled
        deadline = time.monotonic() + POLICY_PULL_TIMEOUT_S
        while True:
            try:
                if json.loads(cache.read_text("utf-8")).get("etag") == etag:
                    return etag
            except (OSError, ValueError):
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"the agent did not pull policy {etag} in {POLICY_PULL_TIMEOUT_S}s:\n"
                                     f"{self.agent.log_tail()}")
            time.sleep(0.2)

    def stored_files(self) -> list[Path]:
        """Every file the collector and the agent wrote: databases, -wal/-shm, caches, logs."""
        return sorted(p for d in (self.collector_dir, self.state_dir, self.log_dir) for p in d.rglob("*") if p.is_file())

    def stop_services(self) -> None:
        for service in reversed(self.services):
            service.stop()


@pytest.fixture(scope="module")
def full_stack(https_port: int, tmp_path_factory) -> Iterator[FullStack]:
    socket_dir = Path(tempfile.mkdtemp(prefix="smf-", dir="/tmp"))   # short: Unix socket path limit
    stack = FullStack(tmp_path_factory.mktemp("full-stack"), socket_dir)
    try:
        stack.start_services()
        install_bridge(stack.root / "profile", stack.socket_path, stack.root / "bin")
        with sync_playwright() as pw:
            stack.context = launch_guarded_context(pw, stack.root / "profile", https_port)
            try:
                yield stack
            finally:
                stack.context.close()
    finally:
        stack.stop_services()
        shutil.rmtree(socket_dir, ignore_errors=True)
