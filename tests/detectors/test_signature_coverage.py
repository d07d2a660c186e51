"""Process and app signature coverage of the catalog (issue 20): every catalog tool either has a
signature (process names, bundle ids, command-line patterns or ports) or says why not in
`local_footprint` — {none: ...} naming the stored source that shows it is web, API or extension
only, or {unknown: ...} saying what was searched. The figures printed in docs/catalog.md are
counted again here from the raw YAML, and must match `shadowmap catalog signatures`."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from shadowmap.detectors.catalog import CatalogError, parse_catalog, signature_coverage
from shadowmap.detectors.catalog_cli import catalog as catalog_group

ROOT = Path(__file__).resolve().parents[2]
CATALOG_DIR = ROOT / "detectors" / "data" / "catalog"
SIGNATURE_KEYS = ("process_names", "bundle_ids", "cmdline_patterns", "local_ports")


def _raw_tools() -> list[dict]:
    return [tool for path in sorted(CATALOG_DIR.glob("*.yaml"))
            for tool in yaml.safe_load(path.read_text("utf-8"))["tools"]]


def _count_raw() -> dict[str, int]:
    counts = {"tools": 0, "signed": 0, "none": 0, "unknown": 0}
    for tool in _raw_tools():
        counts["tools"] += 1
        if any(tool.get(key) for key in SIGNATURE_KEYS):
            counts["signed"] += 1
        elif "local_footprint" in tool:
            counts[next(iter(tool["local_footprint"]))] += 1
    return counts


def test_every_catalog_tool_is_signed_or_marked():
    unmarked = [tool["id"] for tool in _raw_tools()
                if not any(tool.get(key) for key in SIGNATURE_KEYS) and "local_footprint" not in tool]
    assert unmarked == [], f"tools with neither a signature nor a local_footprint: {unmarked}"


def test_a_mark_says_where_it_comes_from():
    for tool in _raw_tools():
        footprint = tool.get("local_footprint")
        if not footprint:
            continue
        (kind, text), = footprint.items()
        if kind == "none":
            # a web-only verdict names the stored page or repository it rests on
            assert re.search(r"[a-z0-9-]+\.[a-z]{2,}|[A-Za-z0-9-]+/[A-Za-z0-9._-]+", text), tool["id"]
        else:
            assert re.search(r"search|look|cask|winget|npm|PyPI|stored|found", text, re.I), tool["id"]


def test_every_unknown_was_searched():
    # the 2026-12-07 pass left 12 tools marked "not yet searched"; each now says what was looked up
    unsearched = [tool["id"] for tool in _raw_tools()
                  if "not yet searched" in (tool.get("local_footprint") or {}).get("unknown", "")]
    assert unsearched == []


def test_the_loader_counts_what_the_raw_yaml_holds():
    raw = _count_raw()
    figures = signature_coverage()
    assert (figures["tools"], figures["signed"], figures["no_local_footprint"], figures["unknown"]) == \
        (raw["tools"], raw["signed"], raw["none"], raw["unknown"])
    assert figures["unmarked"] == []


def test_the_cli_prints_the_same_figures():
    result = CliRunner().invoke(catalog_group, ["signatures", "--json"])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)
    assert printed == signature_coverage()
    line = CliRunner().invoke(catalog_group, ["signatures"]).output
    assert f"with process or app signatures: {printed['signed']};" in line


def test_the_figures_in_docs_catalog_md_match_the_data():
    text = (ROOT / "docs" / "catalog.md").read_text("utf-8")
    section = text.split("## Process and app signatures", 1)[1]
    printed = re.search(r"Catalog tools: (\d+); with process or app signatures: (\d+); no local footprint "
                        r"\(checked\): (\d+); unknown \(with what was searched\): (\d+); unmarked: (\d+)", section)
    assert printed, "docs/catalog.md does not quote the output of `shadowmap catalog signatures`"
    raw = _count_raw()
    assert tuple(int(n) for n in printed.groups()) == (raw["tools"], raw["signed"], raw["none"], raw["unknown"], 0)


def _tool(**extra) -> dict:
    return {"version": 1, "tools": [{"id": "x", "name": "X", "vendor": "V", "category": "chat",
                                     "domains": ["x.example"], **extra}]}


def test_the_loader_takes_a_mark_and_refuses_a_bad_one():
    tool = parse_catalog(_tool(local_footprint={"unknown": "no cask, winget manifest or CLI package found"})).tools[0]
    assert tool.local_footprint == ("unknown", "no cask, winget manifest or CLI package found")
    assert not tool.signed
    for bad in ({"unknown": "?"},                                        # too short to say anything
                {"maybe": "a desktop app is rumoured somewhere"},       # not a kind
                {"none": "web only per x.example/faq", "unknown": "searched the casks"},
                {}):
        with pytest.raises(CatalogError):
            parse_catalog(_tool(local_footprint=bad))


def test_a_signed_tool_cannot_also_be_marked():
    with pytest.raises(CatalogError, match="local_footprint"):
        parse_catalog(_tool(process_names=["x"], local_footprint={"none": "web only per x.example/faq"}))
