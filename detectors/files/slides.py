"""PPTX presentations through python-pptx: each slide's text frames, tables and notes; a
finding names its slide."""
from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

from pptx import Presentation

from shadowmap.detectors.files.bounds import BoundHit
from shadowmap.detectors.files.result import CELL_SEPARATOR, TextSink, clean_cell


def _shape_lines(shapes: Any) -> Iterator[str]:
    for shape in shapes:
        if getattr(shape, "has_text_frame", False) and shape.has_text_frame:
            yield from shape.text_frame.text.splitlines()
        if getattr(shape, "has_table", False) and shape.has_table:
            for row in shape.table.rows:
                yield CELL_SEPARATOR.join(clean_cell(cell.text) for cell in row.cells)
        if hasattr(shape, "shapes"):          # a group: its shapes hold the text
            yield from _shape_lines(shape.shapes)


def read_pptx(data: bytes, sink: TextSink) -> None:
    budget = sink.budget
    presentation = Presentation(io.BytesIO(data))
    slides = list(presentation.slides)
    for index, slide in enumerate(slides):
        if index >= budget.bounds.max_pages:
            raise BoundHit(f"read the first {index:,} of {len(slides):,} slides")
        budget.check_time(f"slide {index + 1:,}")
        sink.at(f"slide {index + 1}")
        for line in _shape_lines(slide.shapes):
            if line.strip():
                sink.line(line, f"slide {index + 1}")
        if slide.has_notes_slide:
            notes = slide.notes_slide.notes_text_frame
            if notes is not None and notes.text.strip():
                sink.at(f"notes of slide {index + 1}")
                for line in notes.text.splitlines():
                    sink.line(line, f"notes of slide {index + 1}")
