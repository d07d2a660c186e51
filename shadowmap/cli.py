"""The one console script. Subcommands live with the package they drive and are imported
only when invoked, so `shadowmap --help` and light commands never load Presidio."""
from __future__ import annotations

import importlib

import click

from shadowmap import __version__

# command name -> "module:attribute" of a click command or group
SUBCOMMANDS = {
    "scan": "shadowmap.detectors.cli:scan",
    "model": "shadowmap.detectors.cli:model",
    "catalog": "shadowmap.detectors.catalog_cli:catalog",
    "agent": "shadowmap.agent.cli:agent",
    "collector": "shadowmap.collector.cli:collector",
    "bridge": "shadowmap.bridge.cli:bridge",
    "package": "shadowmap.mdm.cli:package",
    "provenance": "shadowmap.provenance:provenance",
    "trace": "shadowmap.provenance:trace",
}

# Old names kept working, not listed: `shadowmap record` / `report` are now
# `shadowmap collector record` / `report`.
HIDDEN_ALIASES = {
    "record": "shadowmap.collector.record.cli:record",
    "report": "shadowmap.collector.report.cli:report",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(SUBCOMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        target = SUBCOMMANDS.get(name) or HIDDEN_ALIASES.get(name)
        if target is None:
            return None
        module, attr = target.split(":")
        return getattr(importlib.import_module(module), attr)


@click.group(cls=LazyGroup)
@click.version_option(__version__, prog_name="shadowmap")
def main() -> None:
    """shadowmap: find shadow AI and stop company data from leaking into it."""


if __name__ == "__main__":
    main()
