"""`shadowmap catalog ...`: facts from the AI-tool catalog and its vendor facts."""
from __future__ import annotations

import json
from collections.abc import Callable

import click


@click.group()
def catalog() -> None:
    """The AI-tool catalog and the facts about its vendors."""


@catalog.command()
@click.option("--json", "as_json", is_flag=True, help="Print the figures and one row per tool as JSON.")
def coverage(as_json: bool) -> None:
    """How many of the most used AI tools have every vendor fact known and checked against a
    stored copy of the vendor's page (the list and its ranking: detectors/data/top_tools.yaml)."""
    from shadowmap.detectors.vendor_coverage import coverage as measure
    from shadowmap.detectors.vendor_coverage import summary_line
    from shadowmap.detectors.vendors import VendorError

    figures = _measured(measure, VendorError, as_json)
    if figures is None:
        return
    click.echo(summary_line(figures))
    for row in figures["rows"]:
        state = "checked" if row["all_known_and_checked"] else "complete" if row["complete"] else "INCOMPLETE"
        missing = f"  unexplained: {', '.join(row['unexplained'])}" if row["unexplained"] else ""
        click.echo(f"  {row['tool']:<20} {row['vendor']:<28} {row['checked']:>2}/{row['facts']} checked, "
                   f"{row['known']:>2} known ({row['third_party']} third-party), "
                   f"{row['unknown_with_reason']:>2} unknown with a reason  {state}{missing}")


@catalog.command()
@click.option("--json", "as_json", is_flag=True, help="Print the figures and the tool ids as JSON.")
def signatures(as_json: bool) -> None:
    """How many catalog tools have process or app signatures, and how the others are marked:
    no local footprint (web, API or extension only, with the source) or unknown (with what was
    searched). The data is local_footprint in detectors/data/catalog/*.yaml."""
    from shadowmap.detectors.catalog import CatalogError, signature_coverage

    figures = _measured(signature_coverage, CatalogError, as_json)
    if figures is None:
        return
    click.echo(f"Catalog tools: {figures['tools']}; with process or app signatures: {figures['signed']}; "
               f"no local footprint (checked): {figures['no_local_footprint']}; "
               f"unknown (with what was searched): {figures['unknown']}; unmarked: {len(figures['unmarked'])}")
    if figures["unmarked"]:
        click.echo(f"  unmarked: {', '.join(figures['unmarked'])}")


def _measured(measure: Callable[[], dict], error: type[Exception], as_json: bool) -> dict | None:
    """The figures, or a clear error for bad data; printed as JSON (then None) when asked."""
    try:
        figures = measure()
    except error as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(json.dumps(figures, indent=2))
        return None
    return figures
