"""Tenant restriction without interception, in real Chromium: the policy the agent hands the
extension names the company's ChatGPT workspace and Anthropic organisation; the extension sets
the vendors' headers with declarativeNetRequest, and the local HTTPS server standing in for
chatgpt.com and claude.ai sees them on the page's own requests and on navigations. Hosts that
are not the vendor's never get them. The rules outlive the agent: with the agent down, a
restarted browser still sends them; a policy without them takes them away.

Microsoft's and Google's headers the same way, with the value formats their documentation
gives (docs/browser.md, "Tenant-restriction headers"): Restrict-Access-To-Tenants (a
comma-separated list of tenant domains and directory ids, no spaces) and Restrict-Access-Context
(one directory id) on Entra ID's three sign-in hosts exactly (not device.login.microsoftonline.com),
sec-Restrict-Tenant-Access-Policy: restrict-msa on login.live.com, X-GoogApps-Allowed-Domains (a
comma-separated list of domains) on google.com and its subdomains; tenant restrictions v2's
sec-Restrict-Tenant-Access-Policy: <tenant id>:<policy id> on the four Microsoft sign-in hosts."""
from __future__ import annotations

import json

import pytest

from shadowmap import contract

from .conftest import install_bridge, open_ai_page

pytestmark = pytest.mark.browser
WORKSPACE = "ws-8f14e45f-ceea-467a-9f4b-1d2a3c4e5f60"
ORG = "0f8e6c1a-3b2d-4e5f-8a9b-7c6d5e4f3a2b"
TENANT_HEADERS = {"chatgpt-allowed-workspace-id", "anthropic-allowed-org-ids"}
# Microsoft's example lists a tenant by a verified domain, an onmicrosoft.com name and its id
MS_TENANTS = ["contoso.com", "fabrikam.onmicrosoft.com", "72f988bf-86f1-41af-91ab-2d7cd011db47"]
MS_CONTEXT = "0d7f3e2a-5c1b-4e8f-9a6d-2b3c4d5e6f70"               # the restricting tenant's directory id
GOOGLE_DOMAINS = ["altostrat.com", "tenorstrat.com"]               # Google's own example domains
MS_HEADERS = {"restrict-access-to-tenants", "restrict-access-context", "sec-restrict-tenant-access-policy"}
ENTRA_SIGN_IN = ("login.microsoftonline.com", "login.microsoft.com", "login.windows.net")
TRV2 = "0d7f3e2a-5c1b-4e8f-9a6d-2b3c4d5e6f70:1aaaaaa1-2bb2-3cc3-4dd4-5eeeeeeeeee5"   # <tenant id>:<policy id>


def seen_headers(page) -> dict:
    return page.evaluate("() => fetch('/__headers').then((r) => r.json())")


def headers_at(browser, url: str) -> dict:
    """What the server saw on a fetch from a page at `url` (sign-in hosts are not catalogued:
    no guard script to wait for, only the page's own load)."""
    page = browser.new_page()
    page.goto(url)
    headers = seen_headers(page)
    page.close()
    return headers


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
    assert headers_at(browser, "https://api.anthropic.com/")["anthropic-allowed-org-ids"] == ORG   # Anthropic's API
    assert "anthropic-allowed-org-ids" not in headers_at(browser, "https://www.anthropic.com/")  # not its web site
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


def test_microsofts_and_googles_tenant_headers_with_their_value_formats(launch_chromium, scripted_agent, tmp_path):
    restrictions = {"microsoft_tenants": MS_TENANTS, "microsoft_tenant_context": [MS_CONTEXT],
                    "microsoft_block_consumer_accounts": True, "google_domains": GOOGLE_DOMAINS}
    contract.validate_policy({**contract.default_policy(), "tenant_restrictions": restrictions})  # a valid policy
    scripted_agent.tenant_restrictions = restrictions
    profile = tmp_path / "profile"
    install_bridge(profile, scripted_agent.path, tmp_path / "bin")
    browser = launch_chromium(profile)
    page = browser.new_page()                                      # once the extension has the policy reply
    page.goto("https://login.microsoftonline.com/")
    page.wait_for_function("() => fetch('/__headers').then((r) => r.json())"
                           ".then((h) => 'restrict-access-to-tenants' in h)", timeout=15000)

    for host in ENTRA_SIGN_IN:                                     # Entra ID's sign-in hosts: both headers
        headers = headers_at(browser, f"https://{host}/common/oauth2/v2.0/authorize?client_id=x")
        assert headers["restrict-access-to-tenants"] == ",".join(MS_TENANTS), host
        assert headers["restrict-access-context"] == MS_CONTEXT, host
        assert "x-googapps-allowed-domains" not in headers, host
        assert "sec-restrict-tenant-access-policy" not in headers, host   # restrict-msa: login.live.com only
    live = headers_at(browser, "https://login.live.com/oauth20_authorize.srf")   # personal Microsoft accounts
    assert live["sec-restrict-tenant-access-policy"] == "restrict-msa"
    assert "restrict-access-to-tenants" not in live
    # Microsoft: not subdomains of the sign-in hosts (device registration's client-certificate sign-in)
    assert not MS_HEADERS & set(headers_at(browser, "https://device.login.microsoftonline.com/"))
    navigation = page.goto("https://login.microsoftonline.com/__headers")   # a main-frame navigation too
    assert json.loads(navigation.text())["restrict-access-to-tenants"] == ",".join(MS_TENANTS)

    for host in ("accounts.google.com", "gemini.google.com"):       # google.com and its subdomains
        headers = headers_at(browser, f"https://{host}/")
        assert headers["x-googapps-allowed-domains"] == "altostrat.com,tenorstrat.com", host
        assert not MS_HEADERS & set(headers), host
    for host in ("chatgpt.com", "copilot.microsoft.com", "llm-playground.example.net"):   # none of them
        headers = headers_at(browser, f"https://{host}/")
        assert not (MS_HEADERS | {"x-googapps-allowed-domains"}) & set(headers), host


def test_tenant_restrictions_v2_header_on_microsofts_four_sign_in_hosts(launch_chromium, scripted_agent, tmp_path):
    restrictions = {"microsoft_tenant_restrictions_v2": [TRV2]}
    contract.validate_policy({**contract.default_policy(), "tenant_restrictions": restrictions})
    scripted_agent.tenant_restrictions = restrictions
    profile = tmp_path / "profile"
    install_bridge(profile, scripted_agent.path, tmp_path / "bin")
    browser = launch_chromium(profile)
    page = browser.new_page()
    page.goto("https://login.live.com/")
    page.wait_for_function("() => fetch('/__headers').then((r) => r.json())"
                           ".then((h) => 'sec-restrict-tenant-access-policy' in h)", timeout=15000)
    for host in ("login.live.com", *ENTRA_SIGN_IN):
        headers = headers_at(browser, f"https://{host}/")
        assert headers["sec-restrict-tenant-access-policy"] == TRV2, host
        assert not {"restrict-access-to-tenants", "restrict-access-context"} & set(headers), host   # v1's are gone
    for host in ("device.login.microsoftonline.com", "copilot.microsoft.com", "accounts.google.com"):
        assert "sec-restrict-tenant-access-policy" not in headers_at(browser, f"https://{host}/"), host
