"""Vendor facts of the 60 most used AI tools: each fact is known with a source on the vendor's
own domains, or unknown with what was searched for it; and the coverage figure that the CLI
and the weekly report print is the one the data gives, counted here independently from the
raw YAML."""
from __future__ import annotations

import copy
import json
import subprocess
import sys

import pytest
import sqlite_utils
import yaml

from shadowmap.collector.report.render import render
from shadowmap.collector.report.weekly import build
from shadowmap.collector.store.migrations import apply_migrations
from shadowmap.detectors.catalog import load_catalog
from shadowmap.detectors.vendor_coverage import BUNDLED_TOP_TOOLS, TOP_TOOLS, coverage, top_tools
from shadowmap.detectors.vendors import BUNDLED_VENDORS, VendorError, on_domains, parse_vendors

FACTS = ("legal_entity", "hq_country", "data_regions", "retention_days.consumer", "retention_days.business",
         "trains_on_inputs.consumer", "trains_on_inputs.business", "dpa_available", "soc2", "iso27001")


@pytest.fixture(scope="module")
def raw() -> dict:
    return yaml.safe_load(BUNDLED_VENDORS.read_text("utf-8"))


@pytest.fixture(scope="module")
def top_vendor_entries(raw) -> dict[str, dict]:
    """Tool id -> the raw vendor entry behind it, for the 60 tools."""
    by_name = {entry["name"]: entry for entry in raw["vendors"]}
    catalog = load_catalog()
    return {tool_id: by_name[catalog.by_id(tool_id).vendor] for tool_id in top_tools()}


def _raw_fact(entry: dict, name: str):
    key, _, tier = name.partition(".")
    return entry[key][tier] if tier else entry[key]


def test_the_list_is_sixty_catalog_tools_once_each_with_a_cited_ranking():
    ids = top_tools()
    assert len(ids) == TOP_TOOLS == len(set(ids))
    assert all(load_catalog().by_id(tool_id) is not None for tool_id in ids)
    listed = yaml.safe_load(BUNDLED_TOP_TOOLS.read_text("utf-8"))
    assert listed["ranking_source"].startswith("https://")
    ranked = [entry["a16z_web"] for entry in listed["tools"] if "a16z_web" in entry]
    assert ranked == sorted(ranked) and ids[:len(ranked)] == tuple(e["id"] for e in listed["tools"][:len(ranked)])


def test_every_fact_of_the_sixty_is_known_or_unknown_with_what_was_searched(top_vendor_entries):
    for tool_id, entry in top_vendor_entries.items():
        for name in FACTS:
            fact = _raw_fact(entry, name)
            assert fact != "unknown", f"{tool_id} ({entry['name']}): {name} is a bare 'unknown'"
            if "unknown" in fact:
                assert len(fact["unknown"]) >= 10, (tool_id, name)
                continue
            source = entry["sources"][fact["source"]]
            assert len(source["recorded"]) == 10, (tool_id, name)
            if "verified" in source:  # checked against a stored copy: the page's own words are kept
                assert 10 <= len(source["quote"]) <= 200, (tool_id, name)
                assert isinstance(source["states"], list), (tool_id, name)


def test_sources_of_the_sixty_are_on_the_vendors_own_domains(top_vendor_entries):
    for tool_id, entry in top_vendor_entries.items():
        domains = entry.get("domains")
        assert domains, f"{tool_id} ({entry['name']}) lists no domains of its own"
        for key, source in entry["sources"].items():
            assert source["url"].startswith("https://"), (entry["name"], key)
            if "publisher" in source:  # a third party's page, named as such: known, never checked
                assert source["verified"] and source["quote"] and source["states"], (entry["name"], key)
                continue
            assert on_domains(source["url"], tuple(domains)), (entry["name"], key, source["url"])


def test_the_loader_refuses_a_source_off_the_vendors_domains_and_a_reasonless_explanation(raw):
    bad = copy.deepcopy(raw)
    openai = next(entry for entry in bad["vendors"] if entry["name"] == "OpenAI")
    openai["domains"] = ["openai.com"]
    openai["sources"]["trust"]["url"] = "https://openai.com.example.net/trust"
    with pytest.raises(VendorError, match="not on the vendor's own domains"):
        parse_vendors(bad)
    short = copy.deepcopy(raw)
    next(e for e in short["vendors"] if e["name"] == "OpenAI")["soc2"] = {"unknown": "no"}
    with pytest.raises(VendorError, match="OpenAI"):
        parse_vendors(short)
    explained = copy.deepcopy(raw)
    next(e for e in explained["vendors"] if e["name"] == "OpenAI")["soc2"] = {"unknown": "searched: OpenAI SOC 2"}
    fact = parse_vendors(explained)["OpenAI"].soc2
    assert not fact.known and fact.reason == "searched: OpenAI SOC 2"


def _independent_count(entries: dict[str, dict]) -> tuple[int, int]:
    """(tools with every fact known and checked, tools with every fact known), from the raw YAML."""
    checked = known = 0
    for entry in entries.values():
        facts = [_raw_fact(entry, name) for name in FACTS]
        is_known = [isinstance(f, dict) and "source" in f for f in facts]
        # checked: the source was read AND its quote states this very fact
        # (a third party's page never checks a fact)
        is_checked = [k and "verified" in entry["sources"][f["source"]] and name in entry["sources"][f["source"]]["states"]
                      and "publisher" not in entry["sources"][f["source"]]
                      for k, f, name in zip(is_known, facts, FACTS, strict=True)]
        known += all(is_known)
        checked += all(is_checked)
    return checked, known


