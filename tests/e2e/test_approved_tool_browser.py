"""An approved tool reaches the extension without a rebuild, in real Chromium: a host outside
the catalog (https://llm-playground.example.net/, so only the unknown-AI script runs there)
is approved in the collector's unknown-tools queue; the agent pulls the policy, hands the
extension its approved_domains, and the service worker registers the guard scripts for that
host at run time (dynamic_guard.js). From then on a paste of a secret there is blocked. When
the policy drops the host, the registration goes and the page is unguarded again.

The worker refreshes the policy when it starts and every few minutes (an alarm); here it is
restarted through the DevTools protocol, as Chrome does by itself when it is idle."""
from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from playwright.sync_api import BrowserContext, Page

from .conftest import (
    REPO,
    SECRET_VALUE,
    UNKNOWN_AI_HOST,
    ScriptedAgent,
    decision,
    editor_text,
    install_bridge,
    start_paste,
)

pytestmark = pytest.mark.browser
APPROVED_PAGE = f"https://{UNKNOWN_AI_HOST}/chat"
GUARD_BOUND_S = 30
QUEUE_BOUND_S = 60
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class ApprovingAgent(ScriptedAgent):
    """The scripted agent, whose policy reply also names approved domains."""

    approved_domains: list[str] = []

    def reply_to(self, request: dict) -> dict:
        reply = super().reply_to(request)
        if request.get("type") == "policy" and self.approved_domains:
            reply["approved_domains"] = list(self.approved_domains)
        return reply


@pytest.fixture
def approving_agent(short_dir: Path) -> Iterator[ApprovingAgent]:
    agent = ApprovingAgent(short_dir / "agent.sock")
    agent.start()
    yield agent
    agent.stop()


def restart_worker(context: BrowserContext, page: Page) -> None:
    """Stop the extension's service worker (Chrome stops idle workers on its own), then
    wake it with a catalogued page, whose guard reports the visit: the new worker refreshes
    the policy as it starts."""
    cdp = context.new_cdp_session(page)
    try:
        cdp.send("ServiceWorker.enable")
        cdp.send("ServiceWorker.stopAllWorkers")
    finally:
        cdp.detach()
    waker = context.new_page()
    waker.goto("https://chatgpt.com/")
    waker.wait_for_function("document.documentElement.dataset.shadowmapLoaded === '1'", timeout=20000)
    waker.close()


def guarded(page: Page) -> bool:
    page.goto(APPROVED_PAGE)
    page.wait_for_function("window.pageReady", timeout=20000)
    page.wait_for_timeout(200)     # document_start scripts have run by pageReady; margin for the dataset
    return page.evaluate("document.documentElement.dataset.shadowmapLoaded") == "1"


def wait_guarded(page: Page, expected: bool) -> None:
    deadline = time.monotonic() + GUARD_BOUND_S
    while guarded(page) != expected:
        assert time.monotonic() < deadline, f"{UNKNOWN_AI_HOST} still {'un' if expected else ''}guarded " \
                                            f"after {GUARD_BOUND_S}s"
        time.sleep(0.5)


def test_approved_domains_from_the_policy_guard_and_unguard_a_host(launch_chromium, approving_agent, tmp_path):
    profile = tmp_path / "profile"
    install_bridge(profile, approving_agent.path, tmp_path / "bin")
    browser = launch_chromium(profile)
    page = browser.pages[0] if browser.pages else browser.new_page()
    assert not guarded(page)                                        # outside the catalog: unknown-AI script only
    # the worker also refreshes the policy on an alarm, without anything being pasted
    [worker] = browser.service_workers
    alarm = worker.evaluate("chrome.alarms.get('shadowmap-policy')")
    assert alarm and alarm["periodInMinutes"] == 5, alarm

    approving_agent.approved_domains = [UNKNOWN_AI_HOST]
    restart_worker(browser, page)
    wait_guarded(page, True)
    start_paste(page, "#ta", f"deploy with {SECRET_VALUE}")
    assert decision(page) == "block"
    assert SECRET_VALUE not in editor_text(page, "#ta")
    [scan] = [r for r in approving_agent.requests("scan") if UNKNOWN_AI_HOST in r["url"]]
    assert scan["url"] == APPROVED_PAGE
    page.fill("#ta", "")
    prompt = "Summarise this contract clause by clause. " * 40      # prompt-sized: elsewhere an unknown-AI signal
    start_paste(page, "#ta", prompt)
    assert decision(page) == "allow" and editor_text(page, "#ta") == prompt
    assert not approving_agent.requests("unknown_signal")           # an approved tool is not unknown

    approving_agent.approved_domains = []                            # the policy drops it
    restart_worker(browser, page)
    wait_guarded(page, False)


