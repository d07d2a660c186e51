"""ZIP archives, and the zip-bomb guard every ZIP-based format (DOCX, XLSX, PPTX) passes
before a library opens it.

A member is refused before it is inflated when its declared size is over the ratio or
the absolute cap, and counted while it is inflated (a declared size can lie: zipfile stops
at it, and the count stops at the cap whatever it says).
"""
from __future__ import annotations

import io
import zipfile
from collections.abc import Callable

from shadowmap.detectors.files.bounds import BoundHit, Budget
from shadowmap.detectors.files.result import TextSink, Unreadable

_CHUNK = 1 << 16
_ENCRYPTED = 0x1

ReadMember = Callable[[bytes, TextSink, int], None]


def _refusal(info: zipfile.ZipInfo, budget: Budget) -> str | None:
    """Why a member must not be inflated, judged from its declared sizes; None if it may."""
    bounds = budget.bounds
    if info.file_size > bounds.max_member_ratio * max(info.compress_size, 1):
        return (f"'{info.filename}' would inflate {info.file_size // max(info.compress_size, 1):,} times "
                f"(more than {bounds.max_member_ratio}: a zip bomb)")
    if budget.inflated + info.file_size > bounds.max_inflated_bytes:
        return f"'{info.filename}' would take the archive past {bounds.max_inflated_bytes >> 20} MiB inflated"
    return None


def guard_container(data: bytes, budget: Budget) -> None:
    """Refuse an Office file whose parts would inflate past the bounds (before any library
    opens it: they read whole parts into memory)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        infos = archive.infolist()
        if len(infos) > budget.bounds.max_members * 20:
            raise Unreadable(f"not opened: the file has {len(infos):,} parts")
        declared = 0
        for info in infos:
            refusal = _refusal(info, budget)
            if refusal is not None:
                raise Unreadable(f"not opened: {refusal}")
            declared += info.file_size
        budget.take_inflated(declared, "the file's parts")


def _inflate(archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: Budget) -> bytes:
    chunks: list[bytes] = []
    got = 0
    with archive.open(info) as member:
        while chunk := member.read(_CHUNK):
            got += len(chunk)
            budget.take_inflated(len(chunk), f"member '{info.filename}'")
            if got > info.file_size or got > budget.bounds.max_member_ratio * max(info.compress_size, 1):
                raise BoundHit(f"stopped at member '{info.filename}': it inflates past its declared size")
            chunks.append(chunk)
    return b"".join(chunks)


def read_zip(data: bytes, sink: TextSink, depth: int, read_member: ReadMember) -> None:
    budget = sink.budget
    if depth > budget.bounds.max_depth:
        budget.note(f"an archive nested more than {budget.bounds.max_depth} deep was not opened")
        return
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = [info for info in archive.infolist() if not info.is_dir()]
        for info in members:
            if budget.members >= budget.bounds.max_members:
                raise BoundHit(f"read the first {budget.members:,} archive members "
                               f"(at most {budget.bounds.max_members:,} a file)")
            budget.members += 1
            budget.check_time(f"member '{info.filename}'")
            if info.flag_bits & _ENCRYPTED:
                budget.note(f"member '{info.filename}' is encrypted: not read")
                continue
            refusal = _refusal(info, budget)
            if refusal is not None:
                budget.note(f"member {refusal}: not read")
                continue
            try:
                content = _inflate(archive, info, budget)
            except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:   # CRC errors, damage
                budget.note(f"member '{info.filename}' could not be read ({type(exc).__name__})")
                continue
            sink.enter(f"member '{info.filename}'")
            try:
                read_member(content, sink, depth + 1)
            finally:
                sink.leave()
