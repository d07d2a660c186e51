"""Which account an AI tool is signed in with, in real Chromium with the real extension: on a
catalogued tool's sign-in page (the local HTTPS site reached as https://chatgpt.com/ and
https://claude.ai/), the email typed into the login form, an OAuth link's login_hint / hd and a
login_hint in the page's URL reach the agent as `account` requests naming the tool's page; an
uncatalogued host sends none. With the real agent and collector, a personal address raises
"AI tool used with a personal account" and the email is in no collector, agent or log file.

The account a signed-in page shows (the catalog's account_labels: Gemini's Google Account
button) reaches the agent too, also when the page draws it late; a tool whose catalog entry
names no labels reads none. A "Sign in with Microsoft" link names its Entra tenant (the first
path segment on login.microsoftonline.com, or a domain_hint holding a directory id): the agent
gets it as sso_tenant, and compares it with the policy's Microsoft tenants (agent tests)."""
from __future__ import annotations

import secrets
import sqlite3

import pytest
from support.waiting import wait_until

from shadowmap import contract

from .conftest import UNKNOWN_AI_HOST, open_ai_page

pytestmark = pytest.mark.browser
LOGIN = "/static/login.html"
SIGNED_IN = "/static/account.html"
TENANT_ID = "72f988bf-86f1-41af-91ab-2d7cd011db47"
ORG_DOMAIN = "acme-corp.example"
# fresh per run, so finding it in a file can only mean this run leaked it
PERSONAL = f"Jane.Personal.{secrets.token_hex(3)}@gmail.com"


def test_the_login_form_and_oauth_hints_reach_the_agent(guarded_browser, scripted_agent):
    page = open_ai_page(guarded_browser, f"https://chatgpt.com{LOGIN}")
    page.fill("#email", PERSONAL)
    page.press("#email", "Tab")                                   # leaving the field reports it
    (request,) = wait_until(lambda: scripted_agent.requests("account"), 15, "the account request")
    assert request["type"] == "account" and request["source"] == "login_form"
    assert request["email"] == PERSONAL.lower()
    assert request["url"] == "https://chatgpt.com/"               # the tool's page, never its path
    assert "hosted_domain" not in request

    page.click("#continue")                                       # the same address: not sent again
    page.wait_for_function("window.submitted === true")
    page.click("#google")                                         # an OAuth link naming another account
    wait_until(lambda: len(scripted_agent.requests("account")) >= 3, 15, "the OAuth hints")
    hints = [r for r in scripted_agent.requests("account") if r["source"] == "oauth_hint"]
    assert {(r.get("email"), r.get("hosted_domain")) for r in hints} == {
        (None, ORG_DOMAIN), (f"sam.hint@{ORG_DOMAIN}", None)}
    assert len(scripted_agent.requests("account")) == 3
    for sent in scripted_agent.requests("account"):
        contract.validate_ipc_request(sent)

    claude = open_ai_page(guarded_browser, f"https://claude.ai{LOGIN}?login_hint=kim%40gmail.com",
                          guarded_browser.new_page())
    wait_until(lambda: any(r["url"] == "https://claude.ai/" for r in scripted_agent.requests("account")), 15,
               "the login_hint of the page's URL")
    assert [r["email"] for r in scripted_agent.requests("account") if r["url"] == "https://claude.ai/"] == [
        "kim@gmail.com"]
    claude.close()

    elsewhere = guarded_browser.new_page()                        # outside the catalog: nothing is read
    elsewhere.goto(f"https://{UNKNOWN_AI_HOST}{LOGIN}")
    elsewhere.fill("#email", "someone@gmail.com")
    elsewhere.press("#email", "Tab")
    elsewhere.wait_for_timeout(1500)
    assert all(r.get("email") != "someone@gmail.com" for r in scripted_agent.requests("account"))


def account_requests(agent, origin: str, source: str | None = None) -> list[dict]:
    return [r for r in agent.requests("account")
            if r["url"] == f"{origin}/" and (source is None or r["source"] == source)]


