"""Which account an AI tool is signed in with: classification (agent/accounts.py) and the
`account` IPC request over the real socket, spooled as ai_account.observed with a keyed hash
and never the email (unless corporate and the policy asks for it). Corporate also when the
tool's SSO tenant is the org's: an Entra tenant (directory id or domain) among the policy's
Microsoft tenants, a Google hosted domain among its Google Workspace domains."""
from __future__ import annotations

import pytest

from shadowmap import contract
from shadowmap.agent import accounts
from shadowmap.agent.enroll import EnrollmentHolder
from shadowmap.agent.handlers import RequestHandlers
from shadowmap.agent.ipc import IPCServer
from shadowmap.agent.policy import PolicyStore
from shadowmap.agent.spool import Spool
from shadowmap.detectors.hashing import keyed_hash

ORG = ["acme-corp.example"]
PERSONAL = "jane.doe.canary@gmail.com"
CORPORATE = "Jane.Doe@EU.Acme-Corp.Example"


@pytest.mark.parametrize(("email", "hosted", "org", "expected"), [
    ("jane@acme-corp.example", None, ORG, ("corporate", "org")),
    ("jane@eu.acme-corp.example", None, ORG, ("corporate", "org")),        # a subdomain of the org's
    ("jane@gmail.com", None, ORG, ("personal", "consumer")),
    ("JANE@Proton.Me", None, ORG, ("personal", "consumer")),
    ("jane@othercompany.example", None, ORG, ("personal", "other")),       # any other domain
    ("jane@notacme-corp.example", None, ORG, ("personal", "other")),       # not a suffix match
    ("jane@othercompany.example", None, [], ("unknown", "other")),          # no org domains to compare
    ("jane@gmail.com", None, [], ("personal", "consumer")),
    (None, "acme-corp.example", ORG, ("corporate", "org")),                 # Google hd only
    (None, "othercompany.example", ORG, ("personal", "other")),
    (None, None, ORG, ("unknown", "none")),
])
def test_classification(email, hosted, org, expected):
    account = accounts.classify(email, hosted, org)
    assert (account.tier, account.domain_class) == expected
    assert set(expected) <= set(contract.enums.ACCOUNT_TIERS) | set(contract.enums.ACCOUNT_DOMAIN_CLASSES)


@pytest.mark.parametrize("bad", ["not-an-email", "a@b", "@gmail.com", "a b@gmail.com", "x" * 250 + "@gmail.com"])
def test_a_malformed_email_is_refused(bad):
    with pytest.raises(accounts.BadAccount):
        accounts.classify(bad, None, ORG)


def test_the_event_carries_a_keyed_hash_and_the_email_only_when_corporate_and_asked():
    key = b"k" * 32
    personal = accounts.classify(PERSONAL, None, ORG)
    assert personal.event_data(key, emails_in_clear=True) == {
        "tier": "personal", "domain_class": "consumer", "account_hash": keyed_hash(key, PERSONAL)}
    corporate = accounts.classify(CORPORATE, None, ORG)
    assert corporate.event_data(key, emails_in_clear=False)["account_hash"] == keyed_hash(key, CORPORATE.lower())
    assert "email" not in corporate.event_data(key, emails_in_clear=False)
    assert corporate.event_data(key, emails_in_clear=True)["email"] == CORPORATE.lower()


@pytest.fixture
def agent_with(tmp_path, catalog, summarize, connect):
    """A running IPC server under a policy with the org's email domains; yields (client, spool)."""
    servers: list[tuple[IPCServer, Spool]] = []

    def start(**policy_keys):
        state = tmp_path / f"state{len(servers)}"
        state.mkdir()
        spool, policy = Spool(state / "spool.db"), PolicyStore(state / "policy.json")
        assert policy.accept({**contract.default_policy(), "org_email_domains": ORG, **policy_keys}, '"a1"')
        # account requests never scan text: no detection engine is needed
        handlers = RequestHandlers(None, catalog, summarize, policy, spool, EnrollmentHolder(state))
        server = IPCServer(tmp_path / f"run{len(servers)}" / "agent.sock", handlers.handle, mode="user")
        server.start()
        servers.append((server, spool))
        return connect(server.path), spool

    yield start
    for server, spool in servers:
        server.stop()
        spool.close()


def spool_bytes(spool: Spool) -> bytes:
    return b"".join(p.read_bytes() for p in spool.path.parent.glob("spool.db*"))


def test_a_personal_sign_in_is_spooled_hashed_once_a_day(agent_with):
    client, spool = agent_with()
    request = {"type": "account", "url": "https://chatgpt.com/auth/login?next=%2Fc%2Fsecret-thread",
               "source": "login_form", "email": PERSONAL}
    assert client.request(request) == {"type": "ack"}
    assert client.request(request) == {"type": "ack"}       # the same account again today: not re-sent
    assert client.request({**request, "url": "https://claude.ai/login", "email": CORPORATE}) == {"type": "ack"}
    first, second = spool.next_batch(10)
    assert first["type"] == "ai_account.observed"
    assert {k: v for k, v in first["data"].items() if k != "account_hash"} == {
        "tool_id": "chatgpt", "domain": "chatgpt.com", "tier": "personal", "domain_class": "consumer",
        "source": "login_form"}
    assert len(first["data"]["account_hash"]) == 64
    assert second["data"]["tool_id"] == "claude" and second["data"]["tier"] == "corporate"
    assert "email" not in second["data"]
    stored = spool_bytes(spool).lower()
    assert b"jane.doe" not in stored and b"secret-thread" not in stored


