"""The real format of a file, from its bytes (magic numbers and container contents), never
from its name or the type the browser claims."""
from __future__ import annotations

import io
import json
import zipfile

# the formats a file can be read as (per-file facts in the verdict)
PDF, DOCX, XLSX, PPTX, ZIP = "pdf", "docx", "xlsx", "pptx", "zip"
CSV, JSON, TEXT = "csv", "json", "text"
PNG, JPEG, WEBP, GIF, BMP = "png", "jpeg", "webp", "gif", "bmp"
BINARY = "binary"                   # none of the above: reported, not read
IMAGE_FORMATS = frozenset({PNG, JPEG, WEBP, BMP})   # what the OCR reads (no animation: GIF is not)
_SNIFF = 8192
# Office Open XML: the part that only its own kind of package has
_OOXML_MAIN_PARTS = (("word/document.xml", DOCX), ("xl/workbook.xml", XLSX), ("ppt/presentation.xml", PPTX))
_CSV_DELIMITERS = (",", ";", "\t", "|")


def sniff(data: bytes) -> str:
    head = data[:_SNIFF]
    if head.startswith(b"%PDF-") or b"%PDF-" in head[:1024]:
        return PDF
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return _zip_kind(data)
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head.startswith((b"GIF87a", b"GIF89a")):
        return GIF
    if head.startswith(b"BM") and len(head) > 14:
        return BMP
    text = decode_text(head, partial=len(data) > _SNIFF)
    if text is None:
        return BINARY
    if _looks_like_json(data, text):
        return JSON
    if _looks_like_csv(text):
        return CSV
    return TEXT


def _zip_kind(data: bytes) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return BINARY           # a truncated or damaged archive: unreadable
    if "[Content_Types].xml" in names:
        for part, kind in _OOXML_MAIN_PARTS:
            if part in names:
                return kind
    return ZIP


def decode_text(data: bytes, partial: bool = False) -> str | None:
    """Text for UTF-8 (with or without BOM) or UTF-16 with a BOM; None for binary data.
    ``partial``: the bytes may end inside a character."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16", errors="strict" if not partial else "ignore")
        except UnicodeDecodeError:
            return None
    if b"\0" in data[:_SNIFF]:
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if partial and exc.start >= len(data) - 3:
            return data[:exc.start].decode("utf-8-sig")
        # mostly text with a few stray bytes (Latin-1 exports): read it, replacing those
        bad = sum(1 for b in data[:_SNIFF] if b >= 0x80)
        return data.decode("utf-8", errors="replace") if bad < len(data[:_SNIFF]) // 10 else None


def _looks_like_json(data: bytes, head: str) -> bool:
    stripped = head.lstrip()
    if not stripped.startswith(("{", "[")):
        return False
    if len(data) > 4 << 20:       # too big to parse just to name it; its start says enough
        return True
    try:
        json.loads(data.decode("utf-8-sig", errors="strict"))
    except (UnicodeDecodeError, ValueError):
        return all(line.lstrip().startswith("{") for line in stripped.splitlines()[:5] if line.strip())  # JSON lines
    return True


def _looks_like_csv(text: str) -> bool:
    lines = [line for line in text.splitlines()[:20] if line.strip()]
    if len(lines) < 2:
        return False
    if len(lines) == 20 or not text.endswith("\n"):
        lines = lines[:-1] or lines       # the sniffed head may end mid-line
    for delimiter in _CSV_DELIMITERS:
        counts = {line.count(delimiter) for line in lines}
        if len(counts) == 1 and counts.pop() > 0:
            return True
    return False
