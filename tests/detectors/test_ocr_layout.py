"""Text boxes from a downscaled detection, tightened on the full-resolution pixels."""
from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from shadowmap.detectors.ocr_layout import corners, is_upright, lines, tighten

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def _page() -> tuple[np.ndarray, tuple[int, int, int, int], tuple[int, int, int, int]]:
    """Two lines of text 22 px apart on a white page with a light stripe behind the second;
    the ink boxes of both lines."""
    image = Image.new("L", (600, 120), 255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(FONT, 16)
    draw.rectangle((0, 50, 600, 80), fill=248)                  # a table's alternate-row stripe
    draw.text((40, 30), "first line above", font=font, fill=30)
    draw.text((40, 56), "jane.roe7@example.org", font=font, fill=30)
    pixels = np.array(image)
    ink = pixels < 150
    ys, xs = np.nonzero(ink[:52])
    first = (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)
    ys, xs = np.nonzero(ink[52:])
    second = (int(xs.min()), 52 + int(ys.min()), int(xs.max()) + 1, 52 + int(ys.max()) + 1)
    return pixels, first, second


def _box(x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=float)


def test_a_loose_box_reaching_into_the_line_above_is_cut_to_its_own_line():
    pixels, first, second = _page()
    # as a half-scale detection gives it: 8 px too high (its search reaches the first line's
    # ink), 10 px too wide
    loose = _box(second[0] - 10, second[1] - 8, second[2] + 10, second[3] + 4)
    x0, y0, x1, y1 = tighten(pixels, loose)
    assert y0 > first[3], "the crop reaches into the line above"
    assert y0 <= second[1] and y1 >= second[3] and x0 <= second[0] and x1 >= second[2], "ink cut off"
    height = second[3] - second[1]
    assert y1 - y0 <= 1.5 * height and (x1 - x0) - (second[2] - second[0]) <= 1.0 * height, "still loose"


def test_a_box_that_cuts_its_text_short_is_widened_to_the_ink():
    pixels, _first, second = _page()
    short = _box(second[0] + 3, second[1] + 3, second[2] - 3, second[3] - 2)
    x0, y0, x1, y1 = tighten(pixels, short)
    assert x0 <= second[0] and x1 >= second[2] and y0 <= second[1] and y1 >= second[3]


def test_a_box_over_blank_page_gives_nothing():
    pixels, _, _ = _page()
    assert tighten(pixels, _box(300, 90, 500, 110)) is None


def test_tilted_boxes_are_left_to_the_library():
    assert is_upright(_box(10, 10, 200, 30))
    assert not is_upright(np.array([[10, 10], [200, 50], [195, 70], [5, 30]], dtype=float))


def test_pieces_come_back_as_lines_of_cells_left_to_right():
    boxes = [corners((300, 62, 420, 80)), corners((40, 60, 120, 80)), corners((40, 20, 200, 40)),
             corners((500, 61, 560, 79))]
    texts = [("jane@example.org", 0.97), ("Jane Roe", 0.95), ("Customers", 0.99), ("???", 0.2)]
    assert lines(boxes, texts, min_score=0.5) == ["Customers", "Jane Roe\tjane@example.org"]
