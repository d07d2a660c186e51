"""Which account an AI tool is signed in with: the extension reads the email (or only a hosted
domain) on the tool's page and the agent classifies it here, into the ``ai_account.observed``
event's facts. The email itself stays on the laptop: the event carries a keyed hash of it
(HMAC under the org key), and the email only when it is corporate and the policy's
``account_emails_in_clear`` asks for it."""
from __future__ import annotations

import re
import threading
from collections.abc import Iterable
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

    def event_data(self, org_key: bytes, emails_in_clear: bool) -> dict[str, Any]:
        """tier, domain_class, account_hash (and the email, when corporate and asked for)."""
        data: dict[str, Any] = {"tier": self.tier, "domain_class": self.domain_class}
        if self.email is not None:
            data["account_hash"] = keyed_hash(org_key, self.email)
            if emails_in_clear and self.tier == "corporate":
                data["email"] = self.email
        return data


def classify(email: str | None, hosted_domain: str | None, org_domains: Iterable[str]) -> Account:
    """The account from what the page showed: an email, or only a hosted domain (hd)."""
    address = normalize_email(email) if email is not None else None
    domain = address.rsplit("@", 1)[1] if address else (normalize_domain(hosted_domain) if hosted_domain else None)
    tier, domain_class = classify_domain(domain, org_domains)
    return Account(tier, domain_class, address, domain)


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