# ---- the real stack: the collector's unknown-tools queue, the real agent and native host

def admin_session(url: str, db_path: Path) -> requests.Session:
    """An admin account made with `shadowmap collector account create`, signed in to the console."""
    password = "approved tool test admin password"
    made = subprocess.run([sys.executable, "-m", "shadowmap.cli", "collector", "account", "create", "secadmin",
                           "--role", "admin", "--db", str(db_path)], input=password + "\n", cwd=REPO,
                          capture_output=True, text=True, timeout=60)
    assert made.returncode == 0, made.stderr
    session = requests.Session()
    token = CSRF.search(session.get(f"{url}/login", timeout=30).text).group(1)
    response = session.post(f"{url}/login", data={"csrf_token": token, "username": "secadmin", "password": password},
                            allow_redirects=False, timeout=30)
    assert response.status_code == 303, response.text[:300]
    return session


def test_a_host_approved_in_the_unknown_tools_queue_is_guarded_without_a_rebuild(full_stack):
    browser = full_stack.context
    page = browser.new_page()
    assert not guarded(page)
    prompt = "Summarise this contract clause by clause. " * 40      # a prompt-sized paste: the unknown-AI signal
    page.evaluate("t => navigator.clipboard.writeText(t)", prompt)
    page.click("#ta")
    page.keyboard.press("Control+V")
    assert editor_text(page, "#ta") == prompt                       # not stopped: nothing guards it yet

    console = admin_session(full_stack.url, full_stack.db_path)
    deadline = time.monotonic() + QUEUE_BOUND_S
    while UNKNOWN_AI_HOST not in (queue := console.get(f"{full_stack.url}/unknown-tools", timeout=30)).text:
        assert time.monotonic() < deadline, f"{UNKNOWN_AI_HOST} never reached the unknown-tools queue"
        time.sleep(0.5)
    approved = console.post(f"{full_stack.url}/unknown-tools/decide", allow_redirects=False, timeout=30, data={
        "csrf_token": CSRF.search(queue.text).group(1), "kind": "domain", "name": UNKNOWN_AI_HOST,
        "decision": "approved", "vendor": "LLM Playground Inc."})
    assert approved.status_code == 303, approved.text[:300]

    policy_cache = full_stack.state_dir / "policy.json"              # the agent pulls every second
    deadline = time.monotonic() + QUEUE_BOUND_S
    while UNKNOWN_AI_HOST not in policy_cache.read_text("utf-8"):
        assert time.monotonic() < deadline, f"the agent did not pull the approval:\n{full_stack.agent.log_tail()}"
        time.sleep(0.5)

    restart_worker(browser, page)
    wait_guarded(page, True)
    page.fill("#ta", "")
    start_paste(page, "#ta", f"aws_access_key_id = {SECRET_VALUE}")
    assert decision(page) == "block"
    assert SECRET_VALUE not in editor_text(page, "#ta")
    page.close()


# ---- Firefox ESR: the same registration in the Firefox build (a background script, not a worker)

ENTER = "\ue007"


def test_firefox_guards_an_approved_host_too(tmp_path, approving_agent, https_port):
    from e2e.firefox_bidi import decision as firefox_decision
    from e2e.firefox_bidi import guarded_firefox

    approving_agent.approved_domains = [UNKNOWN_AI_HOST]      # the background script reads it when it starts
    with guarded_firefox(tmp_path, approving_agent.path) as (bidi, context):
        url = f"https://{UNKNOWN_AI_HOST}:{https_port}/chat"
        deadline = time.monotonic() + GUARD_BOUND_S
        while True:
            bidi.command("browsingContext.navigate", context=context, url=url, wait="complete")
            bidi.wait_for(context, "window.pageReady === true")
            if bidi.evaluate(context, "document.documentElement.dataset.shadowmapLoaded || null") == "1":
                break
            assert time.monotonic() < deadline, f"{UNKNOWN_AI_HOST} not guarded in Firefox after {GUARD_BOUND_S}s"
            time.sleep(0.5)
        bidi.evaluate(context, "document.getElementById('ta').focus()")
        bidi.type_keys(context, f"key {SECRET_VALUE}{ENTER}")
        assert firefox_decision(bidi, context) == "block"
        assert bidi.evaluate(context, "window.sent") == []
        assert [s["url"] for s in approving_agent.requests("scan")] == [f"https://{UNKNOWN_AI_HOST}:{https_port}/chat"]
