"""The files of one scan request, read for the scan: documents through read_file, images
through the OCR within a time budget, all within the characters the scan has left. What
comes back is the text to scan after the request's own text, and per-file facts for the
verdict (format, where findings are, the bounds that were hit; never text)."""
from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from shadowmap.detectors.files.bounds import FileBounds
from shadowmap.detectors.files.read import DEFAULT_BOUNDS, read_file
from shadowmap.detectors.files.result import FileText
from shadowmap.detectors.files.sniff import IMAGE_FORMATS, sniff
from shadowmap.detectors.ocr import ImageUnreadable, OcrText, ScreenshotReader

if TYPE_CHECKING:
    from shadowmap.detectors.files.column_types import Scanner
    from shadowmap.detectors.scan_result import ScanResult

OCR_BUDGET_S = 10.0             # an image not read by then is "over budget" (policy: on_incomplete_file)
UNREADABLE = "unreadable"       # why a file's content was not scanned (policy: on_incomplete_file)
IMAGE_OVER_BUDGET = "image_over_budget"
_SEPARATOR = "\n\n"
_PLACES_KEPT = 10


class HasStart(Protocol):
    @property
    def start(self) -> int: ...


@dataclass
class FileFacts:
    """One file as the verdict describes it."""
    name: str
    format: str
    read: bool
    complete: bool
    bounds_hit: list[str] = field(default_factory=list)
    error: str | None = None
    unscanned: str | None = None          # UNREADABLE / IMAGE_OVER_BUDGET when not scanned
    found_in: list[str] = field(default_factory=list)

    def as_reply(self) -> dict[str, Any]:
        reply: dict[str, Any] = {"name": self.name[:255], "format": self.format, "read": self.read,
                                 "complete": self.complete}
        if self.bounds_hit:
            reply["bounds"] = [note[:300] for note in self.bounds_hit[:10]]
        if self.error:
            reply["error"] = self.error[:300]
        if self.found_in:
            reply["found_in"] = [place[:200] for place in self.found_in]
        return reply


@dataclass
class ReadFiles:
    """The files' text (to be scanned after ``offset`` characters of the request's own text)."""
    offset: int
    text: str = ""
    facts: list[FileFacts] = field(default_factory=list)
    _starts: list[int] = field(default_factory=list)        # in ``text``: where each read file begins
    _sources: list[tuple[int, FileText | None]] = field(default_factory=list)

    def add(self, facts: FileFacts, text: FileText | None, body: str) -> None:
        self.facts.append(facts)
        if body:
            self.text += _SEPARATOR
            self._starts.append(len(self.text))
            self._sources.append((len(self.facts) - 1, text))
            self.text += body

    def tables(self, offset: int) -> list[tuple[int, int]]:
        """(start, end) of the files' tables (a sheet's rows) in the scanned text, where the
        files' text follows ``offset`` characters of the request's own."""
        return [(offset + begin + start, offset + begin + end)
                for begin, (_, source) in zip(self._starts, self._sources, strict=True) if source is not None
                for start, end in source.tables]

    def scan(self, engine: Scanner, text: str) -> ScanResult:
        """``engine.scan(text + self.text)``: the request's ``text`` and the files' text, in
        which long tables are read column by column (table_scan.py), the rest as text."""
        from shadowmap.detectors.files.table_scan import scan_tables  # the engine's modules, wanted only here
        return scan_tables(engine, text + self.text, self.tables(len(text)))

    @property
    def unscanned(self) -> list[FileFacts]:
        return [f for f in self.facts if f.unscanned]

    def locate(self, findings: Iterable[HasStart]) -> None:
        """Name, per file, where its findings are (a sheet, a page, a member)."""
        for finding in findings:
            at = finding.start - self.offset
            i = bisect.bisect_right(self._starts, at) - 1
            if at < 0 or i < 0:
                continue
            index, source = self._sources[i]
            place = source.place_of(at - self._starts[i]) if source is not None else None
            facts = self.facts[index]
            label = place or "the file"
            if label not in facts.found_in and len(facts.found_in) < _PLACES_KEPT:
                facts.found_in.append(label)


class FileScanner:
    """Reads request files for the scan; owns the OCR (loaded on the first image)."""

    def __init__(self, bounds: FileBounds = DEFAULT_BOUNDS, ocr: ScreenshotReader | None = None,
                 ocr_budget_s: float = OCR_BUDGET_S):
        self.bounds = bounds
        self.ocr = ocr or ScreenshotReader()
        self.ocr_budget_s = ocr_budget_s
        self._ocr_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="shadowmap-ocr")

    def _image(self, name: str, kind: str, data: bytes, budget_s: float) -> tuple[FileFacts, OcrText | None]:
        future: Future[OcrText] = self._ocr_pool.submit(self.ocr.read, data)
        try:
            found = future.result(timeout=budget_s)
        except FutureTimeout:
            # a queued OCR is dropped; a running one goes on in its thread (onnxruntime cannot be
            # interrupted) and its answer is dropped; the policy decides now
            future.cancel()
            return FileFacts(name, kind, False, False, error=f"reading the image took longer than "
                             f"{budget_s:g} s", unscanned=IMAGE_OVER_BUDGET), None
        except ImageUnreadable as exc:
            return FileFacts(name, kind, False, False, error=str(exc), unscanned=UNREADABLE), None
        notes = [f"read at {found.scale:.0%} of its {found.width}x{found.height} pixels"] if found.scale < 1 else []
        return FileFacts(name, kind, True, not notes, bounds_hit=notes), found

    def read(self, files: Sequence[tuple[str, bytes]], offset: int, chars_left: int,
             ocr_budget_s: float | None = None) -> ReadFiles:
        """``files``: (name, bytes) each; ``offset``: the request text's length (the files'
        text follows it); ``chars_left``: what the scan may still read; ``ocr_budget_s``: the
        policy's time for one image (else the scanner's own)."""
        budget_s = self.ocr_budget_s if ocr_budget_s is None else ocr_budget_s
        result = ReadFiles(offset)
        for name, data in files:
            left = chars_left - len(result.text) - len(_SEPARATOR)
            kind = sniff(data)
            if kind in IMAGE_FORMATS:
                facts, ocr = self._image(name, kind, data, budget_s)
                body = ocr.text[:max(left, 0)] if ocr is not None else ""
                if ocr is not None and len(body) < len(ocr.text):
                    facts.bounds_hit.append(f"stopped after {len(body):,} characters of the image's text")
                    facts.complete = False
                result.add(facts, None, body)
                continue
            if left <= 0:
                result.add(FileFacts(name, kind, False, False, error="not read: the scan's characters "
                                     "were spent on the files before it", unscanned=UNREADABLE), None, "")
                continue
            text = read_file(data, self.bounds, chars=left)
            facts = FileFacts(name, text.format, text.read, text.complete, list(text.bounds_hit), text.error,
                              None if text.read else UNREADABLE)
            result.add(facts, text, text.text)
        return result
