"""Read one file's text for the scan: sniff its real format, guard it, hand it to the
library for that format, and say what stopped the read (bounds.py) or why it could not be
read at all."""
from __future__ import annotations

import importlib
import logging
from collections.abc import Callable

from shadowmap.detectors.files import sniff as formats
from shadowmap.detectors.files.archive import guard_container, read_zip
from shadowmap.detectors.files.bounds import BoundHit, Budget, FileBounds
from shadowmap.detectors.files.plain import read_plain
from shadowmap.detectors.files.result import FileText, TextSink, Unreadable

log = logging.getLogger(__name__)

DEFAULT_BOUNDS = FileBounds()
# the format libraries are imported when a file of theirs arrives: the agent's idle memory stays small
_READERS = {formats.PDF: ("pdf_text", "read_pdf"), formats.DOCX: ("word", "read_docx"),
            formats.XLSX: ("sheets", "read_xlsx"), formats.PPTX: ("slides", "read_pptx")}


def _reader(kind: str) -> Callable[[bytes, TextSink], None]:
    module, function = _READERS[kind]
    reader: Callable[[bytes, TextSink], None] = getattr(
        importlib.import_module(f"shadowmap.detectors.files.{module}"), function)
    return reader


def _read_into(data: bytes, sink: TextSink, depth: int) -> None:
    kind = formats.sniff(data)
    if kind == formats.PDF:
        _reader(kind)(data, sink)
    elif kind in _READERS:
        guard_container(data, sink.budget)
        _reader(kind)(data, sink)
    elif kind == formats.ZIP:
        read_zip(data, sink, depth, _read_member)
    elif kind in (formats.CSV, formats.JSON, formats.TEXT):
        read_plain(data, sink, kind)
    elif kind in formats.IMAGE_FORMATS or kind == formats.GIF:
        raise Unreadable(f"a {kind.upper()} image")
    else:
        raise Unreadable("not a format shadowmap reads")


def _read_member(data: bytes, sink: TextSink, depth: int) -> None:
    """An archive member: what cannot be read is noted, and the archive goes on."""
    where = sink.places[1][-1] if sink.places[1] else "a member"
    try:
        _read_into(data, sink, depth)
    except BoundHit:
        raise
    except Unreadable as exc:
        sink.budget.note(f"{where}: {exc}, not read")
    except Exception as exc:    # a damaged member: the libraries raise many kinds of error
        sink.budget.note(f"{where} could not be read ({type(exc).__name__})")


def read_file(data: bytes, bounds: FileBounds = DEFAULT_BOUNDS, chars: int | None = None) -> FileText:
    """The text of one file, within ``bounds`` (``chars``: the characters the scan has left).
    Never raises for anything a file can hold: a file that cannot be read comes back with
    ``error`` set, one read in part with ``bounds_hit``."""
    kind = formats.sniff(data)
    if len(data) > bounds.max_input_bytes:
        return FileText(kind, error=f"larger than {bounds.max_input_bytes >> 20} MiB: not read")
    budget = Budget.start(bounds, chars)
    sink = TextSink(budget)
    error: str | None = None
    try:
        _read_into(data, sink, depth=0)
    except BoundHit as hit:
        budget.note(str(hit))
    except Unreadable as exc:
        error = str(exc)
    except Exception as exc:    # damaged or hostile input: the libraries raise many kinds of error
        log.info("a %s file could not be read: %s", kind, type(exc).__name__)
        error = f"the {kind.upper()} file is damaged or not what it claims ({type(exc).__name__})"
        if sink.text:           # part of it was read: keep that, say where it stopped
            budget.note(f"stopped early: {error}")
            error = None
    if error is None and budget.notes and not sink.text.strip():
        # a bound stopped the read before any text: nothing was checked, the policy decides
        error = f"nothing could be read: {budget.notes[0]}"
    starts, places = sink.places
    return FileText(kind, sink.text, list(budget.notes), error, list(starts), list(places), sink.tables)
