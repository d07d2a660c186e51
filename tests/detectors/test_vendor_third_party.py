"""The third-party tier of vendor facts: a source that names its `publisher` (a news article,
Wikipedia, a terms summary) may be off the vendor's own domains, must carry the date it was
read, the third party's words and the facts they state, and its facts are known, never checked;
the coverage counts them apart, in the CLI and the weekly report alike."""
from __future__ import annotations

import copy

import pytest
import yaml

from shadowmap.detectors.catalog import load_catalog
from shadowmap.detectors.vendor_coverage import coverage, summary_line, top_tools
from shadowmap.detectors.vendors import BUNDLED_VENDORS, VendorError, load_vendors, parse_vendors

NEWS = {"url": "https://news.example.com/2026/openai-soc2", "recorded": "2026-12-08", "verified": "2026-12-08",
        "publisher": "Example News", "quote": "OpenAI says it has completed a SOC 2 Type 2 audit.",
        "states": ["soc2"]}


@pytest.fixture(scope="module")
def raw() -> dict:
    return yaml.safe_load(BUNDLED_VENDORS.read_text("utf-8"))


def _openai(document: dict) -> dict:
    return next(entry for entry in document["vendors"] if entry["name"] == "OpenAI")


def _with_news(raw: dict, **changes) -> dict:
    """OpenAI's soc2 cited from a third party's page (off its domains), the source changed as asked."""
    document = copy.deepcopy(raw)
    openai = _openai(document)
    assert openai.get("domains")
    for other in openai["sources"].values():  # the page soc2 cited no longer states it
        if "soc2" in other.get("states", ()):
            other["states"].remove("soc2")
    source = {**NEWS, **changes}
    openai["sources"]["news"] = {key: value for key, value in source.items() if value is not None}
    openai["soc2"] = {"value": True, "source": "news"}
    return document


def test_a_third_party_source_may_be_off_the_vendors_domains_and_its_fact_is_known_not_checked(raw):
    fact = parse_vendors(_with_news(raw))["OpenAI"].soc2
    assert fact.known and fact.third_party and fact.value is True
    assert fact.stated and not fact.verified  # read and stated, still not the vendor's own page
    assert fact.source.publisher == "Example News"
    # the vendor's own facts are not third-party ones
    assert not any(f.third_party for name, f in parse_vendors(raw)["OpenAI"].facts().items() if name != "soc2"
                   and f.source is not None and f.source.publisher is None)


def test_the_same_page_without_a_publisher_is_refused_off_the_vendors_domains(raw):
    with pytest.raises(VendorError, match="not on the vendor's own domains"):
        parse_vendors(_with_news(raw, publisher=None))


@pytest.mark.parametrize("missing", ["verified", "quote", "states"])
def test_a_third_party_source_without_its_date_words_or_stated_facts_is_refused(raw, missing):
    with pytest.raises(VendorError, match="OpenAI"):
        parse_vendors(_with_news(raw, **{missing: None}))


def test_a_third_party_source_stating_nothing_or_with_an_empty_publisher_is_refused(raw):
    with pytest.raises(VendorError, match="OpenAI"):
        parse_vendors(_with_news(raw, states=[]))
    with pytest.raises(VendorError, match="OpenAI"):
        parse_vendors(_with_news(raw, publisher=""))


def test_near_misses_a_third_party_quote_cannot_state_a_fact_citing_another_source(raw):
    # OpenAI's legal_entity cites the vendor's own page: the news quote cannot state it
    assert _openai(raw)["legal_entity"]["source"] != "news"
    with pytest.raises(VendorError, match="source news: states .*legal_entity.*, which cite another source"):
        parse_vendors(_with_news(raw, states=["soc2", "legal_entity"]))
    # a fact citing the third party's page that its quote does not state is refused too
    unstated = _with_news(raw)
    _openai(unstated)["iso27001"] = {"value": True, "source": "news"}
    with pytest.raises(VendorError, match="cited by iso27001, which its quote does not state"):
        parse_vendors(unstated)


def test_coverage_counts_third_party_facts_as_known_apart_and_never_as_checked(raw):
    before = coverage(parse_vendors(raw))
    after = coverage(parse_vendors(_with_news(raw)))
    openai_tools = [t for t in top_tools() if load_catalog().by_id(t).vendor == "OpenAI"]
    assert openai_tools
    was = parse_vendors(raw)["OpenAI"].soc2
    n = len(openai_tools)
    assert after["facts_third_party"] == before["facts_third_party"] + n
    assert after["facts_known"] == before["facts_known"] + (0 if was.known else n)
    assert after["facts_checked"] == before["facts_checked"] - (n if was.verified else 0)
    row_before = next(r for r in before["rows"] if r["tool"] == openai_tools[0])
    row_after = next(r for r in after["rows"] if r["tool"] == openai_tools[0])
    assert row_after["third_party"] == row_before["third_party"] + 1
    assert not row_after["all_known_and_checked"]
    line = summary_line(after)
    assert f"{after['facts_known']} known ({after['facts_third_party']} of them only from third-party pages)" in line


def test_the_bundled_counts_of_third_party_facts_match_the_data(raw):
    figures = coverage()
    vendors = load_vendors()
    catalog = load_catalog()
    by_hand = sum(fact.third_party for tool in top_tools()
                  for fact in vendors[catalog.by_id(tool).vendor].facts().values())
    assert figures["facts_third_party"] == by_hand == sum(row["third_party"] for row in figures["rows"])
    assert not any(fact.verified for vendor in vendors.values() for fact in vendor.facts().values() if fact.third_party)
    # every third-party source in the file names its publisher and states what cites it
    for entry in raw["vendors"]:
        for key, source in entry["sources"].items():
            if "publisher" in source:
                assert source["verified"] and 10 <= len(source["quote"]) <= 200 and source["states"], (entry["name"], key)


def test_the_figures_quoted_in_docs_catalog_md_are_the_clis_sentence():
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "catalog.md").read_text("utf-8")
    section = text.split("## The coverage figure", 1)[1]
    quoted = section.split("```\nVendor facts", 1)[1].split("```", 1)[0]
    assert " ".join(("Vendor facts" + quoted).split()) == summary_line(coverage())
