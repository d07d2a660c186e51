"""The query functions' SQL, as PostgreSQL reads it.

The query functions (shadowmap.collector.store.sqlite.<concern>) are written once, in the
dialect SQLite and PostgreSQL share; what the two still spell differently is rewritten here,
once per statement text (cached), so a function runs unchanged on either backend:

- parameters: `?`, `?N` (numbered) and `:name` become psycopg's `%s` / `%(name)s` (a `%`
  of the statement itself is doubled); numbered ones come back as the order to bind them in;
- `user`, a column of several tables, is a reserved word in PostgreSQL: quoted;
- `x IN (SELECT value FROM json_each(?))`, a list bound as a parameter, becomes
  `x = ANY(ARRAY(SELECT …))` (`NOT IN`: `<> ALL`): PostgreSQL guesses a set-returning
  function yields 100 rows and, for a table of some thousands, scans it all rather than
  probe its index that many times; an array it guesses at 10 elements, and probes;
- `json_each(x)` over a JSON list becomes `json_array_elements_text(x::json)` (or
  `json_array_elements` where the statement reads `value->>N` from the elements): both
  yield a column named `value`, as SQLite's does;
- SQLite's scalar `min(a, b)` / `max(a, b)` become `LEAST` / `GREATEST` (one argument:
  the aggregate, the same on both);
- `json_extract(x, '$.a.b')` becomes `(CAST(x AS json) #>> '{a,b}')`;
- `group_concat(x[, sep])` becomes `string_agg(x, sep or ',')`;
- `json_group_array(x)` becomes `CAST(json_agg(x) AS text)` (JSON text, as SQLite gives it);
- the `temp.` schema of temp tables becomes `pg_temp.`;
- `instr(text, part)` becomes `strpos(text, part)`;
- `INSERT OR IGNORE` becomes `INSERT … ON CONFLICT DO NOTHING`.

String literals and quoted identifiers are left alone. What this does not rewrite (SQLite's
date functions, `INSERT OR REPLACE`, summing booleans, …) fails on PostgreSQL with its own
error: such a query is not portable yet (docs/scale.md lists them)."""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

# string literals, quoted identifiers, and the rest between them
_TOKENS = re.compile(r"('(?:[^']|'')*')|(\"(?:[^\"]|\"\")*\")|([^'\"]+)")
_PARAMS = re.compile(r"\?(\d*)|(?<![:\w]):([A-Za-z_]\w*)|%")
_USER = re.compile(r"(?<![\w\"])user(?![\w\"(])", re.IGNORECASE)
_INSERT_OR_IGNORE = re.compile(r"^\s*INSERT\s+OR\s+IGNORE\s+INTO\b", re.IGNORECASE)
_JSON_EACH = re.compile(r"\bjson_each\s*\(", re.IGNORECASE)
# IN (, where the subquery is SELECT <value, or one call of it> FROM json_each(<a parameter>)
_IN_PARAMETER_LIST = re.compile(r"\b(NOT\s+)?IN\s*\((?=\s*SELECT\s+(?:[^()]*|\w+\s*\([^()]*\))\s+FROM\s+json_each\s*"
                                r"\(\s*\?\s*\)\s*\))", re.IGNORECASE)
_MIN_MAX = re.compile(r"\b(min|max)\s*\(", re.IGNORECASE)
_JSON_EXTRACT = re.compile(r"\bjson_extract\s*\(", re.IGNORECASE)
_GROUP_CONCAT = re.compile(r"\bgroup_concat\s*\(", re.IGNORECASE)
_JSON_GROUP_ARRAY = re.compile(r"\bjson_group_array\s*\(", re.IGNORECASE)
_TEMP_SCHEMA = re.compile(r"(?<![\w.])temp\.(?=\w)", re.IGNORECASE)
_INSTR = re.compile(r"\binstr\s*\(", re.IGNORECASE)  # instr(text, part): strpos(text, part) there


@dataclass(frozen=True)
class Translated:
    sql: str
    order: tuple[int, ...] | None = None  # for numbered parameters: the index (0-based) of each %s
    named: bool = False


