"""Real Chromium, real extension and native host, and an agent that goes away: the
extension applies the cached policy's on_agent_unavailable mode per data class (here:
secrets fail closed, everything else fails open), records each decision in
chrome.storage, and uploads them when the agent is back. Also the usage telemetry and the
unknown-AI signal, which share the scripted agent."""
from __future__ import annotations

import pytest
from support.waiting import wait_until

pytestmark = pytest.mark.browser

SECRET_VALUE = "AKIAQ7ZXW3RT5YUP2MNB"


def wait_for(predicate, what: str, timeout: float = 15.0):
    return wait_until(predicate, timeout, what)


def test_agent_down_policy_per_class_then_uploaded(guarded_browser, scripted_agent, ui):
    page = ui.open(guarded_browser, "https://chatgpt.com/")
    assert ui.paste(page, "#ta", "warm up") == "allow"
    wait_for(lambda: scripted_agent.requests("policy"), "the extension to fetch the policy")

    scripted_agent.stop()
    page.fill("#ta", "")
    assert ui.paste(page, "#ta", f"deploy with {SECRET_VALUE}") == "block"
    shown = ui.banner_text(page)
    assert "decided while shadowmap was unavailable" in shown and "secret" in shown
    assert SECRET_VALUE not in shown
    assert ui.text(page, "#ta") == ""
    assert ui.paste(page, "#ta", "mail margaret@northwind-traders.com") == "allow"   # pii fails open
    assert ui.text(page, "#ta") == "mail margaret@northwind-traders.com"

    scripted_agent.start()
    page.fill("#ta", "")
    assert ui.paste(page, "#ta", "agent is back") == "allow"
    uploaded = wait_for(lambda: len(scripted_agent.requests("offline_decision")) >= 2 and
                        scripted_agent.requests("offline_decision"), "the queued decisions")
    assert [(d["action"], d["data_classes"], d["channel"]) for d in uploaded] == [
        ("block", ["secret"], "paste"), ("allow", ["pii"], "paste")]
    assert all(d["url"] == "https://chatgpt.com/" and d["decided_at"].endswith("Z") for d in uploaded)
    assert len({d["decision_id"] for d in uploaded}) == 2
    assert all("text" not in d for d in uploaded)            # the decision, never the content


def test_unchecked_without_any_agent_fails_open_by_default(launch_chromium, short_dir, tmp_path, ui):
    udd = tmp_path / "profile"
    ui.install_bridge(udd, short_dir / "no-agent.sock", tmp_path / "bin")
    page = ui.open(launch_chromium(udd), "https://chatgpt.com/")
    for selector in ("#ta", "#pm"):
        assert ui.paste(page, selector, "hello from a harmless paste") == "allow"
        assert ui.text(page, selector).strip() == "hello from a harmless paste"


def test_usage_and_unknown_ai_signal(guarded_browser, scripted_agent, ui):
    page = ui.open(guarded_browser, "https://claude.ai/chat/0b8e-private-project")
    page.wait_for_timeout(1500)
    page.goto(f"https://{ui.UNKNOWN_AI_HOST}/playground")        # leaving reports the active time
    [usage] = wait_for(lambda: scripted_agent.requests("usage"), "a usage report")
    assert usage["url"] == "https://claude.ai/" and usage["visits"] == 1 and usage["active_seconds"] >= 1

    page.wait_for_function("window.pageReady", timeout=10000)
    assert page.evaluate("document.documentElement.dataset.shadowmapLoaded") is None   # not guarded here
    prompt = "Summarise this contract clause by clause. " * 40
    page.evaluate("t => navigator.clipboard.writeText(t)", prompt)
    page.click("#ta")
    page.keyboard.press("Control+V")
    [signal] = wait_for(lambda: scripted_agent.requests("unknown_signal"), "the unknown-AI signal")
    assert signal == {**signal, "url": f"https://{ui.UNKNOWN_AI_HOST}/", "paste_length": len(prompt),
                      "input_kind": "textarea"}
    assert ui.text(page, "#ta") == prompt                     # never stopped
    assert not scripted_agent.requests("scan")


def test_a_restarted_service_worker_reconnects(guarded_browser, scripted_agent, ui):
    page = ui.open(guarded_browser, "https://chatgpt.com/")
    assert ui.paste(page, "#ta", "before the restart") == "allow"
    connections = scripted_agent.connections
    cdp = guarded_browser.new_cdp_session(page)
    try:
        cdp.send("ServiceWorker.enable")
        cdp.send("ServiceWorker.stopAllWorkers")
    finally:
        cdp.detach()
    page.fill("#ta", "")
    assert ui.paste(page, "#ta", "after the restart") == "allow"
    assert ui.text(page, "#ta") == "after the restart"
    # a new worker opened a new port: a new host process, a new agent connection
    assert scripted_agent.connections > connections
