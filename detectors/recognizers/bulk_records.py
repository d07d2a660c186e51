"""Bulk records: a dump of many rows of personal data (CSV/TSV/pipe tables, JSON arrays or
JSON lines, SQL INSERT tuples) is one production-data finding with its row count, even
when each row alone would score low.

Works on lines. A *run* is a block of consecutive lines with the same shape (same count of
the same delimiter, of gaps of two or more spaces between columns as pandas, psql or
``docker ps`` print them, or all starting like a JSON object / SQL tuple); its rows are counted
from the PII findings the engine already made, so the row count rests on validated values.
The run's header (column names) also tells which column holds names: its cells become
PERSON findings, which NER alone misses in tables.
Not a SecretRecognizer: the engine calls these functions itself.
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass

import regex as re

from shadowmap.detectors.recognizers.personal import birth_date

# Fewer rows than this is a record or two pasted to ask about, not a dump.
MIN_ROWS = 5
_DELIMITERS = (",", "\t", "|", ";")
# Columns aligned with spaces (pandas' head(), psql, fixed-width exports): cells are
# separated by two or more spaces, a single space stays inside a cell ("Emily Carter").
ALIGNED = "  "
_GAP = re.compile(r" {2,}")
_ALIGNED_CELL = re.compile(r"\S+(?: \S+)*")
_NAME_HEADER = re.compile(r"^(?:full_?name|name|customer_?name|contact_?name|display_?name|first_?name|last_?name"
                          r"|surname|given_?name|employee|customer|patient|holder)$", re.IGNORECASE)
_JSON_NAME = re.compile(r'"(?:full_?name|name|customer_?name|contact_?name|display_?name|first_?name|last_?name)"'
                        r'\s*:\s*"(?P<value>[^"\\\n]{2,80})"', re.IGNORECASE)
_BIRTH_HEADER = re.compile(r"^(?:\w*_)?(?:dob|date_?of_?birth|date of birth|birth_?date|birthdate|birthday|born"
                           r"|geburtsdatum|geburtstag|date_?de_?naissance|fecha_?de_?nacimiento)$", re.IGNORECASE)
_SQL_COLUMNS = re.compile(r"INSERT\s+INTO\s+[\w.`\"\[\]]+\s*\((?P<cols>[^)]*)\)", re.IGNORECASE)
# Two to four words of letters, the first and the last capitalised ("Anna de Vries"): a
# service's name in kubectl's NAME column ("redis-cart") is written in lower case.
_NAME_VALUE = re.compile(r"^\p{Lu}[^\W\d_'.\- ]*(?:[ '.\-]{1,2}[^\W\d_][^\W\d_'.\-]*){0,2}[ '.\-]{1,2}\p{Lu}[^\W\d_'.\-]*\.?$")
_KIND_WORDS = {"EMAIL_ADDRESS": "emails", "PHONE_NUMBER": "phones", "PERSON": "names", "US_SSN": "SSNs",
               "UK_NINO": "NI numbers", "CREDIT_CARD": "card numbers", "IBAN_CODE": "IBANs", "IP_ADDRESS": "IP addresses",
               "STREET_ADDRESS": "addresses", "DATE_OF_BIRTH": "dates of birth"}
MAX_LINES = 200_000
# An IP address names a machine as often as a person: a pod's, a service's, a route's, a
# health probe's (kubectl get pods -o wide, ss, ip route, /etc/hosts, JSON log lines). Alone
# it does not make a row a record about someone; beside a name, email, phone ... it is listed.
MACHINE_TYPES = frozenset({"IP_ADDRESS"})


@dataclass(frozen=True)
class Run:
    start: int            # char offset of the run's first line (header included)
    end: int              # char offset of the end of its last line
    lines: tuple[tuple[int, int], ...]   # (start, end) of each data line
    header: tuple[str, ...]              # column names, lower-cased ("" when none)
    delimiter: str        # "" for JSON / SQL runs
    kind: str             # "table", "json" or "sql"
    customer: bool        # the header or table name says customers


def _line_spans(text: str) -> list[tuple[int, int]]:
    spans, start = [], 0
    for i, line in enumerate(text.split("\n")):
        if i >= MAX_LINES:
            break
        spans.append((start, start + len(line)))
        start += len(line) + 1
    return spans


def _shape(line: str) -> tuple[str, int] | None:
    stripped = line.strip()
    if not stripped:
        return None
    if stripped[0] == "{" and ":" in stripped:
        return ("json", 0)
    if stripped[0] == "(" and "," in stripped:
        return ("sql", 0)
    counts = [(line.count(d), d) for d in _DELIMITERS]
    count, delimiter = max(counts)
    if count >= 2:
        return (delimiter, count)
    gaps = len(_GAP.findall(stripped))
    if gaps >= 2:
        return (ALIGNED, gaps)
    return None


def _split_cells(line: str, line_start: int, delimiter: str) -> list[tuple[int, int]]:
    """(start, end) of each cell's value, surrounding quotes and blanks excluded."""
    if delimiter == ALIGNED:
        return [(line_start + m.start(), line_start + m.end()) for m in _ALIGNED_CELL.finditer(line)]
    cells, pos = [], line_start
    for part in line.split(delimiter):
        value = part.lstrip(" \"'(")
        start = pos + len(part) - len(value)
        cells.append((start, start + len(value.rstrip(" \"');,"))))
        pos += len(part) + 1
    if len(cells) > 1 and not line[cells[-1][0] - line_start:].strip(" \t\r,;)"):
        cells.pop()   # the empty cell after a SQL tuple's trailing comma
    return cells


