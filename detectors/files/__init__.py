"""Text out of files for the scan: PDF, DOCX, XLSX, PPTX, CSV, JSON and ZIP archives (their
members, nested to a small depth), sniffed by their bytes and read within declared bounds
(bounds.py). Images are not read here: shadowmap.detectors.ocr reads them."""
from __future__ import annotations

from shadowmap.detectors.files.bounds import FileBounds
from shadowmap.detectors.files.read import DEFAULT_BOUNDS, read_file
from shadowmap.detectors.files.result import FileText
from shadowmap.detectors.files.sniff import IMAGE_FORMATS, sniff

__all__ = ["DEFAULT_BOUNDS", "FileBounds", "FileText", "IMAGE_FORMATS", "read_file", "sniff"]
