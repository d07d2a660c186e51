"""Teams: a device/user -> team mapping imported as CSV (columns `team` and `user` and/or
`device`; a device is named by its device id or hostname). An import replaces the mapping."""
from __future__ import annotations

from shadowmap.collector.csv_rows import EXTRA_CELLS, csv_rows

MAX_ROWS = 50000
MAX_CSV_BYTES = 4 * 1024 * 1024
MAX_FIELD = 256


class TeamsError(ValueError):
    """The teams CSV is not acceptable; the message says which line and why."""


def _header_problem(header: list[str]) -> str | None:
    if "team" not in header or not ({"user", "device"} & set(header)):
        return "the header must have a team column and a user and/or device column"
    return None


def parse_csv(text: str) -> list[tuple[str, str, str]]:
    """(kind, key, team) rows from a teams CSV; any bad line refuses the whole file."""
    mapping: dict[tuple[str, str], str] = {}
    for line, row in csv_rows(text, MAX_CSV_BYTES, TeamsError, _header_problem):
        if EXTRA_CELLS in row:
            raise TeamsError(f"line {line}: more cells than columns")
        team = row.get("team", "").strip()
        keys = [(kind, row.get(kind, "").strip()) for kind in ("user", "device")]
        keys = [(kind, key) for kind, key in keys if key]
        if not team or not keys:
            raise TeamsError(f"line {line}: needs a team and a user or device")
        if any(len(value) > MAX_FIELD for value in (team, *(key for _, key in keys))):
            raise TeamsError(f"line {line}: a value is longer than {MAX_FIELD} characters")
        for kind_key in keys:
            mapping[kind_key] = team
        if len(mapping) > MAX_ROWS:
            raise TeamsError(f"at most {MAX_ROWS} users and devices per file")
    return [(kind, key, team) for (kind, key), team in mapping.items()]
