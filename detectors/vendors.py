"""Vendor facts: who is behind each AI tool, where its inputs go, how long they are kept,
whether they train models, and which assurances the vendor claims, each fact with its source.

The data lives in ``detectors/data/vendors.yaml``, validated against
``schema/vendors.v1.json`` when loaded; every fact is ``unknown`` or a value plus the key of
a source ({url, recorded[, published][, verified, quote, states][, publisher]}) of the same
vendor. A source that says ``verified`` carries the page's own words (``quote``) and names
the facts citing it that those words state (``states``); the rest were written down without
the page's text at hand. An unknown fact may say why (``{unknown: what was searched}``); a
vendor that lists its own ``domains`` may cite only pages on them, except a third-party
source: one naming its ``publisher`` (a news site, Wikipedia, a terms summary ...), which must
be verified, quote the third party's words and state every fact citing it. A fact from a
third party is known, never checked (``Fact.third_party``; ``Fact.verified`` is False).
Import-light like the catalog
(YAML + JSON Schema): the collector's enrichment and the weekly report use it.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

import fastjsonschema
import jsonschema
import yaml

from shadowmap import contract

BUNDLED_VENDORS = Path(__file__).resolve().parent / "data" / "vendors.yaml"
SCHEMA_NAME = "vendors.v1.json"
UNKNOWN = "unknown"
TIERS = ("consumer", "business")
# A retention value that is longer than any number of days.
UNTIL_DELETED = "until_deleted"
MAX_RETENTION_DAYS = 36500
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class VendorError(ValueError):
    """The vendor file is unreadable, breaks the schema, or cites a source it does not list."""


@dataclass(frozen=True)
class Source:
    url: str
    recorded: str
    published: str | None = None
    # When the page's text was read, the words kept from it, and which of the facts citing
    # this source those words state (the schema requires all three or none).
    verified: str | None = None
    quote: str | None = None
    states: tuple[str, ...] = ()
    # The third party that published the page when it is not the vendor's own (None: the
    # vendor's page). Its facts are known from the third party's words, never checked.
    publisher: str | None = None


@dataclass(frozen=True)
class Fact:
    """One fact: ``value`` is UNKNOWN (and ``source`` None) when nobody knows it; ``reason`` then
    says what was searched for it, when the file says."""
    value: Any
    source: Source | None = None
    reason: str | None = None
    # the source's quote states this fact (the source's `states` names it): a quote read for
    # one fact does not check another fact that cites the same page
    stated: bool = False

    @property
    def known(self) -> bool:
        return self.source is not None

    @property
    def verified(self) -> bool:
        """Backed by a quote from the stored text of its source page that states this very fact,
        not only written down. Never for a fact from a third party's page (``third_party``)."""
        return (self.stated and self.source is not None and self.source.verified is not None
                and self.source.publisher is None)

    @property
    def third_party(self) -> bool:
        """Known only from a page that is not the vendor's own (its source names a ``publisher``)."""
        return self.source is not None and self.source.publisher is not None


UNKNOWN_FACT = Fact(UNKNOWN)


@dataclass(frozen=True)
class Vendor:
    name: str
    legal_entity: Fact
    hq_country: Fact
    data_regions: Fact
    retention_days: dict[str, Fact]
    trains_on_inputs: dict[str, Fact]
    dpa_available: Fact
    soc2: Fact
    iso27001: Fact
    notes: str = ""
    domains: tuple[str, ...] = ()

    def facts(self) -> dict[str, Fact]:
        """Every fact by a flat name (``retention_days.business`` ...), in file order."""
        flat = {"legal_entity": self.legal_entity, "hq_country": self.hq_country, "data_regions": self.data_regions}
        flat.update({f"retention_days.{tier}": self.retention_days[tier] for tier in TIERS})
        flat.update({f"trains_on_inputs.{tier}": self.trains_on_inputs[tier] for tier in TIERS})
        flat.update({"dpa_available": self.dpa_available, "soc2": self.soc2, "iso27001": self.iso27001})
        return flat

    @property
    def input_retention_days(self) -> int | None:
        """The longest known default retention of inputs over both tiers, in days (kept until
        deleted counts as MAX_RETENTION_DAYS); None when neither tier's is known. The
        conservative figure for "does this vendor keep inputs longer than we allow"."""
        days = [MAX_RETENTION_DAYS if fact.value == UNTIL_DELETED else fact.value
                for fact in self.retention_days.values()
                if fact.value == UNTIL_DELETED or (isinstance(fact.value, int) and not isinstance(fact.value, bool))]
        return max(days) if days else None

    def retention_exceeds(self, policy_days: int, tier: str = "business") -> bool | None:
        """Does the vendor keep inputs longer than ``policy_days``? None when not known
        (unknown, or no such tier)."""
        value = self.retention_days[tier].value
        if value == UNTIL_DELETED:
            return True
        if isinstance(value, int) and not isinstance(value, bool):
            return value > policy_days
        return None


def _fact(raw: Any, sources: dict[str, Source], vendor: str, name: str) -> Fact:
    if raw == UNKNOWN:
        return UNKNOWN_FACT
    if UNKNOWN in raw:
        return Fact(UNKNOWN, reason=raw[UNKNOWN])
    source = sources.get(raw["source"])
    if source is None:
        raise VendorError(f"vendor {vendor!r}, fact {name}: source {raw['source']!r} is not in its sources")
    return Fact(raw["value"], source, stated=name in source.states)


def on_domains(url: str, domains: tuple[str, ...]) -> bool:
    """Is ``url`` on one of ``domains`` (or a subdomain of one)?"""
    host = (urlsplit(url).hostname or "").lower()
    return any(host == domain or host.endswith("." + domain) for domain in domains)


