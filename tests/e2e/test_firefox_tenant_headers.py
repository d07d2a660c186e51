"""Tenant restriction in Debian's Firefox ESR, the same header test as test_tenant_headers.py
runs in Chromium: the extension's Firefox build (a temporary add-on over WebDriver BiDi, its
native host registered by `shadowmap bridge install --browser firefox`) gets the tenant
restrictions in the scripted agent's policy reply and sets the vendors' headers with
declarativeNetRequest; the local HTTPS server standing in for chatgpt.com and claude.ai sees
them on the page's own fetches and on a main-frame navigation, an uncatalogued host never,
and they stay while the agent is down. Microsoft's and Google's headers reach Entra ID's and
Google's sign-in hosts. The add-on is installed permanently (unsigned: ESR allows it with
xpinstall.signatures.required off), so its dynamic rules outlive a restart of Firefox: with
the agent down a restarted Firefox still sends them, and once the agent is back with a policy
without them, a restarted Firefox drops them.

Firefox applies a modifyHeaders rule only with host permission for the request's URL, and
for the initiator too unless it is a navigation (MDN, declarativeNetRequest "Permissions");
the Firefox build asks for the vendors' hosts (and https://*/*) in host_permissions, which
Firefox (127 and later) grants at install. The page's fetch is read with its own
script.evaluate: BiDi.evaluate() JSON-stringifies its expression, and a stringified
Promise is "{}" -- an empty header set, which reads as "no header" though it was sent."""
from __future__ import annotations

import json
import time

import pytest
from e2e.firefox_bidi import guarded_firefox, open_ai_page

pytestmark = pytest.mark.browser
WORKSPACE = "ws-8f14e45f-ceea-467a-9f4b-1d2a3c4e5f60"
ORG = "0f8e6c1a-3b2d-4e5f-8a9b-7c6d5e4f3a2b"
TENANT_HEADERS = {"chatgpt-allowed-workspace-id", "anthropic-allowed-org-ids"}
MS_TENANTS = ["contoso.com", "fabrikam.onmicrosoft.com", "72f988bf-86f1-41af-91ab-2d7cd011db47"]
MS_CONTEXT = "0d7f3e2a-5c1b-4e8f-9a6d-2b3c4d5e6f70"
GOOGLE_DOMAINS = ["altostrat.com", "tenorstrat.com"]
RESTRICTIONS = {"chatgpt_workspace_ids": [WORKSPACE], "anthropic_org_ids": [ORG], "microsoft_tenants": MS_TENANTS,
                "microsoft_tenant_context": [MS_CONTEXT], "google_domains": GOOGLE_DOMAINS}


def seen_headers(bidi, context: str) -> dict:
    """What the local server saw on a fetch from the page (its /__headers echo)."""
    result = bidi.command("script.evaluate", expression="fetch('/__headers').then((r) => r.text())",
                          target={"context": context}, awaitPromise=True)
    assert result.get("type") != "exception", result
    return json.loads(result["result"]["value"])


def wait_for_header(bidi, context: str, header: str) -> dict:
    """The headers of the first fetch that carries `header` (the rules are set once the
    background has the agent's policy reply); bounded."""
    bidi.wait_for(context, "document.readyState === 'complete'")
    for _ in range(40):
        headers = seen_headers(bidi, context)
        if header in headers:
            return headers
        time.sleep(0.25)
    raise AssertionError(f"{header} never reached the server: {sorted(headers)}")


def wait_without_header(bidi, context: str, header: str) -> dict:
    """The headers of the first fetch without `header` (bounded, like wait_for_header)."""
    bidi.wait_for(context, "document.readyState === 'complete'")
    for _ in range(40):
        headers = seen_headers(bidi, context)
        if header not in headers:
            return headers
        time.sleep(0.25)
    raise AssertionError(f"{header} still reaches the server")


def navigate(bidi, context: str, url: str) -> None:
    bidi.command("browsingContext.navigate", context=context, url=url, wait="complete")


def test_firefox_sets_the_vendors_tenant_headers_from_policy(tmp_path, https_port, scripted_agent):
    scripted_agent.tenant_restrictions = RESTRICTIONS
    # Firefox's JSON viewer would wrap the navigated-to JSON in its own page: off, so the
    # document's text is the body as the server sent it (prefs.js: firefox_bidi writes user.js)
    (tmp_path / "profile").mkdir()
    (tmp_path / "profile" / "prefs.js").write_text('user_pref("devtools.jsonview.enabled", false);\n')
    with guarded_firefox(tmp_path, scripted_agent.path, permanent=True) as (bidi, context):
        open_ai_page(bidi, context, f"https://chatgpt.com:{https_port}/")
        headers = wait_for_header(bidi, context, "chatgpt-allowed-workspace-id")
        assert headers["chatgpt-allowed-workspace-id"] == WORKSPACE
        assert "anthropic-allowed-org-ids" not in headers        # Anthropic's header goes to its hosts only
        assert [r["browser"] for r in scripted_agent.requests("policy")][:1] == ["bridge@shadowmap.dev"]

        open_ai_page(bidi, context, f"https://claude.ai:{https_port}/")
        assert seen_headers(bidi, context)["anthropic-allowed-org-ids"] == ORG
        bidi.command("browsingContext.navigate", context=context, url=f"https://claude.ai:{https_port}/__headers",
                     wait="complete")                              # a main-frame navigation carries it too
        navigation = json.loads(bidi.evaluate(context, "document.body.textContent"))
        assert navigation["anthropic-allowed-org-ids"] == ORG

        bidi.command("browsingContext.navigate", context=context,   # not a vendor's host (nor catalogued)
                     url=f"https://llm-playground.example.net:{https_port}/", wait="complete")
        assert not TENANT_HEADERS & set(seen_headers(bidi, context))

        navigate(bidi, context, f"https://login.microsoftonline.com:{https_port}/")   # Entra ID's sign-in
        headers = seen_headers(bidi, context)
        assert headers["restrict-access-to-tenants"] == ",".join(MS_TENANTS)
        assert headers["restrict-access-context"] == MS_CONTEXT
        navigate(bidi, context, f"https://device.login.microsoftonline.com:{https_port}/")   # not its subdomains
        assert "restrict-access-to-tenants" not in seen_headers(bidi, context)
        navigate(bidi, context, f"https://accounts.google.com:{https_port}/")          # Google's
        assert seen_headers(bidi, context)["x-googapps-allowed-domains"] == ",".join(GOOGLE_DOMAINS)

        scripted_agent.stop()                                       # the agent is down: the rules hold
        open_ai_page(bidi, context, f"https://chatgpt.com:{https_port}/")
        assert seen_headers(bidi, context)["chatgpt-allowed-workspace-id"] == WORKSPACE

    with guarded_firefox(tmp_path, scripted_agent.path, install=False) as (bidi, context):   # restarted, agent down
        open_ai_page(bidi, context, f"https://chatgpt.com:{https_port}/")
        assert seen_headers(bidi, context)["chatgpt-allowed-workspace-id"] == WORKSPACE

    scripted_agent.tenant_restrictions = None                       # back up, with a policy that drops them
    scripted_agent.start()
    with guarded_firefox(tmp_path, scripted_agent.path, install=False) as (bidi, context):
        open_ai_page(bidi, context, f"https://chatgpt.com:{https_port}/")
        wait_without_header(bidi, context, "chatgpt-allowed-workspace-id")
        navigate(bidi, context, f"https://login.microsoftonline.com:{https_port}/")
        assert "restrict-access-to-tenants" not in seen_headers(bidi, context)
