"""How complete the vendor facts are for the most used AI tools.

The most used tools are listed, with the basis of their ranking, in
``detectors/data/top_tools.yaml``. For each, its vendor's facts are judged three ways:
*complete* (every fact is known with a source, or unknown with what was searched for it),
*known* (every fact has a value and a source) and *checked* (every fact is known and its
source was verified: its text read from a stored copy of the vendor's page, with a quote
that states that very fact, as the source's ``states`` says; a quote read for one fact does
not check another fact citing the same page). A fact whose source is a third party's page
(the source names its ``publisher``: a news article, Wikipedia, a terms summary) is known,
never checked; the counts say how many known facts come only from such pages.
The figure the weekly report and ``shadowmap catalog coverage`` print is the number of top
tools whose facts are all known and checked, computed here from the data and nowhere else.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from shadowmap.detectors.catalog import load_catalog
from shadowmap.detectors.vendors import Fact, Vendor, VendorError, load_vendors

BUNDLED_TOP_TOOLS = Path(__file__).resolve().parent / "data" / "top_tools.yaml"
TOP_TOOLS = 60


@dataclass(frozen=True)
class ToolCoverage:
    tool_id: str
    tool_name: str
    vendor: str
    facts: int
    known: int
    checked: int
    unknown_with_reason: int
    # of the known facts, those known only from a third party's page (never checked)
    third_party: int
    # facts neither known nor explained: what keeps the tool from being complete
    unexplained: tuple[str, ...]

    @property
    def complete(self) -> bool:
        return not self.unexplained

    @property
    def all_known(self) -> bool:
        return self.known == self.facts

    @property
    def all_known_and_checked(self) -> bool:
        return self.checked == self.facts

    def as_dict(self) -> dict[str, Any]:
        return {"tool": self.tool_id, "name": self.tool_name, "vendor": self.vendor, "facts": self.facts,
                "known": self.known, "checked": self.checked, "third_party": self.third_party,
                "unknown_with_reason": self.unknown_with_reason,
                "unexplained": list(self.unexplained), "complete": self.complete,
                "all_known_and_checked": self.all_known_and_checked}


def _read_top_tools(path: Path) -> tuple[str, ...]:
    try:
        data = yaml.safe_load(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise VendorError(f"cannot read the top tools {path}: {exc}") from None
    entries = data.get("tools") if isinstance(data, dict) else None
    if not isinstance(entries, list) or not all(isinstance(e, dict) and isinstance(e.get("id"), str) for e in entries):
        raise VendorError(f"{path}: `tools` must be a list of {{id: <catalog tool id>}}")
    ids = tuple(entry["id"] for entry in entries)
    catalog = load_catalog()
    missing = [tool_id for tool_id in ids if catalog.by_id(tool_id) is None]
    if missing:
        raise VendorError(f"{path}: not catalog tool ids: {', '.join(missing)}")
    if len(set(ids)) != len(ids):
        raise VendorError(f"{path}: a tool is listed twice")
    return ids


@lru_cache(maxsize=1)
def top_tools() -> tuple[str, ...]:
    """The catalog ids of the most used tools, most used first (the bundled list)."""
    return _read_top_tools(BUNDLED_TOP_TOOLS)


def _judge(fact: Fact) -> str:
    if fact.verified:  # the source was read, and its quote states this fact
        return "checked"
    if fact.third_party:  # known from a third party's words, not the vendor's page
        return "third_party"
    if fact.known:
        return "known"
    return "unknown_with_reason" if fact.reason else "unexplained"


def tool_coverage(tool_id: str, vendors: dict[str, Vendor] | None = None) -> ToolCoverage:
    tool = load_catalog().by_id(tool_id)
    if tool is None:
        raise VendorError(f"no catalog tool {tool_id!r}")
    vendor = (load_vendors() if vendors is None else vendors).get(tool.vendor)
    if vendor is None:
        raise VendorError(f"tool {tool_id!r}: no vendor facts for {tool.vendor!r}")
    judged = {name: _judge(fact) for name, fact in vendor.facts().items()}
    kinds = list(judged.values())
    return ToolCoverage(
        tool_id=tool_id, tool_name=tool.name, vendor=vendor.name, facts=len(kinds),
        known=kinds.count("known") + kinds.count("checked") + kinds.count("third_party"),
        checked=kinds.count("checked"), third_party=kinds.count("third_party"),
        unknown_with_reason=kinds.count("unknown_with_reason"),
        unexplained=tuple(name for name, kind in judged.items() if kind == "unexplained"))


def coverage(vendors: dict[str, Vendor] | None = None, tool_ids: tuple[str, ...] | None = None) -> dict[str, Any]:
    """The coverage of the top tools' vendor facts, as a JSON-ready dict: counts, then one row per tool."""
    rows = [tool_coverage(tool_id, vendors) for tool_id in (top_tools() if tool_ids is None else tool_ids)]
    return {
        "tools": len(rows),
        "all_known_and_checked": sum(row.all_known_and_checked for row in rows),
        "all_known": sum(row.all_known for row in rows),
        "complete": sum(row.complete for row in rows),
        "facts": sum(row.facts for row in rows),
        "facts_checked": sum(row.checked for row in rows),
        "facts_known": sum(row.known for row in rows),
        "facts_third_party": sum(row.third_party for row in rows),
        "facts_unknown_with_reason": sum(row.unknown_with_reason for row in rows),
        "rows": [row.as_dict() for row in rows],
    }


def summary_line(figures: dict[str, Any]) -> str:
    """The coverage in one sentence, as the report and the CLI print it."""
    return (f"Vendor facts of the {figures['tools']} most used AI tools: {figures['all_known_and_checked']} have "
            f"every fact known and checked against a stored copy of the vendor's page; "
            f"{figures['all_known']} have every fact known; {figures['complete']} are complete "
            f"(each fact known or unknown with what was searched). Facts: {figures['facts_checked']} checked, "
            f"{figures['facts_known']} known ({figures['facts_third_party']} of them only from third-party pages), "
            f"{figures['facts_unknown_with_reason']} unknown with a reason, "
            f"of {figures['facts']}.")