def _vendor(raw: dict) -> Vendor:
    name = raw["name"]
    sources = {key: Source(**{**value, "states": tuple(value.get("states", ()))}) for key, value in raw["sources"].items()}
    domains = tuple(raw.get("domains", ()))
    for key, source in sources.items():
        if domains and source.publisher is None and not on_domains(source.url, domains):
            raise VendorError(f"vendor {name!r}, source {key}: {source.url} is not on the vendor's own domains")
    fact = lambda key: _fact(raw[key], sources, name, key)  # noqa: E731
    tiered = lambda key: {tier: _fact(raw[key][tier], sources, name, f"{key}.{tier}") for tier in TIERS}  # noqa: E731
    vendor = Vendor(name=name, legal_entity=fact("legal_entity"), hq_country=fact("hq_country"),
                    data_regions=fact("data_regions"), retention_days=tiered("retention_days"),
                    trains_on_inputs=tiered("trains_on_inputs"), dpa_available=fact("dpa_available"),
                    soc2=fact("soc2"), iso27001=fact("iso27001"), notes=raw.get("notes", ""), domains=domains)
    facts = vendor.facts()
    for key, source in sources.items():
        # a quote can only state a fact that cites its page (a fact since made unknown cites none)
        strays = [fact_name for fact_name in source.states
                  if facts[fact_name].source is not None and facts[fact_name].source is not source]
        if strays:
            raise VendorError(f"vendor {name!r}, source {key}: states {', '.join(strays)}, which cite another source")
        if source.publisher is not None:
            # a third party's page counts only for what its quote says: every fact citing it is stated
            unstated = [fact_name for fact_name, fact in facts.items() if fact.source is source and not fact.stated]
            if unstated:
                raise VendorError(f"vendor {name!r}, source {key} (third party {source.publisher!r}): cited by "
                                  f"{', '.join(unstated)}, which its quote does not state (add them to `states` "
                                  f"with a quote that says them, or cite another source)")
    return vendor


@lru_cache(maxsize=1)
def _fast_check():
    """fastjsonschema's code for the same schema: a valid file passes in milliseconds (jsonschema
    takes about a second); only a file it refuses goes to jsonschema, the authority, for the
    error message. The schema uses no keyword whose meaning differs between draft-07 and 2020-12."""
    draft07 = {key: value for key, value in contract.load(SCHEMA_NAME).items() if key not in ("$schema", "$id")}
    return fastjsonschema.compile({**draft07, "$schema": "http://json-schema.org/draft-07/schema#"},
                                  handlers={}, use_default=False, use_formats=False)


def parse_vendors(data: object, source: str = "vendors") -> dict[str, Vendor]:
    try:
        _fast_check()(data)
        error = None
    except fastjsonschema.JsonSchemaException:
        validator = jsonschema.Draft202012Validator(contract.load(SCHEMA_NAME))
        error = jsonschema.exceptions.best_match(validator.iter_errors(data))
    if error is not None:
        path = list(error.absolute_path)
        where = "/".join(str(p) for p in path) or "(top level)"
        if len(path) >= 2 and path[0] == "vendors" and isinstance(path[1], int) and isinstance(data, dict):
            entry = data["vendors"][path[1]]
            name = entry.get("name") if isinstance(entry, dict) else None
            where = f"vendor {name or '#' + str(path[1])!r}, field {'/'.join(str(p) for p in path[2:]) or '(entry)'}"
        raise VendorError(f"{source}: {where}: {error.message[:300]}")
    document = cast(dict[str, Any], data)       # valid: the schema's top level is an object
    vendors: dict[str, Vendor] = {}
    for raw in document["vendors"]:
        if raw["name"] in vendors:
            raise VendorError(f"{source}: vendor {raw['name']!r} is listed twice")
        vendors[raw["name"]] = _vendor(raw)
    return vendors


def _read(path: Path) -> dict[str, Vendor]:
    try:
        data = yaml.load(path.read_text("utf-8"), Loader=_YAML_LOADER)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise VendorError(f"cannot read vendor facts {path}: {exc}") from None
    return parse_vendors(data, str(path))


@lru_cache(maxsize=1)
def _bundled() -> dict[str, Vendor]:
    return _read(BUNDLED_VENDORS)


def load_vendors(path: str | Path | None = None) -> dict[str, Vendor]:
    """Vendor name -> Vendor: the bundled facts (loaded once, then cached), or the file at ``path``."""
    return _bundled() if path is None else _read(Path(path))


def verification_summary(vendors: dict[str, Vendor] | None = None) -> dict[str, int]:
    """How much of the file is backed by quoted page text: vendors with at least one verified
    fact, verified facts, known facts (of them known only from third-party pages), unknown facts
    (of the bundled file by default)."""
    per_vendor = [list(vendor.facts().values()) for vendor in (load_vendors() if vendors is None else vendors).values()]
    facts = [fact for vendor_facts in per_vendor for fact in vendor_facts]
    return {
        "vendors_verified": sum(any(fact.verified for fact in vendor_facts) for vendor_facts in per_vendor),
        "facts_verified": sum(fact.verified for fact in facts),
        "facts_known": sum(fact.known for fact in facts),
        "facts_third_party": sum(fact.third_party for fact in facts),
        "facts_unknown": sum(not fact.known for fact in facts),
    }


def vendor_for_tool(tool_id: str) -> Vendor | None:
    """The vendor facts behind a catalog tool id, or None for a tool not in the catalog."""
    from shadowmap.detectors.catalog import load_catalog

    tool = load_catalog().by_id(tool_id)
    return None if tool is None else load_vendors().get(tool.vendor)
