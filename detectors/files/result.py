"""What reading a file gave: its text for the scan, where in the file each part of the
text came from (sheet, page, slide, archive member), and what stopped the read early."""
from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from shadowmap.detectors.files.bounds import BoundHit, Budget


class Unreadable(Exception):
    """The file (or member) cannot be read: not a format shadowmap reads, or refused by a guard."""


CELL_SEPARATOR = "\t"     # a row's cells, as a tab-separated line (the engine reads tables by lines)


def clean_cell(value: object) -> str:
    """A cell's value on one line: its own tabs and line breaks would split the row."""
    text = "" if value is None else str(value)
    return text.replace("\t", " ").replace("\r", " ").replace("\n", " ").strip()


class TextSink:
    """Collects a file's text within the budget's characters, and where each part came from."""

    def __init__(self, budget: Budget):
        self.budget = budget
        self._parts: list[str] = []
        self._length = 0
        self._starts: list[int] = []
        self._places: list[str] = []
        self._tabular: list[bool] = []
        self._prefix: list[str] = []

    def at(self, place: str, table: bool = False) -> None:
        """What follows comes from ``place`` (a sheet, a page, ...), inside any enclosing member;
        ``table``: its lines are a table's rows, cells separated by CELL_SEPARATOR (none inside a cell)."""
        label = ", ".join(part for part in (*self._prefix, place) if part)
        if self._places and self._starts[-1] == self._length:
            self._places[-1] = label              # nothing was written for the previous place
            self._tabular[-1] = table
        else:
            self._starts.append(self._length)
            self._places.append(label)
            self._tabular.append(table)

    def enter(self, member: str) -> None:
        """What follows comes from inside the archive member ``member``."""
        self._prefix.append(member)
        self.at("")

    def leave(self) -> None:
        self._prefix.pop()
        self.at("")

    def line(self, text: str, where: str) -> None:
        """Append one line; raises BoundHit when the character budget is spent."""
        text += "\n"
        kept = self.budget.take_chars(len(text), where)
        self._parts.append(text[:kept])
        self._length += kept
        if kept < len(text):
            raise BoundHit(f"stopped inside {where}: the scan reads at most {self.budget.bounds.max_chars:,} characters")

    @property
    def text(self) -> str:
        return "".join(self._parts)

    @property
    def places(self) -> tuple[list[int], list[str]]:
        return self._starts, self._places

    @property
    def tables(self) -> list[tuple[int, int]]:
        """(start, end) in the text of each place written as a table."""
        ends = [*self._starts[1:], self._length][:len(self._starts)]
        return [(start, end) for start, end, table in zip(self._starts, ends, self._tabular, strict=True)
                if table and end > start]


@dataclass
class FileText:
    """One file as read: ``format`` (sniffed), ``text`` for the scan, ``bounds_hit`` (what
    stopped the read, in words), ``error`` when the file could not be read at all;
    ``tables``: (start, end) of the parts of ``text`` that are tables (a sheet's rows, one
    line each, cells separated by CELL_SEPARATOR), which the scan may read column by column."""
    format: str
    text: str = ""
    bounds_hit: list[str] = field(default_factory=list)
    error: str | None = None
    starts: list[int] = field(default_factory=list)
    places: list[str] = field(default_factory=list)
    tables: list[tuple[int, int]] = field(default_factory=list)

    @property
    def read(self) -> bool:
        return self.error is None

    @property
    def complete(self) -> bool:
        return self.error is None and not self.bounds_hit

    def place_of(self, offset: int) -> str | None:
        """Where in the file the text at ``offset`` came from ("sheet 'Customers'"), if known."""
        i = bisect.bisect_right(self.starts, offset) - 1
        return self.places[i] or None if i >= 0 else None
