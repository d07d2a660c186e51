"""The protobuf wire format, the little of it the project reads and writes by hand: a CRX3
package's header (extension_bridge/crx.py) and the OCR's ONNX models (detectors/ocr_graph.py).
Field numbers and meanings stay with each caller; this is only varints, keys and fields."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

VARINT, FIXED64, LENGTH_DELIMITED, FIXED32 = 0, 1, 2, 5


def varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | 0x80 if value else byte)
        if not value:
            return bytes(out)


def read_varint(data: bytes, i: int) -> tuple[int, int]:
    """The varint at ``data[i:]`` and the index after it."""
    value = shift = 0
    while True:
        byte = data[i]
        i += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, i


def key(number: int, wire: int) -> bytes:
    return varint(number << 3 | wire)


def length_delimited(number: int, payload: bytes) -> bytes:
    """One length-delimited field (bytes, a string or a message)."""
    return key(number, LENGTH_DELIMITED) + varint(len(payload)) + payload


def fields(data: bytes) -> Iterator[tuple[int, int, Any, int, int]]:
    """(field number, wire type, value, start, end) of each field of one message: an int for
    a varint, the bytes for the others."""
    i = 0
    while i < len(data):
        start = i
        field_key, i = read_varint(data, i)
        number, wire = field_key >> 3, field_key & 7
        value: Any
        if wire == VARINT:
            value, i = read_varint(data, i)
        elif wire == FIXED64:
            value, i = data[i:i + 8], i + 8
        elif wire == FIXED32:
            value, i = data[i:i + 4], i + 4
        elif wire == LENGTH_DELIMITED:
            length, i = read_varint(data, i)
            value, i = data[i:i + length], i + length
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
        yield number, wire, value, start, i
