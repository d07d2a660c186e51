"""Production data only the network layout or the organisation reveals: internal hosts
and URLs, and the organisation's own identifier formats (from its org config).

Not SecretRecognizer subclasses: they need the org config, so the engine builds them.
"""
from __future__ import annotations

import ipaddress
import logging

import regex as re
from presidio_analyzer import EntityRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

from shadowmap.detectors.org_config import OrgConfig, OrgIdentifier

log = logging.getLogger(__name__)

# TLDs reserved or conventionally used for private networks (RFC 6762, RFC 8375, ICANN's
# .internal); a host under one of them only resolves inside some organisation.
INTERNAL_TLDS = ("internal", "corp", "local", "lan", "intranet", "home.arpa", "localdomain", "private")
_HOST = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}\.)+[A-Za-z0-9-]{1,63}"
_URL = re.compile(
    r"(?<![\w@.\-])(?:(?P<scheme>[a-z][a-z0-9+.\-]{1,15})://(?:[^\s/@:'\"<>]+(?::[^\s/@'\"<>]*)?@)?)?"
    rf"(?P<host>{_HOST})(?::\d{{1,5}})?(?P<path>/[^\s'\"<>)\]}}]*)?",
    re.IGNORECASE,
)
_TRAILING = ".,;:!?"


# The networks an organisation numbers its own hosts in (RFC 1918). Not ipaddress's
# is_private, which also holds the documentation ranges (RFC 5737: 192.0.2.0/24,
# 198.51.100.0/24, 203.0.113.0/24), the benchmarking range (RFC 2544: 198.18.0.0/15) and
# others that are nobody's network: an example URL from a manual is not an internal host.
# (_HOST matches no bracketed IPv6 literal, so URLs with one are not looked at here.)
_PRIVATE_NETWORKS = tuple(ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))


def _is_private_ip(host: str) -> bool:
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False
    return any(ip in network for network in _PRIVATE_NETWORKS)


class InternalUrlRecognizer(EntityRecognizer):
    """Hosts under an internal TLD or an org suffix, with or without scheme and path, and
    URLs whose host is an RFC 1918 address. A bare private IP is no finding (IP_ADDRESS
    takes public addresses only)."""

    ENTITY = "INTERNAL_URL"

    def __init__(self, org_domains: tuple[str, ...] = ()) -> None:
        self.suffixes = tuple(f".{d.lower()}" for d in (*INTERNAL_TLDS, *org_domains))
        # Cheap prefilter: one of these substrings must occur (lower-cased text).
        self.keywords = (*{f".{d.split('.')[-1]}" for d in (*INTERNAL_TLDS, *org_domains)}, "://")
        super().__init__(supported_entities=[self.ENTITY], name="InternalUrlRecognizer")

    def load(self) -> None:
        """Nothing to load."""

    def find(self, text: str) -> list[tuple[int, int, float]]:
        lowered = text.lower()
        if not any(k in lowered for k in self.keywords):
            return []
        found = []
        for match in self._candidates(text, lowered):
            host = match.group("host").lower().rstrip(".")
            if match.group("scheme"):
                internal = host.endswith(self.suffixes) or _is_private_ip(host)
            else:
                # A bare name needs a label before the internal suffix: "MacBook.local" is a
                # device, "api-3.prod.acme.local" a service.
                internal = host.endswith(self.suffixes) and host.count(".") >= 2 or host.endswith(self.suffixes[len(INTERNAL_TLDS):])
            if not internal:
                continue
            end = match.end()
            while end > match.start() and text[end - 1] in _TRAILING:
                end -= 1
            found.append((match.start(), end, 0.75 if match.group("scheme") else 0.65))
        return found

    def _candidates(self, text: str, lowered: str):
        """URL/host matches anchored where they can start: before each "://" and before
        each internal suffix. Matching at every position of a megabyte costs seconds."""
        starts = set()
        for needle in ("://", *self.suffixes):
            at = lowered.find(needle)
            while at >= 0:
                begin = at
                while begin > 0 and (lowered[begin - 1].isalnum() or lowered[begin - 1] in "+.-_:@/%"):
                    begin -= 1
                    if at - begin > 300:
                        break
                starts.add(begin)
                at = lowered.find(needle, at + len(needle))
        last_end = -1
        for begin in sorted(starts):
            if begin < last_end:
                continue
            for offset in range(begin, min(begin + 300, len(text))):
                match = _URL.match(text, offset)
                if match and match.end() > offset:
                    last_end = match.end()
                    yield match
                    break

    def analyze(self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None) -> list[RecognizerResult]:
        if self.ENTITY not in entities:
            return []
        return [RecognizerResult(self.ENTITY, s, e, score) for s, e, score in self.find(text)]


class OrgIdentifierRecognizer(EntityRecognizer):
    """One organisation identifier format: a regex, with context words that raise the score."""

    CONTEXT_CHARS = 80

    def __init__(self, ident: OrgIdentifier) -> None:
        self.ident = ident
        self.pattern = re.compile(ident.pattern, 0 if ident.case_sensitive else re.IGNORECASE)
        self.context_words = re.compile(
            r"\b(?:" + "|".join(re.escape(w) for w in ident.context) + r")", re.IGNORECASE) if ident.context else None
        super().__init__(supported_entities=[ident.entity_type], name=f"Org:{ident.entity_type}")

    def load(self) -> None:
        """Compiled in __init__."""

    # The patterns are the organisation's, guarded when set (pattern_guard.py); this bounds
    # one pattern's time on one text all the same, keeping what it found until then.
    TIME_BUDGET_S = 1.0

    def find(self, text: str) -> list[tuple[int, int, float]]:
        found: list[tuple[int, int, float]] = []
        try:
            for match in self.pattern.finditer(text, timeout=self.TIME_BUDGET_S):
                near = self.context_words and self.context_words.search(
                    text, max(0, match.start() - self.CONTEXT_CHARS), match.start())
                if self.ident.require_context and not near:
                    continue
                found.append((match.start(), match.end(), 0.9 if near else self.ident.score))
        except TimeoutError:
            log.warning("org pattern %s ran out of its %.1f s budget", self.ident.entity_type, self.TIME_BUDGET_S)
        return found

    def analyze(self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None) -> list[RecognizerResult]:
        if self.ident.entity_type not in entities:
            return []
        return [RecognizerResult(self.ident.entity_type, s, e, score) for s, e, score in self.find(text)]


def build_production_recognizers(org: OrgConfig) -> list[EntityRecognizer]:
    return [InternalUrlRecognizer(org.internal_domains), *(OrgIdentifierRecognizer(i) for i in org.identifiers)]


PRODUCTION_ENTITIES: dict[str, tuple[str, str]] = {
    InternalUrlRecognizer.ENTITY: ("production", "Internal hostname or URL"),
    "BULK_RECORDS": ("production", "Bulk personal records"),
}
