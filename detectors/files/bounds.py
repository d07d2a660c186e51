"""What reading one file may cost, and the record of what a bound cut short.

Every extractor works against one ``Budget``: bytes in, bytes inflated from archives,
archive members, pages, rows, cells, characters out and wall time. A bound that stops a
file early is noted in words a person reads ("read the first 40,000 rows of 'Customers'"),
so a verdict never passes a partial read off as a complete one.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

from shadowmap.detectors.settings import MAX_SCAN_CHARS


@dataclass(frozen=True)
class FileBounds:
    max_input_bytes: int = 32 << 20       # the file as it arrived
    max_inflated_bytes: int = 128 << 20   # all archive members together, once decompressed
    max_member_ratio: int = 200           # a member inflating more than this per byte is a bomb
    max_members: int = 500                # archive members looked at (nested archives included)
    max_depth: int = 2                    # archives inside archives
    max_pages: int = 300                  # PDF pages, slides
    max_rows: int = 40_000                # spreadsheet rows, over all sheets
    max_cells: int = 400_000              # spreadsheet / table cells
    max_chars: int = MAX_SCAN_CHARS       # text handed to the scan (the engine's own cap)
    # CPU time reading one file, whatever the format: CPU, not wall time, so that a file gets
    # the same answer on an idle and a loaded laptop (as the engine's count-based budgets do)
    max_seconds: float = 2.0


class BoundHit(Exception):
    """Raised by a budget when a bound is reached; the extractor stops at that point."""


@dataclass
class Budget:
    bounds: FileBounds
    chars_left: int
    deadline: float = 0.0
    inflated: int = 0
    members: int = 0
    rows: int = 0
    cells: int = 0
    notes: list[str] = field(default_factory=list)

    @classmethod
    def start(cls, bounds: FileBounds, chars: int | None = None) -> Budget:
        chars_left = bounds.max_chars if chars is None else min(chars, bounds.max_chars)
        return cls(bounds, chars_left, time.thread_time() + bounds.max_seconds)

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def check_time(self, where: str) -> None:
        if time.thread_time() > self.deadline:
            raise BoundHit(f"stopped at {where}: reading took more than {self.bounds.max_seconds:g} s of CPU")

    def take_chars(self, count: int, where: str) -> int:
        """How many of ``count`` characters may still be kept; raises once none may."""
        if self.chars_left <= 0:
            raise BoundHit(f"stopped at {where}: the scan reads at most {self.bounds.max_chars:,} characters")
        kept = min(count, self.chars_left)
        self.chars_left -= kept
        return kept

    def take_inflated(self, count: int, where: str) -> None:
        self.inflated += count
        if self.inflated > self.bounds.max_inflated_bytes:
            raise BoundHit(f"stopped at {where}: archives may inflate to at most "
                           f"{self.bounds.max_inflated_bytes >> 20} MiB")