def test_the_account_the_page_shows_reaches_the_agent(guarded_browser, scripted_agent):
    gemini = "https://gemini.google.com"
    open_ai_page(guarded_browser, f"{gemini}{SIGNED_IN}")          # the account button, there at load
    (request,) = wait_until(lambda: account_requests(scripted_agent, gemini, "page"), 15, "the page's account")
    assert request["email"] == "jane.label@acme-corp.example"
    contract.validate_ipc_request(request)

    open_ai_page(guarded_browser, f"{gemini}{SIGNED_IN}?late", guarded_browser.new_page())   # drawn after 2 s
    wait_until(lambda: len(account_requests(scripted_agent, gemini, "page")) == 2, 20, "the late account menu")
    assert account_requests(scripted_agent, gemini, "page")[1]["email"] == "sam.late@acme-corp.example"

    # Copilot's catalog entry names no account labels, and an uncatalogued host is not read
    copilot = open_ai_page(guarded_browser, f"https://copilot.microsoft.com{SIGNED_IN}", guarded_browser.new_page())
    elsewhere = guarded_browser.new_page()
    elsewhere.goto(f"https://{UNKNOWN_AI_HOST}{SIGNED_IN}")
    copilot.wait_for_timeout(5000)                                 # past the 1 s and 4 s looks
    assert [r["url"] for r in scripted_agent.requests("account") if r["source"] == "page"] == [f"{gemini}/"] * 2


def test_a_sign_in_link_names_the_entra_tenant(guarded_browser, scripted_agent):
    copilot = "https://copilot.microsoft.com"
    page = open_ai_page(guarded_browser, f"{copilot}{SIGNED_IN}")
    for link in ("#entra", "#entra-domain", "#entra-common", "#entra-tid-hint"):
        page.click(link)
    wait_until(lambda: len(account_requests(scripted_agent, copilot, "oauth_hint")) >= 4, 15, "the tenants")
    sent = account_requests(scripted_agent, copilot, "oauth_hint")
    assert [(r.get("sso_tenant"), r.get("email")) for r in sent] == [
        (TENANT_ID, None),                                          # login.microsoftonline.com/<directory id>/...
        ("acme.onmicrosoft.com", None),                             # /<a tenant's domain>/saml2
        (None, "kim@othercompany.example"),                         # /common/: no tenant, the login_hint only
        ("0d7f3e2a-5c1b-4e8f-9a6d-2b3c4d5e6f70", None)]             # a domain_hint holding a directory id
    for request in sent:
        contract.validate_ipc_request(request)

    gemini = open_ai_page(guarded_browser, f"https://gemini.google.com{SIGNED_IN}", guarded_browser.new_page())
    gemini.click("#entra")                                          # not one of Gemini's identity providers
    gemini.wait_for_timeout(1500)
    assert not any(r.get("sso_tenant") for r in scripted_agent.requests("account")
                   if r["url"] == "https://gemini.google.com/")


# last: the module-scoped real stack keeps its own Playwright running until the module ends
def test_a_personal_sign_in_raises_the_finding_and_the_email_is_stored_nowhere(full_stack):
    full_stack.set_policy({**contract.default_policy(), "org_email_domains": [ORG_DOMAIN]})
    page = open_ai_page(full_stack.context, f"https://chatgpt.com{LOGIN}", full_stack.context.new_page())
    page.fill("#email", PERSONAL)
    page.press("#email", "Enter")

    def alert():
        with sqlite3.connect(f"file:{full_stack.db_path}?mode=ro", uri=True) as db:
            return db.execute("SELECT tool_id, severity, facts FROM alerts WHERE finding_id = 'personal_account'"
                              ).fetchall()
    ((tool_id, severity, facts),) = wait_until(alert, 60, "the personal-account alert")
    assert (tool_id, severity) == ("chatgpt", "medium")
    assert '"account_hashes": ["' in facts
    for path in full_stack.stored_files():
        data = path.read_bytes().lower()
        assert PERSONAL.lower().encode() not in data, path
        assert PERSONAL.split("@")[0].lower().encode() not in data, path
