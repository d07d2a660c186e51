"""Teams: a device/user -> team mapping imported as CSV (columns `team` and `user` and/or
`device`; a device is named by its device id or hostname). An import replaces the mapping."""
from __future__ import annotations

import csv
import io

MAX_ROWS = 50000
MAX_CSV_BYTES = 4 * 1024 * 1024
MAX_FIELD = 256


class TeamsError(ValueError):
    """The teams CSV is not acceptable; the message says which line and why."""


def parse_csv(text: str) -> list[tuple[str, str, str]]:
    """(kind, key, team) rows from a teams CSV; any bad line refuses the whole file."""
    if len(text.encode("utf-8")) > MAX_CSV_BYTES:
        raise TeamsError(f"the file is larger than {MAX_CSV_BYTES // 1024 // 1024} MiB")
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff"), newline=""), strict=True)
    try:
        header = [name.strip().lower() for name in reader.fieldnames or []]
    except csv.Error as exc:
        raise TeamsError(f"line 1: not valid CSV ({exc})") from None
    if "team" not in header or not ({"user", "device"} & set(header)):
        raise TeamsError("the header must have a team column and a user and/or device column")
    reader.fieldnames = header
    mapping: dict[tuple[str, str], str] = {}
    try:
        for row in reader:
            if None in row:
                raise TeamsError(f"line {reader.line_num}: more cells than columns")
            team = (row.get("team") or "").strip()
            keys = [(kind, (row.get(kind) or "").strip()) for kind in ("user", "device")]
            keys = [(kind, key) for kind, key in keys if key]
            if not team or not keys:
                raise TeamsError(f"line {reader.line_num}: needs a team and a user or device")
            if any(len(value) > MAX_FIELD for value in (team, *(key for _, key in keys))):
                raise TeamsError(f"line {reader.line_num}: a value is longer than {MAX_FIELD} characters")
            for kind_key in keys:
                mapping[kind_key] = team
            if len(mapping) > MAX_ROWS:
                raise TeamsError(f"at most {MAX_ROWS} users and devices per file")
    except csv.Error as exc:
        raise TeamsError(f"line {reader.line_num}: not valid CSV ({exc})") from None
    return [(kind, key, team) for (kind, key), team in mapping.items()]
