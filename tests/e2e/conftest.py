"""Real-browser fixtures: a local HTTPS server reached as https://chatgpt.com/ and
https://claude.ai/ (self-signed cert, --host-resolver-rules), and Debian's Chromium with
the real extension loaded through Playwright."""
from __future__ import annotations

import functools
import http.server
import os
import shutil
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
from playwright.sync_api import BrowserContext, Page, sync_playwright

from extension_bridge.extension_id import EXTENSION_DIR, committed_extension_id

REPO = Path(__file__).resolve().parents[2]
SITE = Path(__file__).resolve().parent / "site"
CHROMIUM = "/usr/lib/chromium/chromium"
AI_HOSTS = ("chatgpt.com", "claude.ai")


class _SiteHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass

    def send_head(self):  # every path (/, /new, /c/123) is the one test page
        self.path = "/index.html"
        return super().send_head()


@pytest.fixture(scope="session")
def https_port(tmp_path_factory) -> Iterator[int]:
    certs = tmp_path_factory.mktemp("certs")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-keyout", str(certs / "key.pem"), "-out", str(certs / "cert.pem"), "-subj", "/CN=shadowmap-test",
         "-addext", "subjectAltName=" + ",".join(f"DNS:{h}" for h in AI_HOSTS)],
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
            rules = ", ".join(f"MAP {host} 127.0.0.1:{https_port}" for host in AI_HOSTS)
            context = pw.chromium.launch_persistent_context(
                str(user_data_dir), executable_path=CHROMIUM, headless=False,
                args=["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                      "--disable-component-update", "--disable-sync", "--no-first-run",
                      f"--disable-extensions-except={EXTENSION_DIR}", f"--load-extension={EXTENSION_DIR}",
                      f"--host-resolver-rules={rules}", "--ignore-certificate-errors"],
                ignore_default_args=["--disable-extensions"], ignore_https_errors=True)
            contexts.append(context)
            worker = context.service_workers[0] if context.service_workers else context.wait_for_event(
                "serviceworker", timeout=15000)
            assert worker.url.split("/")[2] == committed_extension_id()
            for host in AI_HOSTS:
                context.grant_permissions(["clipboard-read", "clipboard-write"], origin=f"https://{host}")
            return context
        yield launch
        for context in contexts:
            context.close()


def open_ai_page(context: BrowserContext, url: str) -> Page:
    page = context.pages[0] if context.pages else context.new_page()
    page.goto(url)
    page.wait_for_function("document.documentElement.dataset.shadowmapLoaded === '1'", timeout=10000)
    return page


def real_paste(page: Page, selector: str, text: str) -> str:
    """A trusted Ctrl+V of `text` into `selector`; returns the extension's decision."""
    page.evaluate("() => { delete document.documentElement.dataset.shadowmapDecision;"
                  " document.querySelectorAll('shadowmap-banner').forEach(b => b.remove()); }")
    page.evaluate("t => navigator.clipboard.writeText(t)", text)
    page.click(selector)
    page.keyboard.press("Control+V")
    page.wait_for_function("document.documentElement.dataset.shadowmapDecision", timeout=20000)
    return page.evaluate("document.documentElement.dataset.shadowmapDecision")


def editor_text(page: Page, selector: str) -> str:
    return page.eval_on_selector(selector, "e => e.value !== undefined ? e.value : e.innerText")


def banner_kind(page: Page) -> str | None:
    return page.evaluate("(document.querySelector('shadowmap-banner') || {dataset: {}}).dataset.kind || null")


def banner_text(page: Page) -> str:
    """The banner's text, read through the DevTools protocol: its shadow root is closed, so
    page scripts (and Playwright's selectors) cannot see into it."""
    cdp = page.context.new_cdp_session(page)
    try:
        tree = cdp.send("DOM.getDocument", {"depth": -1, "pierce": True})
    finally:
        cdp.detach()
    texts: list[str] = []

    def walk(node: dict, inside: bool) -> None:
        inside = inside or node.get("localName") == "shadowmap-banner"
        if inside and node.get("nodeType") == 3:
            texts.append(node.get("nodeValue", ""))
        for child in node.get("children", []) + node.get("shadowRoots", []):
            if child.get("localName") != "style":
                walk(child, inside)

    walk(tree["root"], False)
    return " ".join(texts)


@pytest.fixture
def ui() -> SimpleNamespace:
    """The helpers as a fixture: test modules are imported by path, not as a package."""
    return SimpleNamespace(open=open_ai_page, paste=real_paste, text=editor_text, banner_kind=banner_kind,
                           banner_text=banner_text, install_bridge=install_bridge)


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
