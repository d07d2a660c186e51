"""Text-like files: plain text, CSV and JSON are scanned as they are (the engine reads
tables and JSON records in their own shape); only the character budget applies."""
from __future__ import annotations

from shadowmap.detectors.files.result import TextSink
from shadowmap.detectors.files.sniff import decode_text


def read_plain(data: bytes, sink: TextSink, what: str) -> None:
    text = decode_text(data)
    if text is None:
        raise ValueError(f"{what} is not text")
    lines = text.splitlines()
    for number, line in enumerate(lines, 1):
        if number % 1000 == 0:
            sink.budget.check_time(f"line {number:,}")
        sink.line(line, f"line {number:,}")
