"""Vendor facts: the bundled file is valid, every fact names a source the vendor lists,
and the loader refuses files that break those rules (with a message naming the vendor)."""
from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from shadowmap.detectors.vendors import (
    BUNDLED_VENDORS,
    UNKNOWN,
    VendorError,
    load_vendors,
    parse_vendors,
    vendor_for_tool,
    verification_summary,
)


@pytest.fixture(scope="module")
def raw() -> dict:
    return yaml.safe_load(BUNDLED_VENDORS.read_text("utf-8"))


def test_every_known_fact_cites_a_listed_https_source_with_a_date(raw):
    vendors = load_vendors()
    assert len(vendors) == len(raw["vendors"])
    cited = 0
    for vendor in vendors.values():
        for name, fact in vendor.facts().items():
            if fact.value == UNKNOWN:
                assert fact.source is None, (vendor.name, name)
                continue
            cited += 1
            assert fact.source is not None and fact.source.url.startswith("https://"), (vendor.name, name)
            assert len(fact.source.recorded) == 10, (vendor.name, name)
    assert cited >= 300  # the file is not a wall of "unknown"


def test_every_verified_source_carries_a_date_and_a_quote_and_the_count_is_reported(raw):
    for entry in raw["vendors"]:
        for key, source in entry["sources"].items():
            if "verified" in source or "quote" in source:
                assert len(source.get("verified", "")) == 10, (entry["name"], key)
                assert 10 <= len(source.get("quote", "")) <= 200, (entry["name"], key)
    vendors = load_vendors()
    summary = verification_summary(vendors)
    verified_by_hand = sum(fact.verified for vendor in vendors.values() for fact in vendor.facts().values())
    assert summary["facts_verified"] == verified_by_hand
    assert summary["facts_known"] + summary["facts_unknown"] == sum(len(v.facts()) for v in vendors.values())
    for vendor in vendors.values():
        for name, fact in vendor.facts().items():
            if fact.verified:
                assert fact.source.quote and fact.source.verified, (vendor.name, name)
    print(f"\nvendor facts verified against stored page text: {summary['facts_verified']} facts "
          f"of {summary['facts_known']} known ({summary['facts_unknown']} unknown), "
          f"{summary['vendors_verified']} of {len(vendors)} vendors")


def test_the_big_vendors_carry_the_facts_compliance_asks_for():
    vendors = load_vendors()
    for name in ("OpenAI", "Anthropic", "Google", "Microsoft"):
        vendor = vendors[name]
        for fact in ("legal_entity", "hq_country", "trains_on_inputs.consumer",
                     "trains_on_inputs.business", "dpa_available", "soc2", "iso27001"):
            assert vendor.facts()[fact].known, (name, fact)
        # business tiers of these vendors do not train on inputs by default
        assert vendor.trains_on_inputs["business"].value is False, name
    for name in ("OpenAI", "Anthropic", "Microsoft"):
        assert vendors[name].retention_days["business"].known, name


def test_retention_comparison_against_company_policy():
    openai = load_vendors()["OpenAI"]
    assert openai.retention_exceeds(14, "business") is True      # 30 days of abuse monitoring
    assert openai.retention_exceeds(30, "business") is False
    assert openai.retention_exceeds(3650, "consumer") is True    # kept until the user deletes it
    assert load_vendors()["Sider AI"].retention_exceeds(30) is None  # unknown is not "fine"
    assert openai.input_retention_days == 36500 and load_vendors()["Tabnine"].input_retention_days == 0
    assert load_vendors()["Sider AI"].input_retention_days is None


def test_vendor_for_tool_follows_the_catalog():
    assert vendor_for_tool("chatgpt").name == "OpenAI"
    assert vendor_for_tool("no-such-tool") is None


def _first_known(raw: dict) -> tuple[dict, str]:
    entry = copy.deepcopy(raw)
    return entry, entry["vendors"][0]["name"]


@pytest.mark.parametrize("breakage, message", [
    (lambda v: v.update(legal_entity={"value": "X Ltd", "source": "nowhere"}), "source 'nowhere'"),
    (lambda v: v.update(hq_country={"value": "United States", "source": "terms"}), "hq_country"),
    (lambda v: v["retention_days"].update(business={"value": -1, "source": "terms"}), "retention_days"),
    (lambda v: v["trains_on_inputs"].pop("consumer"), "trains_on_inputs"),
    (lambda v: v["sources"]["terms"].update(url="http://openai.com/"), "sources"),
    (lambda v: v.update(soc2="maybe"), "soc2"),
    (lambda v: v.pop("dpa_available"), "dpa_available"),
    (lambda v: v["sources"]["terms"].update(verified="2026-11-26"), "sources"),           # no quote
    (lambda v: v["sources"]["terms"].update(quote="words from the page"), "sources"),     # no date
    (lambda v: v["sources"]["terms"].update(verified="2026-11-26", quote="x" * 201), "sources"),
])
def test_broken_files_are_refused_naming_vendor_and_field(raw, breakage, message):
    data, name = _first_known(raw)
    breakage(data["vendors"][0])
    with pytest.raises(VendorError) as error:
        parse_vendors(data, "test")
    assert name in str(error.value) and message in str(error.value)


def test_a_vendor_listed_twice_is_refused(raw, tmp_path: Path):
    data = copy.deepcopy(raw)
    data["vendors"].append(copy.deepcopy(data["vendors"][0]))
    path = tmp_path / "vendors.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(VendorError, match="listed twice"):
        load_vendors(path)
