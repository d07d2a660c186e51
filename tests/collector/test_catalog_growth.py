"""Meta-test over the whole catalog: big enough, every tool's vendor has facts, no vendor
entry without a tool, and the split files stay small and valid on their own."""
from __future__ import annotations

from shadowmap.detectors.catalog import BUNDLED_CATALOG, load_catalog
from shadowmap.detectors.vendors import load_vendors

CATEGORIES_EXPECTED = {"chat", "builder", "coding", "playground", "search", "local", "agent", "other"}


def test_catalog_lists_at_least_150_tools_in_every_category():
    catalog = load_catalog()
    assert len(catalog.tools) >= 150
    assert {tool.category for tool in catalog.tools} == CATEGORIES_EXPECTED


def test_every_catalog_vendor_has_facts_and_every_fact_entry_has_a_tool():
    catalog_vendors = {tool.vendor for tool in load_catalog().tools}
    vendors = set(load_vendors())
    assert sorted(catalog_vendors - vendors) == []
    assert sorted(vendors - catalog_vendors) == []


def test_each_catalog_file_loads_on_its_own():
    files = sorted(BUNDLED_CATALOG.glob("*.yaml"))
    assert len(files) >= 2
    total = sum(len(load_catalog(path).tools) for path in files)
    assert total == len(load_catalog().tools)


def test_new_tools_are_matched_by_their_hosts():
    catalog = load_catalog()
    for host, tool_id in [("www.doubao.com", "doubao"), ("app.fireflies.ai", "fireflies"),
                          ("bedrock-runtime.us-east-1.amazonaws.com", "amazon-bedrock"),
                          ("smith.langchain.com", "langsmith"), ("chat.z.ai", "chatglm")]:
        assert catalog.match_domain(host).id == tool_id
    # near misses: a lookalike host is not the tool
    assert catalog.match_domain("fireflies.ai.evil.example") is None
    assert catalog.match_domain("notdoubao.com") is None
