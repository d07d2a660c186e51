"""Email addresses as personal data: an address at a public suffix (the bundled list, never
fetched) that names a person, not a function's mailbox, a URL's credential or a message id."""
from __future__ import annotations

import functools

import regex as re
import tldextract
from presidio_analyzer import RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts
from presidio_analyzer.predefined_recognizers import EmailRecognizer

from shadowmap.detectors.recognizers.base import presidio_result

# The bundled public-suffix snapshot only: the default extractor downloads the list on
# first use, which would put a network call on the paste path.
_OFFLINE_TLD = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


# local@domain.tld; the domain must end in a public suffix (checked below). Simpler than
# Presidio's pattern and several times faster on a dump with thousands of addresses.
_EMAIL = re.compile(r"(?<![\w.+\-])[\w.+\-%]{1,64}@(?P<domain>[A-Za-z0-9](?:[A-Za-z0-9\-]{0,62}\.)+[A-Za-z]{2,63})(?![\w\-])")


@functools.lru_cache(maxsize=4096)
def public_domain(domain: str) -> bool:
    return _OFFLINE_TLD(domain).fqdn != ""


# Mailboxes of a function, not of a person (RFC 2142's postmaster, abuse, ...; senders that
# take no reply; a team's or a system's inbox; test accounts): "noreply@acme.io" in an alerting
# config, "ops@acme.io" in a .netrc. Compared with digits, dots, dashes, underscores and a
# +tag taken out ("no-reply", "mailer-daemon", "testUser.1005").
ROLE_MAILBOXES = frozenset((
    "noreply", "donotreply", "postmaster", "hostmaster", "webmaster", "mailerdaemon", "abuse", "noc", "ops",
    "devops", "sre", "oncall", "alerts", "alert", "notifications", "notification", "notify", "monitoring", "root",
    "admin", "administrator", "sysadmin", "support", "helpdesk", "security", "billing", "invoices", "accounts",
    "sales", "info", "contact", "hello", "team", "jobs", "careers", "press", "marketing", "newsletter", "bounce",
    "bounces", "system", "robot", "bot", "ci", "builds", "deploy", "test", "testing", "tester", "testuser", "dummy",
))
_MAILBOX_NOISE = re.compile(r"\+.*|[\d._\-]")
# Senders that take no reply, whatever follows ("noreply-cloud@", "no-reply-billing@").
_NO_REPLY = ("noreply", "donotreply", "mailerdaemon", "bounce")


def role_mailbox(local: str) -> bool:
    """Whether an address's local part names a function (ROLE_MAILBOXES), not a person."""
    plain = _MAILBOX_NOISE.sub("", local.lower())
    return plain in ROLE_MAILBOXES or plain.startswith(_NO_REPLY)
# How far back a URL's "scheme://" may stand before the "token@host" of its user info.
_USERINFO_REACH = 300
_URL_END = re.compile(r"[\s'\"<>()\[\]{},;=]")


def _in_url_userinfo(text: str, start: int) -> bool:
    """Whether the address starting at ``start`` is the user info of a URL
    ("https://user:TOKEN@host", "git+https://TOKEN@host"): a credential, not a mailbox."""
    before = text[max(0, start - _USERINFO_REACH):start]
    scheme = before.rfind("://")
    return scheme >= 0 and _URL_END.search(before, scheme) is None


# Header lines whose id-left@id-right is a message's or a part's id (RFC 5322 msg-id,
# RFC 2392 Content-ID), not a mailbox.
_ID_HEADERS = ("message-id", "in-reply-to", "references", "content-id", "resent-message-id")


def _message_id(text: str, start: int) -> bool:
    """Whether the address starting at ``start`` is a message id or a path's last part."""
    if text[start - 1:start] == "/":
        return True
    line = text.rfind("\n", 0, start) + 1
    name, colon, _rest = text[line:min(start, line + 24)].partition(":")
    return bool(colon) and name.rstrip(" \t").lower() in _ID_HEADERS


class OfflineEmailRecognizer(EmailRecognizer):
    """Email addresses whose domain has a public suffix (bundled list, never fetched), not a
    role mailbox (ROLE_MAILBOXES), the user info of a URL, a message id (Message-ID,
    References ... header lines) or a path's last part ("check-suites/1234567@github.com")."""

    def analyze(self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None,
                regex_flags: int | None = None) -> list[RecognizerResult]:
        if "EMAIL_ADDRESS" not in entities or "@" not in text:
            return []
        results = []
        for match in _EMAIL.finditer(text):
            local = match.group()[: match.start("domain") - match.start() - 1]
            if local.startswith(".") or local.endswith(".") or not public_domain(match.group("domain").lower()):
                continue
            if role_mailbox(local) or _in_url_userinfo(text, match.start()) or _message_id(text, match.start()):
                continue
            results.append(presidio_result(self, "EMAIL_ADDRESS", match.start(), match.end(), 1.0))
        return results