@lru_cache(maxsize=2048)
def translate(sql: str) -> Translated:
    """``sql`` (SQLite's spelling) as PostgreSQL takes it."""
    ignore = bool(_INSERT_OR_IGNORE.match(sql))
    if ignore:
        sql = _INSERT_OR_IGNORE.sub("INSERT INTO", sql, count=1)
    sql = _INSTR.sub("strpos(", _group_concat(_scalar_min_max(_json_extract(_json_each(_in_parameter_list(sql))))))
    sql = _TEMP_SCHEMA.sub("pg_temp.", _rewrite_calls(sql, _JSON_GROUP_ARRAY, lambda inside: f"CAST(json_agg({inside}) AS text)"))
    order: list[int] = []
    named = False
    parts: list[str] = []
    for literal, identifier, rest in _TOKENS.findall(sql):
        if not rest:  # (psycopg reads every % of a statement, literals too)
            parts.append((literal or identifier).replace("%", "%%"))
            continue

        def parameter(match: re.Match[str]) -> str:
            nonlocal named
            if match.group(0) == "%":
                return "%%"
            if match.group(2):
                named = True
                return f"%({match.group(2)})s"
            if match.group(1):
                order.append(int(match.group(1)) - 1)
            return "%s"
        parts.append(_USER.sub('"user"', _PARAMS.sub(parameter, rest)))
    text = "".join(parts)
    if ignore and not re.search(r"\bON\s+CONFLICT\b", text, re.IGNORECASE):
        text = text.rstrip().rstrip(";") + " ON CONFLICT DO NOTHING"
    return Translated(text, tuple(order) if order else None, named)


def _in_parameter_list(sql: str) -> str:
    """x IN (SELECT … FROM json_each(?)) -> x = ANY(ARRAY(SELECT … FROM json_each(?)))."""
    return _rewrite_calls(sql, _IN_PARAMETER_LIST,
                          lambda negated, inside: f"{'<> ALL' if negated else '= ANY'}(ARRAY({inside}))")


def _json_each(sql: str) -> str:
    """json_each(x) -> json_array_elements[_text]((x)::json)."""
    elements = "json_array_elements" if "value->>" in sql else "json_array_elements_text"
    return _rewrite_calls(sql, _JSON_EACH, lambda inside: f"{elements}(({inside})::json)")


def _scalar_min_max(sql: str) -> str:
    """min(a, b) -> LEAST(a, b), max(a, b) -> GREATEST(a, b); aggregates (one argument) stay."""
    def rewrite(name: str, inside: str) -> str:
        if not _top_level_commas(inside):
            return f"{name}({_scalar_min_max(inside)})"
        return f"{'LEAST' if name.lower() == 'min' else 'GREATEST'}({_scalar_min_max(inside)})"
    return _rewrite_calls(sql, _MIN_MAX, rewrite)


def _json_extract(sql: str) -> str:
    """json_extract(x, '$.a.b') -> (CAST(x AS json) #>> '{a,b}') (a path of keys, as text)."""
    def rewrite(inside: str) -> str:
        argument, _, path = inside.rpartition(",")
        keys = path.strip().strip("'").removeprefix("$.").split(".")
        return f"(CAST({argument.strip()} AS json) #>> '{{{','.join(keys)}}}')"
    return _rewrite_calls(sql, _JSON_EXTRACT, rewrite)


def _group_concat(sql: str) -> str:
    """group_concat(x) -> string_agg(x, ','); group_concat(x, sep) -> string_agg(x, sep)."""
    return _rewrite_calls(sql, _GROUP_CONCAT,
                          lambda inside: f"string_agg({inside})" if _top_level_commas(inside) else f"string_agg({inside}, ',')")


def _top_level_commas(inside: str) -> int:
    depth, commas = 0, 0
    for char in inside:
        depth += {"(": 1, ")": -1}.get(char, 0)
        commas += char == "," and depth == 0
    return commas


def _rewrite_calls(sql: str, call: re.Pattern[str], rewrite: Callable[..., str]) -> str:
    """Each call matched by ``call`` (its name, then its opening parenthesis) replaced by
    ``rewrite(inside)``, or ``rewrite(name, inside)`` when the pattern captures the name."""
    out, position = [], 0
    for match in call.finditer(sql):
        if match.start() < position:
            continue
        depth, end = 1, match.end()
        while end < len(sql) and depth:
            depth += {"(": 1, ")": -1}.get(sql[end], 0)
            end += 1
        inside = sql[match.end():end - 1]
        out.append(sql[position:match.start()])
        out.append(rewrite(match.group(1), inside) if call.groups else rewrite(inside))
        position = end
    out.append(sql[position:])
    return "".join(out)
