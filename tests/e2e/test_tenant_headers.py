"""Tenant restriction without interception, in real Chromium: the policy the agent hands the
extension names the company's ChatGPT workspace and Anthropic organisation; the extension sets
the vendors' headers with declarativeNetRequest, and the local HTTPS server standing in for
chatgpt.com and claude.ai sees them on the page's own requests and on navigations. Hosts that
are not the vendor's never get them. The rules outlive the agent: with the agent down, a
restarted browser still sends them; a policy without them takes them away."""
from __future__ import annotations

import json

import pytest

from .conftest import install_bridge, open_ai_page

pytestmark = pytest.mark.browser
WORKSPACE = "ws-8f14e45f-ceea-467a-9f4b-1d2a3c4e5f60"
ORG = "0f8e6c1a-3b2d-4e5f-8a9b-7c6d5e4f3a2b"
TENANT_HEADERS = {"chatgpt-allowed-workspace-id", "anthropic-allowed-org-ids"}


def seen_headers(page) -> dict:
    return page.evaluate("() => fetch('/__headers').then((r) => r.json())")


def test_the_vendors_tenant_headers_are_set_from_policy(launch_chromium, scripted_agent, tmp_path):
    scripted_agent.tenant_restrictions = {"chatgpt_workspace_ids": [WORKSPACE], "anthropic_org_ids": [ORG]}
    profile = tmp_path / "profile"
    install_bridge(profile, scripted_agent.path, tmp_path / "bin")
    browser = launch_chromium(profile)
    chatgpt = open_ai_page(browser, "https://chatgpt.com/")
    chatgpt.wait_for_function("() => fetch('/__headers').then((r) => r.json())"
                              ".then((h) => 'chatgpt-allowed-workspace-id' in h)", timeout=15000)
    headers = seen_headers(chatgpt)
    assert headers["chatgpt-allowed-workspace-id"] == WORKSPACE
    assert "anthropic-allowed-org-ids" not in headers             # Anthropic's header goes to its hosts only

    claude = open_ai_page(browser, "https://claude.ai/", browser.new_page())
    assert seen_headers(claude)["anthropic-allowed-org-ids"] == ORG
    navigation = claude.goto("https://claude.ai/__headers")      # a main-frame navigation carries it too
    assert json.loads(navigation.text())["anthropic-allowed-org-ids"] == ORG
    elsewhere = browser.new_page()                                 # not a vendor's host (nor catalogued)
    elsewhere.goto("https://llm-playground.example.net/")
    assert not TENANT_HEADERS & set(seen_headers(elsewhere))
    browser.close()

    scripted_agent.stop()                                          # the agent is down: the rules hold
    browser = launch_chromium(profile)
    assert seen_headers(open_ai_page(browser, "https://chatgpt.com/", browser.new_page()))[
        "chatgpt-allowed-workspace-id"] == WORKSPACE
    browser.close()

    scripted_agent.tenant_restrictions = None                      # back up, with a policy that drops them
    scripted_agent.start()
    browser = launch_chromium(profile)
    page = open_ai_page(browser, "https://chatgpt.com/", browser.new_page())
    page.wait_for_function("() => fetch('/__headers').then((r) => r.json())"
                           ".then((h) => !('chatgpt-allowed-workspace-id' in h))", timeout=15000)
