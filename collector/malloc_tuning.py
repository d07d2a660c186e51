"""glibc malloc settings for the collector's processes (its own and the parse workers').

Ingest moves buffers of a few hundred KB per batch: the decompressed body, the worker's
result read back through a pipe, the event bodies, JSON texts. glibc gives every block
above M_MMAP_THRESHOLD (128 KiB at first) a fresh mapping, and trims the heap back to the
system once 2 x that much is free at its top, so such buffers come back as new pages again
and again, each one a page fault. Measured on this project's machine: reading one 300 KB
worker result cost about 130 page faults and 510 us of the reading thread; with the
thresholds below, no faults and about 120 us (tests/collector/test_malloc_tuning.py
counts the faults). The price is memory the process keeps for reuse instead of returning
it: at most TRIM_THRESHOLD_BYTES free at the top of the heap."""
from __future__ import annotations

import ctypes
import sys

M_TRIM_THRESHOLD = -1  # glibc's mallopt parameter numbers (malloc.h)
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD_BYTES = 8 * 1024 * 1024  # blocks below this come from the heap and are reused
TRIM_THRESHOLD_BYTES = 64 * 1024 * 1024


def tune() -> bool:
    """Apply the settings to this process; False where the C library is not glibc (nothing
    changes there)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the C library this process already runs on
    except (OSError, AttributeError):
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES))