def test_corporate_emails_in_clear_when_the_policy_asks(agent_with):
    client, spool = agent_with(account_emails_in_clear=True)
    assert client.request({"type": "account", "url": "https://gemini.google.com/app", "source": "oauth_hint",
                           "email": CORPORATE}) == {"type": "ack"}
    assert client.request({"type": "account", "url": "https://perplexity.ai/", "source": "oauth_hint",
                           "email": PERSONAL}) == {"type": "ack"}
    corporate, personal = spool.next_batch(10)
    assert corporate["data"]["email"] == CORPORATE.lower()
    assert "email" not in personal["data"] and PERSONAL.encode() not in spool_bytes(spool)


def test_account_requests_are_checked(agent_with):
    client, spool = agent_with()
    base = {"type": "account", "url": "https://lovable.dev/login", "source": "login_form"}
    assert client.request(base)["error"] == "bad_request"                                  # no email, no domain
    assert client.request({**base, "email": "nobody"})["error"] == "bad_request"
    assert client.request({**base, "url": "https://example.org/", "email": PERSONAL})["error"] == "bad_request"
    assert client.request({**base, "source": "guess", "email": PERSONAL})["error"] == "bad_request"
    assert client.request({**base, "hosted_domain": "acme-corp.example"}) == {"type": "ack"}
    (event,) = spool.next_batch(10)
    assert event["data"]["tier"] == "corporate" and "account_hash" not in event["data"]


TENANT_ID = "72f988bf-86f1-41af-91ab-2d7cd011db47"          # the org's Entra directory
OTHER_TENANT = "0d7f3e2a-5c1b-4e8f-9a6d-2b3c4d5e6f70"       # another organisation's
RESTRICTIONS = {"microsoft_tenants": ["acme.onmicrosoft.com", "acmegroup.example"],
                "microsoft_tenant_context": [TENANT_ID], "google_domains": ["acme-workspace.example"]}


@pytest.mark.parametrize(("email", "hosted", "tenant", "policy", "expected"), [
    # the tenant in an Entra sign-in URL, as a directory id or a registered domain
    (None, None, TENANT_ID, {"tenant_restrictions": RESTRICTIONS}, ("corporate", "none", True)),
    (None, None, TENANT_ID.upper(), {"tenant_restrictions": RESTRICTIONS}, ("corporate", "none", True)),
    (None, None, "acme.onmicrosoft.com", {"tenant_restrictions": RESTRICTIONS}, ("corporate", "none", True)),
    # tenant restrictions v2: the tenant id before the policy id
    (None, None, OTHER_TENANT, {"tenant_restrictions": {"microsoft_tenant_restrictions_v2": [
        f"{OTHER_TENANT}:1aaaaaa1-2bb2-3cc3-4dd4-5eeeeeeeeee5"]}}, ("corporate", "none", True)),
    # a guest of the org's tenant with a consumer address is the org's account
    ("jane@gmail.com", None, TENANT_ID, {"tenant_restrictions": RESTRICTIONS}, ("corporate", "consumer", True)),
    # another organisation's tenant: personal once the org has named its own
    (None, None, OTHER_TENANT, {"tenant_restrictions": RESTRICTIONS}, ("personal", "none", False)),
    (None, None, OTHER_TENANT, {"org_email_domains": ORG}, ("unknown", "none", False)),   # no tenants to compare
    # an org email stays corporate in another tenant (the identity is the org's)
    ("jane@acme-corp.example", None, OTHER_TENANT, {"org_email_domains": ORG, "tenant_restrictions": RESTRICTIONS},
     ("corporate", "org", False)),
    # Google's hd and Entra's domain_hint against the org's Workspace and tenant domains
    (None, "acme-workspace.example", None, {"tenant_restrictions": RESTRICTIONS}, ("corporate", "org", False)),
    (None, "acmegroup.example", None, {"tenant_restrictions": RESTRICTIONS}, ("corporate", "org", False)),
    ("sam@acme-workspace.example", None, None, {"tenant_restrictions": RESTRICTIONS}, ("corporate", "org", False)),
    (None, "othercompany.example", None, {"tenant_restrictions": RESTRICTIONS}, ("personal", "other", False)),
])
def test_the_sso_tenant_makes_an_account_corporate(email, hosted, tenant, policy, expected):
    account = accounts.classify_for(policy, email, hosted, tenant)
    assert (account.tier, account.domain_class, account.tenant_match) == expected
    assert ("sso_tenant_match" in account.event_data(b"k" * 32, emails_in_clear=False)) is expected[2]


@pytest.mark.parametrize("bad", ["common!", "not a tenant", "72f988bf-86f1-41af-91ab", "x" * 300])
def test_a_malformed_tenant_is_refused(bad):
    with pytest.raises(accounts.BadAccount):
        accounts.classify_for({"tenant_restrictions": RESTRICTIONS}, None, None, bad)


def test_a_sign_in_in_the_orgs_tenant_is_spooled_corporate(agent_with):
    client, spool = agent_with(tenant_restrictions=RESTRICTIONS)
    base = {"type": "account", "url": "https://copilot.microsoft.com/", "source": "oauth_hint"}
    assert client.request({**base, "sso_tenant": TENANT_ID}) == {"type": "ack"}
    assert client.request({**base, "url": "https://chatgpt.com/", "sso_tenant": OTHER_TENANT,
                           "email": "jane@othercompany.example"}) == {"type": "ack"}
    assert client.request({**base, "sso_tenant": "not a tenant"})["error"] == "bad_request"
    corporate, other = spool.next_batch(10)
    assert corporate["data"] == {
        "tool_id": "microsoft-copilot", "domain": "copilot.microsoft.com", "tier": "corporate",
        "domain_class": "none", "source": "oauth_hint", "sso_tenant_match": True}
    assert other["data"]["tier"] == "personal" and "sso_tenant_match" not in other["data"]
    assert TENANT_ID.encode() not in spool_bytes(spool)             # the tenant is not sent
