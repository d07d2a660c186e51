"""Draw the extension's icons (extension/icons/icon-<size>.png: 16, 32, 48, 128) with Pillow.

A shield in the brand's dark blue with a white lens on it. Run
`.venv/bin/python tests/tooling/draw_icons.py` to redraw them (a development tool, so
Pillow stays out of the agent's dependencies); the PNGs are committed, so building or
installing the extension needs no Pillow. Each size is drawn at 8x and scaled down, so the
small ones stay crisp.
"""
from __future__ import annotations

import sys
from pathlib import Path

from shadowmap.bridge.extension_id import EXTENSION_DIR

SIZES = (16, 32, 48, 128)
ICON_DIR = EXTENSION_DIR / "icons"
BLUE, WHITE = (21, 61, 112, 255), (255, 255, 255, 255)
SUPERSAMPLE = 8


def icon_path(size: int) -> str:
    """The icon's path inside the extension, as the manifest names it."""
    return f"icons/icon-{size}.png"


def draw(size: int):  # -> PIL.Image.Image (Pillow is only needed here)
    from PIL import Image, ImageDraw

    big = size * SUPERSAMPLE
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)
    u = big / 16  # drawing units: a 16 x 16 grid
    # the shield: a flat top, straight sides, a point at the bottom
    pen.polygon([(2 * u, 1 * u), (14 * u, 1 * u), (14 * u, 8 * u), (8 * u, 15 * u), (2 * u, 8 * u)], fill=BLUE)
    # the lens and its handle
    pen.ellipse([4.5 * u, 3.5 * u, 10.5 * u, 9.5 * u], outline=WHITE, width=round(1.3 * u))
    pen.line([(9.6 * u, 8.6 * u), (11.8 * u, 10.8 * u)], fill=WHITE, width=round(1.6 * u))
    return image.resize((size, size), Image.Resampling.LANCZOS)


def write(folder: Path = ICON_DIR) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for size in SIZES:
        path = folder / f"icon-{size}.png"
        draw(size).save(path, optimize=True)
        written.append(path)
    return written


if __name__ == "__main__":
    for written in write():
        print(written, file=sys.stderr)
    sys.exit(0)
