"""Reading an uploaded CSV (the register's, the teams'): a size limit, the byte-order mark,
a header of lowercased names checked by the caller, rows as dicts with their line number. A
file that is not valid CSV is refused with the line it breaks on; a row with more cells than
columns comes back marked (EXTRA_CELLS), so a caller can report it with the other rows' errors."""
from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator

EXTRA_CELLS = "\0extra"  # the key of a row's cells beyond the header (no real column can be named so)


def csv_rows(text: str, max_bytes: int, error: type[ValueError],
             check_header: Callable[[list[str]], str | None]) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, {column: cell}) for each row of ``text``. Raises ``error`` when the file
    is too large or not valid CSV, or when ``check_header`` returns a complaint about the header."""
    if len(text.encode("utf-8")) > max_bytes:
        raise error(f"the file is larger than {max_bytes // 1024} KiB")
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff"), newline=""), strict=True, restkey=EXTRA_CELLS)
    try:
        header = [name.strip().lower() for name in reader.fieldnames or []]
    except csv.Error as exc:
        raise error(f"line 1: not valid CSV ({exc})") from None
    complaint = check_header(header)
    if complaint:
        raise error(complaint)
    reader.fieldnames = header
    try:
        for row in reader:
            yield reader.line_num, {key: value if isinstance(value, str) else "" for key, value in row.items()}
    except csv.Error as exc:
        raise error(f"line {reader.line_num}: not valid CSV ({exc})") from None