def find_runs(text: str) -> list[Run]:
    spans = _line_spans(text)
    runs: list[Run] = []
    i = 0
    while i < len(spans):
        shape = _shape(text[spans[i][0]:spans[i][1]])
        if shape is None:
            i += 1
            continue
        j = i + 1
        while j < len(spans) and _shape(text[spans[j][0]:spans[j][1]]) == shape:
            j += 1
        if j - i >= MIN_ROWS:
            runs.append(_make_run(text, spans, i, j, shape))
        i = j
    return runs


def _make_run(text: str, spans, i: int, j: int, shape: tuple[str, int]) -> Run:
    kind = {"json": "json", "sql": "sql"}.get(shape[0], "table")
    delimiter = shape[0] if kind == "table" else ""
    first = text[spans[i][0]:spans[i][1]]
    header: tuple[str, ...] = ()
    start, data = spans[i][0], spans[i:j]
    before = text[spans[i - 1][0]:spans[i - 1][1]] if i > 0 else ""
    if kind == "table" and not any(c.isdigit() for c in first.replace("_id", "")) and "@" not in first:
        cells = _GAP.split(first.strip()) if delimiter == ALIGNED else first.split(delimiter)
        header = tuple(c.strip(" \"'").lower() for c in cells)
        data = spans[i + 1:j]
    elif kind == "table" and delimiter == ALIGNED and i > 0 and _shape(before) == (ALIGNED, shape[1] - 1):
        # pandas prints its header without the index column the rows start with
        header = ("", *(c.strip(" \"'").lower() for c in _GAP.split(before.strip())))
        start = spans[i - 1][0]
    elif kind == "sql" and (match := _SQL_COLUMNS.search(before)):
        header = tuple(c.strip(" `\"[]").lower() for c in match.group("cols").split(","))
        start = spans[i - 1][0]
    context = " ".join(header) + " " + (before if kind != "table" else "") + " " + first
    return Run(start=start, end=spans[j - 1][1], lines=tuple(data), header=header, delimiter=delimiter,
               kind=kind, customer="customer" in context.lower() or "client" in context.lower())


def _json_names(text: str, run: Run) -> list[tuple[int, int]]:
    """Spans of the name-like values of a JSON run's name fields."""
    return [match.span("value")
            for line_start, line_end in run.lines
            for match in _JSON_NAME.finditer(text, line_start, line_end)
            if _NAME_VALUE.match(match.group("value"))]


def _column_cells(text: str, run: Run, names: list[tuple[int, int]], births: list[tuple[int, int]]) -> None:
    """Add the spans of a delimited run's name-like cells in its name column(s) to ``names``,
    and of the dates in its date-of-birth column(s) to ``births``."""
    name_columns = [k for k, name in enumerate(run.header) if _NAME_HEADER.match(name)]
    birth_columns = [k for k, name in enumerate(run.header) if _BIRTH_HEADER.match(name)]
    if not name_columns and not birth_columns:
        return
    delimiter = run.delimiter or ","
    for line_start, line_end in run.lines:
        cells = _split_cells(text[line_start:line_end], line_start, delimiter)
        if len(cells) != len(run.header):
            continue
        for k in name_columns:
            s, e = cells[k]
            if e - s >= 3 and _NAME_VALUE.match(text[s:e]):
                names.append(cells[k])
        for k in birth_columns:
            s, e = cells[k]
            if birth_date(text[s:e]) is not None:
                births.append(cells[k])


def person_cells(text: str, runs: list[Run]) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Spans of the values in the runs' name column(s) that look like a person's name, and
    of the dates in their date-of-birth column (dob, birth_date ...): the header gives them
    the context a bare name or date lacks. JSON fields carry their own name; their dates of
    birth are found by the date-of-birth recognizer. Each row is split into cells once."""
    names: list[tuple[int, int]] = []
    births: list[tuple[int, int]] = []
    for run in runs:
        if run.kind == "json":
            names.extend(_json_names(text, run))
        else:
            _column_cells(text, run, names, births)
    return names, births


@dataclass(frozen=True)
class BulkRecords:
    start: int
    end: int
    rows: int
    reason: str


def bulk_records(runs: list[Run], pii: list[tuple[int, int, str]]) -> list[BulkRecords]:
    """One BulkRecords per run with at least MIN_ROWS rows holding personal data: some
    finding in the row other than an IP address (MACHINE_TYPES).
    ``pii``: (start, end, entity_type) of the engine's PII findings, sorted by start."""
    starts = [p[0] for p in pii]
    out: list[BulkRecords] = []
    for run in runs:
        rows = 0
        kinds: dict[str, int] = {}
        for line_start, line_end in run.lines:
            lo, hi = bisect.bisect_left(starts, line_start), bisect.bisect_left(starts, line_end)
            if any(entity_type not in MACHINE_TYPES for _s, _e, entity_type in pii[lo:hi]):
                rows += 1
                for _s, _e, entity_type in pii[lo:hi]:
                    kinds[entity_type] = kinds.get(entity_type, 0) + 1
        if rows < MIN_ROWS:
            continue
        words = [_KIND_WORDS.get(t, t.lower()) for t, _n in sorted(kinds.items(), key=lambda kv: -kv[1])][:3]
        listed = words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]
        noun = "customer rows" if run.customer else "rows of personal data"
        out.append(BulkRecords(run.start, run.end, rows, f"{rows} {noun} with {listed}"))
    return out
