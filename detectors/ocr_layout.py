"""Where the text of a screenshot is, at full resolution, and how its pieces make lines.

Text detection runs on a downscaled copy of the screenshot (detectors/ocr.py): its boxes,
scaled back up, are loose by a few pixels and sometimes reach into the line above or below,
and the recogniser misreads such crops (measured: 0-20 of 25 emails at half scale). Each
box is therefore tightened on the full-resolution pixels: the ink inside it (pixels far from
the box's most common shade, its background) is found, the run of inked rows nearest the
box's centre is taken as the line, and the crop is cut around that ink with a margin
proportional to its height. With tight crops, detection at half scale reads as many emails
and phone numbers as detection at full scale (bench/files.py, docs/detectors.md).

numpy only: the caller (ocr.py) has it loaded with the OCR.
"""
from __future__ import annotations

from typing import Any

import numpy as np

# Ink: a pixel this far (0-255) from the background shade, or 35 % of the box's largest
# difference, whichever is more (anti-aliased edges and light row stripes are not ink).
INK_MIN_CONTRAST = 40
INK_SHARE_OF_CONTRAST = 0.35
SEARCH_MARGIN = 0.25      # the box is searched this much (of its height) beyond its edges
MARGIN_VERTICAL = 0.2     # the crop keeps this much (of the ink's height) above and below
MARGIN_HORIZONTAL = 0.3   # and this much left and right
MAX_SLOPE = 0.1           # a box tilted more than this (rise over run) is not tightened
ROW_OVERLAP = 0.5         # boxes whose centres are this close (in box heights) share a line

Rect = tuple[int, int, int, int]    # x0, y0, x1, y1: pixels, end exclusive


def is_upright(box: Any) -> bool:
    """A box (4 corners clockwise from top-left) whose top edge is about level."""
    (x0, y0), (x1, y1) = box[0], box[1]
    return abs(float(y1) - float(y0)) <= MAX_SLOPE * max(1.0, abs(float(x1) - float(x0)))


def tighten(gray: Any, box: Any) -> Rect | None:
    """The crop around the ink of ``box`` (detection corners, full-resolution pixels) in the
    grayscale image ``gray``; None when the box holds no ink."""
    height, width = gray.shape
    xs, ys = box[:, 0], box[:, 1]
    left, right, top, bottom = float(xs.min()), float(xs.max()), float(ys.min()), float(ys.max())
    margin = SEARCH_MARGIN * (bottom - top)
    x0, y0 = max(0, int(left - margin)), max(0, int(top - margin))
    x1, y1 = min(width, int(np.ceil(right + margin))), min(height, int(np.ceil(bottom + margin)))
    region = gray[y0:y1, x0:x1]
    if region.size == 0:
        return None
    background = int(np.bincount(region.ravel(), minlength=256).argmax())
    contrast = np.abs(region.astype(np.int16) - background)
    ink = contrast > max(INK_MIN_CONTRAST, INK_SHARE_OF_CONTRAST * int(contrast.max()))
    inked_rows = np.flatnonzero(ink.any(axis=1))
    if inked_rows.size == 0:
        return None
    # runs of consecutive inked rows: the one nearest the box's centre is its line of text
    gaps = np.flatnonzero(np.diff(inked_rows) > 1)
    starts = np.concatenate(([inked_rows[0]], inked_rows[gaps + 1]))
    ends = np.concatenate((inked_rows[gaps], [inked_rows[-1]])) + 1
    centre = (top + bottom) / 2 - y0
    distance = np.where((starts <= centre) & (centre < ends), 0.0,
                        np.minimum(np.abs(starts - centre), np.abs(ends - centre)))
    line = int(np.argmin(distance))
    row0, row1 = int(starts[line]), int(ends[line])
    inked_cols = np.flatnonzero(ink[row0:row1].any(axis=0))
    ink_height = row1 - row0
    pad_v = max(2, round(MARGIN_VERTICAL * ink_height))
    pad_h = max(2, round(MARGIN_HORIZONTAL * ink_height))
    return (max(0, x0 + int(inked_cols[0]) - pad_h), max(0, y0 + row0 - pad_v),
            min(width, x0 + int(inked_cols[-1]) + 1 + pad_h), min(height, y0 + row1 + pad_v))


def corners(rect: Rect) -> list[tuple[float, float]]:
    x0, y0, x1, y1 = rect
    return [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]


def lines(boxes: list[Any], texts: list[tuple[str, float]], min_score: float) -> list[str]:
    """Recognised boxes back into lines: by vertical centre, then left to right; a line's
    pieces tab-separated (a table's row reads as its cells)."""
    items = []
    for box, (text, score) in zip(boxes, texts, strict=True):
        if not text.strip() or score < min_score:
            continue
        ys = [float(p[1]) for p in box]
        xs = [float(p[0]) for p in box]
        items.append(((min(ys) + max(ys)) / 2, max(ys) - min(ys), min(xs), text.strip()))
    items.sort()
    rows: list[list[tuple[float, str]]] = []
    centre = height = -1e9
    for y, h, x, text in items:
        if rows and abs(y - centre) <= ROW_OVERLAP * max(h, height):
            rows[-1].append((x, text))
        else:
            rows.append([(x, text)])
            centre, height = y, h
    return ["\t".join(text for _, text in sorted(row)) for row in rows]
