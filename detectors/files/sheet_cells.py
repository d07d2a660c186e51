"""A worksheet's cell values, read straight from its XML part with the standard library's
expat parser (the C parser, one Python call per element event), row by row.

openpyxl's read-only rows build descriptor-checked objects for every cell and every inline
string; on a 5 MB sheet of customers that was ~1.3 s of CPU for its first megabyte of text,
most of the read + scan budget (bench/files.py). The values are the ones openpyxl gives in
``values_only`` mode with ``data_only=True``: cached results rather than formulas, shared
and inline strings (rich-text runs joined, phonetic runs left out), booleans, numbers as int
or float, and numbers in a date style as datetimes (openpyxl's own conversion, with the
workbook's epoch and date styles).
"""
from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator
from typing import IO, Any, Protocol
from xml.parsers import expat

from openpyxl.utils.datetime import from_excel

_CHUNK = 64 << 10
_TEXT_PARENTS = {"v", "t"}     # elements whose character data is a value (not inside <rPh>)

CellValue = str | int | float | bool | datetime.datetime | datetime.timedelta | datetime.time | None


class StringTable(Protocol):
    """The shared strings, by index (SharedStrings, or a list when the workbook has none)."""

    def __getitem__(self, index: int) -> str: ...


_DIGITS = "0123456789"


def _column_number(letters: str) -> int:
    """1 for "A", 28 for "AB"."""
    number = 0
    for char in letters:
        number = number * 26 + ord(char) - 64
    return number


def _number(text: str) -> int | float:
    return float(text) if "." in text or "E" in text or "e" in text else int(text)


class SharedStrings:
    """The shared-string table, parsed only up to the highest index asked for (writers number
    strings in order of first use, so the rows read so far need only the table's start)."""

    def __init__(self, source: IO[bytes]):
        self._source = source
        self._strings: list[str] = []
        self._ended = False
        self._text: list[str] = []
        self._collecting = False
        self._phonetic = 0
        self._parser = expat.ParserCreate()
        self._parser.buffer_text = True
        self._parser.StartElementHandler = self._start
        self._parser.EndElementHandler = self._end
        self._parser.CharacterDataHandler = self._characters

    def _start(self, name: str, attributes: dict[str, str]) -> None:
        tag = name.rpartition(":")[2]
        if tag == "t":
            self._collecting = not self._phonetic
        elif tag == "si":
            self._text = []
        elif tag == "rPh":
            self._phonetic += 1

    def _characters(self, data: str) -> None:
        if self._collecting:
            self._text.append(data)

    def _end(self, name: str) -> None:
        tag = name.rpartition(":")[2]
        if tag == "t":
            self._collecting = False
        elif tag == "si":
            # "_x005F_" escapes an underscore that would otherwise start an escape (openpyxl's reading)
            self._strings.append("".join(self._text).replace("x005F_", ""))
        elif tag == "rPh":
            self._phonetic -= 1

    def __getitem__(self, index: int) -> str:
        while index >= len(self._strings) and not self._ended:
            chunk = self._source.read(_CHUNK)
            self._parser.Parse(chunk, not chunk)
            self._ended = not chunk
        return self._strings[index]

    def __len__(self) -> int:
        return len(self._strings)


class SheetRows:
    """(row number, cell values from column 1) for each row of a worksheet part, in order.

    ``strings`` is the workbook's shared-string table (indexable), ``date_styles`` and
    ``timedelta_styles`` the style ids openpyxl found to be date or duration formats."""

    def __init__(self, strings: StringTable, date_styles: Any, timedelta_styles: Any,
                 epoch: datetime.datetime):
        self._strings = strings
        self._date_styles = date_styles
        self._timedelta_styles = timedelta_styles
        self._epoch = epoch
        self._local: dict[str, str] = {}
        self._columns: dict[str, int] = {}     # "AB" -> 28, for the few column letters a sheet has
        self._ready: list[tuple[int, list[CellValue]]] = []
        self._row_number = 0
        self._cells: list[CellValue] = []
        self._column = 0
        self._type = "n"
        self._style = 0
        self._text: list[str] = []
        self._collecting = False
        self._phonetic = 0

    def rows(self, source: IO[bytes], check: Callable[[int], None] | None = None
             ) -> Iterator[tuple[int, list[CellValue]]]:
        """The rows of ``source``; ``check`` is called with the row reached after each chunk of
        XML parsed (a bound on time raises there)."""
        parser = expat.ParserCreate()
        parser.buffer_text = True
        parser.StartElementHandler = self._start
        parser.EndElementHandler = self._end
        parser.CharacterDataHandler = self._characters
        while chunk := source.read(_CHUNK):
            parser.Parse(chunk, False)
            if check is not None:
                check(self._row_number)
            ready, self._ready = self._ready, []
            yield from ready
        parser.Parse(b"", True)
        yield from self._ready
        self._ready = []

    def _name(self, name: str) -> str:
        local = self._local.get(name)
        if local is None:
            local = self._local[name] = name.rpartition(":")[2]   # "x:c" (a prefixed namespace) is "c"
        return local

    def _start(self, name: str, attributes: dict[str, str]) -> None:
        tag = self._local.get(name) or self._name(name)
        if tag == "c":
            reference = attributes.get("r")
            if reference:
                letters = reference.rstrip(_DIGITS)
                column = self._columns.get(letters)
                if column is None:
                    column = self._columns[letters] = _column_number(letters)
                self._column = column
            else:
                self._column += 1
            self._type = attributes.get("t", "n")
            style = attributes.get("s")
            self._style = int(style) if style else 0
            self._text = []
        elif tag == "row":
            number = attributes.get("r")
            self._row_number = int(number) if number else self._row_number + 1
            self._cells = []
            self._column = 0
        elif tag in _TEXT_PARENTS:
            self._collecting = not self._phonetic
        elif tag == "rPh":
            self._phonetic += 1

    def _characters(self, data: str) -> None:
        if self._collecting:
            self._text.append(data)

    def _end(self, name: str) -> None:
        tag = self._local.get(name) or self._name(name)
        if tag in _TEXT_PARENTS:
            self._collecting = False
        elif tag == "c":
            value = self._value()
            if value is not None:
                cells = self._cells
                if len(cells) < self._column:
                    cells.extend([None] * (self._column - len(cells)))
                cells[self._column - 1] = value
        elif tag == "row":
            self._ready.append((self._row_number, self._cells))
        elif tag == "rPh":
            self._phonetic -= 1

    def _value(self) -> CellValue:
        text = "".join(self._text)
        kind = self._type
        if not text:
            return None
        if kind == "inlineStr" or kind == "str" or kind == "e":
            return text
        if kind == "s":
            return self._strings[int(text)]
        if kind == "b":
            return bool(int(text))
        if kind == "d":
            return text                     # an ISO 8601 date, as written
        value = _number(text)
        if self._style in self._date_styles:
            try:
                converted: CellValue = from_excel(value, self._epoch,
                                                  timedelta=self._style in self._timedelta_styles)
            except (OverflowError, ValueError):
                return "#VALUE!"            # as openpyxl marks a date serial out of range
            return converted
        return value
