"""Policy per tool x data class x account tier, coaching and exceptions, on the agent: the
tier of the last account seen on a tool decides which rules apply (corporate ChatGPT may
receive personal data, a personal account gets it blocked); a verdict that warns or blocks
carries the AI policy page and the rule's alternative; a warned user can ask for an exception
(spooled as exception.requested, the reason redacted, never the pasted text), and an approved
one in the policy lets that user's next paste of that class on that tool through until it
expires. Over the real socket with the real detection engine."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shadowmap import contract
from shadowmap.agent.accounts import AccountTiers
from shadowmap.agent.enroll import EnrollmentHolder
from shadowmap.agent.handlers import RequestHandlers
from shadowmap.agent.ipc import IPCServer
from shadowmap.agent.policy import PolicyStore, active_exception, judge
from shadowmap.agent.spool import Spool

ORG = ["acme-corp.example"]
POLICY_URL = "https://intranet.acme-corp.example/ai-policy"
ALTERNATIVE = "use the company ChatGPT workspace"
TIERED_RULES = [
    {"tool": "chatgpt", "data_class": "pii", "account_tier": "corporate", "action": "allow"},
    {"tool": "chatgpt", "data_class": "*", "account_tier": "personal", "action": "block", "alternative": ALTERNATIVE},
    {"tool": "*", "data_class": "secret", "action": "block"},
    {"tool": "*", "data_class": "pii", "action": "warn", "alternative": "ask the data protection team"},
]
PII_PASTE = "Please draft a reply to Maria Gonzalez, maria.gonzalez@example.org, phone +1 415 555 0134."


def in_hours(hours: float) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")


def policy_with(**keys) -> dict:
    policy = {**contract.default_policy(), "org_email_domains": ORG, "ai_policy_url": POLICY_URL,
              "rules": TIERED_RULES, **keys}
    contract.validate_policy(policy)
    return policy


@pytest.mark.parametrize(("tier", "expected"), [("corporate", "allow"), ("personal", "block"), ("unknown", "warn")])
def test_the_account_tier_picks_the_rule(tier, expected):
    verdict = judge(policy_with(), "chatgpt", ["pii"], account_tier=tier)
    assert verdict.action == expected
    assert verdict.alternative == {"allow": None, "block": ALTERNATIVE, "warn": "ask the data protection team"}[expected]
    assert judge(policy_with(), "claude", ["pii"], account_tier="corporate").action == "warn"   # another tool


def test_a_rule_for_a_tier_is_refused_with_an_unknown_tier_or_a_bad_policy_url():
    for bad in ({"rules": [{"data_class": "pii", "account_tier": "work", "action": "allow"}]},
                {"ai_policy_url": "javascript:alert(1)"}, {"ai_policy_url": "http://intranet/ai"},
                {"rules": [{"data_class": "pii", "action": "warn", "alternative": ""}]},
                {"exceptions": [{"id": "x", "user": "jane", "tool": "chatgpt", "data_class": "pii",
                                 "expires_at": "tomorrow"}]}):
        with pytest.raises(contract.ContractError):
            contract.validate_policy({**contract.default_policy(), **bad})


def test_an_exception_allows_its_class_until_it_expires():
    grant = {"id": "req-1", "user": "jane", "tool": "chatgpt", "data_class": "pii", "expires_at": in_hours(2)}
    policy = policy_with(exceptions=[grant])
    allowed = judge(policy, "chatgpt", ["pii"], account_tier="personal", user="jane")
    assert (allowed.action, allowed.exceptions) == ("allow", ("req-1",))
    assert judge(policy, "chatgpt", ["pii"], account_tier="personal", user="sam").action == "block"   # not sam's
    assert judge(policy, "claude", ["pii"], user="jane").action == "warn"                             # not this tool
    both = judge(policy, "chatgpt", ["pii", "secret"], account_tier="personal", user="jane")
    assert both.action == "block" and both.reason.startswith("A secret")        # the secret is not excepted
    later = datetime.now(UTC) + timedelta(hours=3)
    assert active_exception(policy, "jane", "chatgpt", "pii", later) is None     # expired
    assert judge(policy, "chatgpt", ["pii"], account_tier="personal", user="jane", now=later).action == "block"


def test_tiers_are_remembered_per_user_tool_and_browser():
    tiers = AccountTiers()
    assert tiers.tier("jane", "chatgpt", "chrome-extension://a/") == "unknown"
    tiers.remember("jane", "chatgpt", "chrome-extension://a/", "personal")
    tiers.remember("jane", "chatgpt", "moz-extension://b", "corporate")
    assert tiers.tier("jane", "chatgpt", "chrome-extension://a/") == "personal"
    assert tiers.tier("jane", "chatgpt", "moz-extension://b") == "corporate"
    assert tiers.tier("sam", "chatgpt", "chrome-extension://a/") == "unknown"
    assert tiers.tier("jane", None, None) == "unknown"
    tiers.remember("jane", "chatgpt", "chrome-extension://a/", "corporate")         # signed in again, at work
    assert tiers.tier("jane", "chatgpt", "chrome-extension://a/") == "corporate"


@pytest.fixture
def tiered_agent(tmp_path, engine, catalog, summarize, connect):
    state = tmp_path / "state"
    state.mkdir()
    spool, store = Spool(state / "spool.db"), PolicyStore(state / "policy.json")
    assert store.accept(policy_with(), '"t1"')
    handlers = RequestHandlers(engine, catalog, summarize, store, spool, EnrollmentHolder(state))
    server = IPCServer(tmp_path / "run" / "agent.sock", handlers.handle, mode="user")
    server.start()
    try:
        yield connect(server.path), spool, store
    finally:
        server.stop()
        spool.close()


def sign_in(client, email: str) -> None:
    assert client.request({"type": "account", "url": "https://chatgpt.com/auth/login", "source": "login_form",
                           "email": email}) == {"type": "ack"}


def paste(client, text: str = PII_PASTE, url: str = "https://chatgpt.com/") -> dict:
    return client.request({"type": "scan", "channel": "paste", "url": url, "text": text})



def test_a_personal_account_blocks_the_paste_a_corporate_one_may_send(tiered_agent):
    client, spool, _ = tiered_agent
    before = paste(client)                              # no account seen yet: the general pii rule warns
    assert (before["action"], before["account_tier"]) == ("warn", "unknown")
    sign_in(client, "jane.private@gmail.com")
    blocked = paste(client)
    assert (blocked["action"], blocked["account_tier"]) == ("block", "personal")
    assert blocked["coaching"] == {"policy_url": POLICY_URL, "alternative": ALTERNATIVE}
    sign_in(client, "jane@acme-corp.example")           # the same browser, now the company account
    allowed = paste(client)
    assert (allowed["action"], allowed["account_tier"]) == ("allow", "corporate")
    assert "coaching" not in allowed
    other_tool = paste(client, url="https://claude.ai/new")   # tiers are per tool
    assert (other_tool["action"], other_tool["account_tier"]) == ("warn", "unknown")
    scans = [e for e in spool.next_batch(50) if e["type"] == "paste.scanned"]
    assert [e["data"]["action"] for e in scans] == ["warn", "block", "allow", "warn"]
    assert [e["data"].get("account_tier") for e in scans] == [None, "personal", "corporate", None]


def test_an_exception_request_is_spooled_without_the_paste_and_an_approved_one_lets_the_next_paste_through(
        tiered_agent):
    client, spool, store = tiered_agent
    warned = paste(client)
    assert warned["action"] == "warn"
    assert warned["coaching"] == {"policy_url": POLICY_URL, "alternative": "ask the data protection team"}
    reason = "Customer case 4711, I reply to sam.jones@example.net about her data"
    assert client.request({"type": "exception", "event_id": warned["event_id"], "reason": reason}) == {
        "type": "ack"}
    assert client.request({"type": "exception", "event_id": "not-a-warning", "reason": "x"})["error"] == \
        "bad_request"
    assert client.request({"type": "exception", "event_id": warned["event_id"], "reason": "  "})["error"] == \
        "bad_request"
    again = client.request({"type": "exception", "event_id": warned["event_id"], "reason": reason})
    assert again["error"] == "bad_request" and "already asked" in again["detail"]     # once per warning
    assert client.request({"type": "override", "event_id": warned["event_id"], "decision": "cancel"}) == {
        "type": "ack"}                                  # the warning still takes its decision afterwards
    spooled = spool.next_batch(50)
    (request,) = [e for e in spooled if e["type"] == "exception.requested"]
    contract.validate_event(request)
    data = request["data"]
    assert (data["scan_id"], data["tool_id"], data["domain"], data["data_classes"], data["account_tier"]) == (
        warned["event_id"], "chatgpt", "chatgpt.com", ["pii"], "unknown")
    assert "sam.jones@example.net" not in data["reason"] and "<EMAIL_1>" in data["reason"]
    assert "Customer case 4711" in data["reason"]
    for event in spooled:                               # the pasted text is in no event
        assert "maria.gonzalez" not in str(event) and "Gonzalez" not in str(event)

    user = request["user"]
    grant = {"id": request["id"], "user": user, "tool": "chatgpt", "data_class": "pii", "expires_at": in_hours(1)}
    assert store.accept(policy_with(exceptions=[grant]), '"t2"')
    passed = paste(client)
    assert passed["action"] == "allow" and "exception" in passed["reason"]
    (allowed_scan,) = [e for e in spool.next_batch(50) if e["type"] == "paste.scanned" and e["id"] == passed["event_id"]]
    assert allowed_scan["data"]["exceptions"] == [request["id"]]               # which exception let it through
    assert paste(client, url="https://claude.ai/")["action"] == "warn"           # another tool: still warned
    expired = {**grant, "expires_at": in_hours(-1)}
    assert store.accept(policy_with(exceptions=[expired]), '"t3"')
    assert paste(client)["action"] == "warn"
