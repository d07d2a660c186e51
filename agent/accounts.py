"""Which account an AI tool is signed in with: the extension reads the email (or only a hosted
domain, or the Entra tenant a sign-in link names) on the tool's page and the agent classifies
it here, into the ``ai_account.observed`` event's facts. Corporate means the email's domain is
one of the org's, or the tool's SSO tenant is the org's: a Google hosted domain (``hd``) among
the org's domains or Google Workspace domains, an Entra tenant (a ``domain_hint``, or the
``{tenant}`` of a login.microsoftonline.com sign-in URL) among the policy's Microsoft tenants.
The email itself stays on the laptop: the event carries a keyed hash of it (HMAC under the
org key), and the email only when it is corporate and the policy's ``account_emails_in_clear``
asks for it."""
from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import yaml

from shadowmap.detectors.catalog import BUNDLED_CATALOG
from shadowmap.detectors.hashing import keyed_hash

# shipped with the detectors' data, next to the catalog
CONSUMER_DOMAINS_FILE = BUNDLED_CATALOG.parent / "consumer_mail_domains.yaml"
MAX_EMAIL = 254   # RFC 5321's path limit
# a plain address: what a sign-in form or a login_hint carries (quoted local parts are not accepted)
_EMAIL_RE = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@([A-Za-z0-9-]{1,63}(\.[A-Za-z0-9-]{1,63})+)$")
_DOMAIN_RE = re.compile(r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
# an Entra directory (tenant) id
_TENANT_ID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


class BadAccount(ValueError):
    """The email or hosted domain is not one (the handler refuses the request)."""


@lru_cache(maxsize=1)
def consumer_domains() -> frozenset[str]:
    """The consumer mail domains (detectors/data/consumer_mail_domains.yaml)."""
    data = yaml.safe_load(CONSUMER_DOMAINS_FILE.read_text("utf-8"))
    return frozenset(str(domain).lower() for domain in data["domains"])


def normalize_email(email: str) -> str:
    """The address lower-cased and stripped, or BadAccount."""
    value = email.strip().lower()
    if len(value) > MAX_EMAIL or not _EMAIL_RE.match(value):
        raise BadAccount("email is not an email address")
    return value


def normalize_domain(domain: str) -> str:
    value = domain.strip().lower().rstrip(".")
    if len(value) > 253 or not _DOMAIN_RE.match(value):
        raise BadAccount("hosted_domain is not a domain name")
    return value


def normalize_tenant(tenant: str) -> str:
    """An Entra tenant as a sign-in names it: a directory id or a domain registered with the
    tenant (lower-cased), or BadAccount."""
    value = tenant.strip().lower().rstrip(".")
    if _TENANT_ID_RE.match(value):
        return value
    try:
        return normalize_domain(value)
    except BadAccount:
        raise BadAccount("sso_tenant is neither a directory id nor a domain name") from None


@dataclass(frozen=True)
class OrgIdentity:
    """What the org signs in as, from its policy: its domains (org_email_domains, and the
    tenant restrictions' Google Workspace domains and Microsoft tenant domains) and its Entra
    tenants (the tenant restrictions' Microsoft tenants, the restricting directory id, the
    tenant of its tenant restrictions v2 policy), lower-cased."""
    domains: tuple[str, ...] = ()
    tenants: frozenset[str] = frozenset()

    @classmethod
    def of(cls, policy: Mapping[str, Any]) -> OrgIdentity:
        restrictions = policy.get("tenant_restrictions") or {}
        microsoft = [*restrictions.get("microsoft_tenants", ()), *restrictions.get("microsoft_tenant_context", ()),
                     *(v.split(":", 1)[0] for v in restrictions.get("microsoft_tenant_restrictions_v2", ()))]
        tenants = frozenset(t.lower() for t in microsoft)
        domains = [*policy.get("org_email_domains", ()), *restrictions.get("google_domains", ()),
                   *(t for t in tenants if not _TENANT_ID_RE.match(t))]
        return cls(tuple(dict.fromkeys(d.lower() for d in domains)), tenants)


def _under(domain: str, parents: Iterable[str]) -> bool:
    return any(domain == parent or domain.endswith("." + parent) for parent in parents)


def classify_domain(domain: str | None, org_domains: Iterable[str]) -> tuple[str, str]:
    """(tier, domain class) of an account's domain (schema/enums.v1.json account_tier and
    account_domain_class): corporate at one of the org's domains or their subdomains;
    personal at a consumer mail provider, or at any other domain once the org has said which
    domains are its own; unknown when there is no domain, or no org domains to compare with."""
    org = [d.lower() for d in org_domains]
    if not domain:
        return "unknown", "none"
    if _under(domain, org):
        return "corporate", "org"
    if _under(domain, consumer_domains()):
        return "personal", "consumer"
    return ("personal" if org else "unknown"), "other"


@dataclass(frozen=True)
class Account:
    tier: str
    domain_class: str
    email: str | None          # normalised; never leaves the laptop unless corporate and asked for
    domain: str | None
    tenant: str | None = None   # the Entra tenant a sign-in named (not sent: it names an organisation)
    tenant_match: bool = False  # corporate because that tenant is one of the org's

    def event_data(self, org_key: bytes, emails_in_clear: bool) -> dict[str, Any]:
        """tier, domain_class, account_hash (and the email, when corporate and asked for;
        sso_tenant_match when the tenant made it corporate)."""
        data: dict[str, Any] = {"tier": self.tier, "domain_class": self.domain_class}
        if self.email is not None:
            data["account_hash"] = keyed_hash(org_key, self.email)
            if emails_in_clear and self.tier == "corporate":
                data["email"] = self.email
        if self.tenant_match:
            data["sso_tenant_match"] = True
        return data


def classify(email: str | None, hosted_domain: str | None, org_domains: Iterable[str], *,
             sso_tenant: str | None = None, org_tenants: Iterable[str] = ()) -> Account:
    """The account from what the page showed: an email, or only a hosted domain (hd,
    domain_hint), and/or the Entra tenant of a sign-in link. Corporate when the domain is the
    org's or the tenant is one of `org_tenants`; a tenant that is not (another organisation's)
    makes it personal once the org has named its tenants, like any other domain."""
    address = normalize_email(email) if email is not None else None
    domain = address.rsplit("@", 1)[1] if address else (normalize_domain(hosted_domain) if hosted_domain else None)
    tier, domain_class = classify_domain(domain, org_domains)
    if sso_tenant is None:
        return Account(tier, domain_class, address, domain)
    tenant, tenants = normalize_tenant(sso_tenant), {t.lower() for t in org_tenants}
    if tenant in tenants:
        return Account("corporate", domain_class, address, domain, tenant, tenant_match=True)
    if tier == "unknown" and tenants:
        tier = "personal"          # another organisation's tenant (or its domain)
    return Account(tier, domain_class, address, domain, tenant)


def classify_for(policy: Mapping[str, Any], email: str | None, hosted_domain: str | None,
                 sso_tenant: str | None = None) -> Account:
    """classify() against what the policy says the org signs in as (OrgIdentity)."""
    org = OrgIdentity.of(policy)
    return classify(email, hosted_domain, org.domains, sso_tenant=sso_tenant, org_tenants=org.tenants)


MAX_REMEMBERED = 10_000   # (user, tool, browser) tiers kept before the oldest are forgotten


class AccountTiers:
    """The tier of the last account the agent saw on each tool, per OS user and browser (the
    extension's origin, stamped by the native host: profiles of one browser share it). The
    policy's rules may name an account_tier; a scan is judged against the tier remembered
    here. Kept in memory: after a restart a tool's tier is unknown until its page shows the
    account again (the rules for "unknown" then apply)."""

    def __init__(self) -> None:
        self._tiers: dict[tuple[str, str, str], str] = {}
        self._lock = threading.Lock()

    def remember(self, user: str, tool_id: str, browser: str | None, tier: str) -> None:
        key = (user, tool_id, browser or "")
        with self._lock:
            self._tiers.pop(key, None)          # re-inserted last: the newest stays longest
            self._tiers[key] = tier
            while len(self._tiers) > MAX_REMEMBERED:
                del self._tiers[next(iter(self._tiers))]

    def tier(self, user: str, tool_id: str | None, browser: str | None) -> str:
        """The tier last seen for this user on this tool in this browser, else "unknown"."""
        if tool_id is None:
            return "unknown"
        with self._lock:
            return self._tiers.get((user, tool_id, browser or ""), "unknown")
