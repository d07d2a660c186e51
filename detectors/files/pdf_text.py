"""PDF text through pypdf, page by page; a finding names its page. An encrypted PDF that
opens without a password is read; one that needs a password cannot be."""
from __future__ import annotations

import io

from pypdf import PdfReader

from shadowmap.detectors.files.bounds import BoundHit
from shadowmap.detectors.files.result import TextSink


def read_pdf(data: bytes, sink: TextSink) -> None:
    budget = sink.budget
    reader = PdfReader(io.BytesIO(data), strict=False)
    if reader.is_encrypted and not reader.decrypt(""):
        raise ValueError("the PDF is encrypted with a password")
    pages = reader.pages
    total = len(pages)
    for index in range(total):
        if index >= budget.bounds.max_pages:
            raise BoundHit(f"read the first {index:,} of {total:,} pages")
        budget.check_time(f"page {index + 1:,} of {total:,}")
        sink.at(f"page {index + 1}")
        text = pages[index].extract_text() or ""
        for line in text.splitlines():
            sink.line(line, f"page {index + 1}")
