"""Native-messaging framing: a 4-byte little-endian length, then UTF-8 JSON.

Used on the browser's stdio and on the agent's local socket alike. Every input is
untrusted: each way a frame can be wrong raises FrameError with a stable code.
Stdlib only: the native host must start fast.
"""
from __future__ import annotations

import json
import struct

from shadowmap.contract import host

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: importing typing slows the host's cold start
if TYPE_CHECKING:
    from typing import BinaryIO

HEADER = struct.Struct("<I")
# the limits are the contract's (schema/host.v1.json "limits")
MAX_TO_BROWSER = host.MAX_TO_BROWSER       # Chrome refuses host -> browser messages over 1 MiB
MAX_FROM_BROWSER = host.MAX_FROM_BROWSER   # Chrome sends at most 64 MiB to a host
MAX_SCAN_TEXT = host.MAX_SCAN_TEXT         # larger pastes are refused as too_large, not read into the agent
MAX_TO_AGENT = host.MAX_TO_AGENT           # a host -> agent frame: a largest scan and its fields


class FrameError(Exception):
    """A frame that cannot be read or written. ``code`` is one of the IPC error codes."""

    def __init__(self, code: str, detail: str, fatal: bool = False):
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail
        # fatal: the stream is out of sync (bad length, truncated) and must be closed
        self.fatal = fatal


def encode(obj: dict, limit: int = MAX_TO_BROWSER) -> bytes:
    data = json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    if len(data) > limit:
        raise FrameError("too_large", f"message of {len(data)} bytes exceeds {limit}")
    return HEADER.pack(len(data)) + data


def _utf8(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FrameError("bad_frame", f"invalid UTF-8 at byte {exc.start}") from None


def _message(text: str) -> dict:
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FrameError("bad_json", f"invalid JSON: {exc.msg} at position {exc.pos}") from None
    except RecursionError:   # absurdly nested: refused like any bad JSON, never a crash
        raise FrameError("bad_json", "invalid JSON: nested too deeply") from None
    if not isinstance(obj, dict):
        raise FrameError("bad_request", "a message must be a JSON object")
    return obj


def decode_body(body: bytes) -> dict:
    return _message(_utf8(body))


def read_exact(stream: BinaryIO, n: int) -> bytes:
    chunks, got = [], 0
    while got < n:
        chunk = stream.read(n - got)
        if not chunk:
            break
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def read_length(stream: BinaryIO, limit: int = MAX_FROM_BROWSER) -> int | None:
    """The next frame's length, within limit; None on a clean end of stream between frames.
    The body is not read yet: a reader with a memory budget decides first."""
    header = read_exact(stream, HEADER.size)
    if not header:
        return None
    if len(header) < HEADER.size:
        raise FrameError("bad_frame", "truncated length header", fatal=True)
    (length,) = HEADER.unpack(header)
    if length > limit:
        raise FrameError("too_large", f"frame of {length} bytes exceeds {limit}", fatal=True)
    return int(length)


def read_body(stream: BinaryIO, length: int) -> dict:
    """The frame body of a length read_length gave, decoded."""
    # the bytes are dropped once decoded: at most two copies of a frame are alive at a time
    return _message(_utf8(_read_body_bytes(stream, length)))


def _read_body_bytes(stream: BinaryIO, length: int) -> bytes:
    body = read_exact(stream, length)
    if len(body) < length:
        raise FrameError("bad_frame", f"truncated frame: {len(body)} of {length} bytes", fatal=True)
    return body


def read_frame(stream: BinaryIO, limit: int = MAX_FROM_BROWSER) -> dict | None:
    """Read one message; None on a clean end of stream between frames."""
    length = read_length(stream, limit)
    return None if length is None else read_body(stream, length)


def write_frame(stream: BinaryIO, obj: dict, limit: int = MAX_TO_BROWSER) -> None:
    stream.write(encode(obj, limit))
    stream.flush()


def error(code: str, detail: str, request_id: object = None) -> dict:
    msg: dict[str, object] = {"type": "error", "error": code, "detail": detail}
    if request_id is not None:
        msg["id"] = request_id
    return msg