def test_the_coverage_figure_equals_the_data_in_the_cli_and_the_weekly_report(top_vendor_entries, tmp_path):
    checked, known = _independent_count(top_vendor_entries)
    figures = coverage()
    assert (figures["tools"], figures["all_known_and_checked"], figures["all_known"]) == (TOP_TOOLS, checked, known)
    assert figures["complete"] == TOP_TOOLS
    print(f"\n{figures['all_known_and_checked']} of {TOP_TOOLS} tools have every fact known and checked; "
          f"{figures['all_known']} every fact known; facts checked {figures['facts_checked']} of {figures['facts']}")

    printed = subprocess.run([sys.executable, "-m", "shadowmap.cli", "catalog", "coverage", "--json"],
                             capture_output=True, text=True, timeout=60, check=True)
    assert json.loads(printed.stdout)["all_known_and_checked"] == checked
    text = subprocess.run([sys.executable, "-m", "shadowmap.cli", "catalog", "coverage"],
                          capture_output=True, text=True, timeout=60, check=True).stdout
    assert text.startswith(f"Vendor facts of the {TOP_TOOLS} most used AI tools: {checked} have every fact known and checked")
    assert f"{figures['facts_known']} known ({figures['facts_third_party']} of them only from third-party pages)" in text
    assert len(text.splitlines()) == 1 + TOP_TOOLS

    db = sqlite_utils.Database(tmp_path / "collector.db")
    apply_migrations(db)
    report = build(db, "2026-W47")
    assert report["vendor_fact_coverage"]["all_known_and_checked"] == checked
    assert report["vendor_fact_coverage"]["tools"] == TOP_TOOLS
    html = render(report, "html")
    assert f"{checked} have every fact known and checked" in html
    assert report["vendor_fact_coverage"]["facts_third_party"] == figures["facts_third_party"]
    assert f"({figures['facts_third_party']} of them only from third-party pages)" in html


def test_coverage_drops_when_a_fact_loses_its_source_or_its_reason(raw):
    vendors = parse_vendors(raw)
    before = coverage(vendors)
    broken = copy.deepcopy(raw)
    chatgpt_vendor = load_catalog().by_id("chatgpt").vendor
    next(e for e in broken["vendors"] if e["name"] == chatgpt_vendor)["legal_entity"] = "unknown"
    after = coverage(parse_vendors(broken))
    assert after["complete"] == before["complete"] - sum(
        load_catalog().by_id(t).vendor == chatgpt_vendor for t in top_tools())
    row = next(r for r in after["rows"] if r["tool"] == "chatgpt")
    assert row["unexplained"] == ["legal_entity"] and not row["complete"]


def _facts_checked(entries: dict[str, dict]) -> int:
    """Facts of the 60 whose source was read and whose quote states them, from the raw YAML."""
    count = 0
    for entry in entries.values():
        for name in FACTS:
            fact = _raw_fact(entry, name)
            source = entry["sources"].get(fact["source"], {}) if isinstance(fact, dict) and "source" in fact else {}
            count += "verified" in source and name in source["states"] and "publisher" not in source
    return count


def test_a_quote_checks_only_the_facts_it_states_not_every_fact_citing_its_page(raw, top_vendor_entries):
    assert coverage()["facts_checked"] == _facts_checked(top_vendor_entries)
    # Microsoft's m365 page was read for its training sentence; data_regions cites the same page,
    # but the quote names no region, so that fact is known and not checked
    microsoft = next(e for e in raw["vendors"] if e["name"] == "Microsoft")
    m365 = microsoft["sources"]["m365"]
    assert microsoft["data_regions"]["source"] == "m365" and "verified" in m365
    assert m365["states"] == ["trains_on_inputs.business"]
    vendors = parse_vendors(raw)
    assert vendors["Microsoft"].trains_on_inputs["business"].verified
    assert vendors["Microsoft"].data_regions.known and not vendors["Microsoft"].data_regions.verified
    row = next(r for r in coverage(vendors)["rows"] if r["tool"] == "m365-copilot")
    # naming the fact in `states` (the same quote, the same page) is what would count it
    claimed = copy.deepcopy(raw)
    next(e for e in claimed["vendors"] if e["name"] == "Microsoft")["sources"]["m365"]["states"].append("data_regions")
    after = coverage(parse_vendors(claimed))
    tools = sum(load_catalog().by_id(t).vendor == "Microsoft" for t in top_tools())
    assert tools >= 3 and after["facts_checked"] == coverage(vendors)["facts_checked"] + tools
    assert next(r for r in after["rows"] if r["tool"] == "m365-copilot")["checked"] == row["checked"] + 1


def test_the_loader_refuses_a_verified_source_without_states_or_stating_a_fact_it_is_not_cited_for(raw):
    unstated = copy.deepcopy(raw)
    del next(e for e in unstated["vendors"] if e["name"] == "Microsoft")["sources"]["m365"]["states"]
    with pytest.raises(VendorError, match="Microsoft"):
        parse_vendors(unstated)
    stray = copy.deepcopy(raw)
    # soc2 cites Microsoft's `soc` page, not `m365`: the m365 quote cannot state it
    next(e for e in stray["vendors"] if e["name"] == "Microsoft")["sources"]["m365"]["states"].append("soc2")
    with pytest.raises(VendorError, match="source m365: states soc2, which cite another source"):
        parse_vendors(stray)
    unread = copy.deepcopy(raw)
    next(e for e in unread["vendors"] if e["name"] == "Microsoft")["sources"]["privacy"]["states"] = ["legal_entity"]
    with pytest.raises(VendorError, match="Microsoft"):
        parse_vendors(unread)
