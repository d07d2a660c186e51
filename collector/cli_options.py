"""The one `--db` option of `shadowmap collector …`: every subcommand that opens the
collector's database takes it from here, so it is spelled, defaulted and explained once."""
from __future__ import annotations

from pathlib import Path

import click

from shadowmap.collector.config import CollectorConfig

DB_HELP = "The collector's SQLite database file (the same for every `shadowmap collector` subcommand)."

db_option = click.option("--db", "db_path", type=click.Path(dir_okay=False, path_type=Path),
                         default=CollectorConfig.db_path, show_default=True, help=DB_HELP)
