"""Small HTTP helpers: reading a bounded body or JSON body, the bearer token."""
from __future__ import annotations

import json

from aiohttp import web
from aiohttp.web_protocol import RequestPayloadError

from shadowmap.collector.errors import ApiError


class BodyError(Exception):
    """The request body could not be read (broken chunking or content encoding)."""


async def read_small_json(request: web.Request, limit: int = 64 * 1024) -> dict:
    """The request body as a JSON object; ApiError says what is wrong with it."""
    if request.content_length is not None and request.content_length > limit:
        raise ApiError(413, "too_large", f"body exceeds {limit} bytes")
    try:
        raw = await read_body(request, limit)
    except BodyError:
        raise ApiError(400, "bad_body", "the request body could not be read") from None
    if raw is None:
        raise ApiError(413, "too_large", f"body exceeds {limit} bytes")
    try:
        body = json.loads(raw)
        # a lone surrogate (\\ud800) parses, but no string holding one can be stored or sent on
        json.dumps(body, ensure_ascii=False).encode("utf-8")
    except (ValueError, RecursionError):  # UnicodeDecodeError and UnicodeEncodeError are ValueErrors
        raise ApiError(400, "bad_json", "body is not valid JSON (UTF-8 text, nested at most a few hundred deep)") from None
    if not isinstance(body, dict):
        raise ApiError(400, "bad_request", "body must be a JSON object")
    return body


async def read_body(request: web.Request, limit: int) -> bytes | None:
    """The raw body, or None as soon as it grows past ``limit`` bytes (then stop reading).
    Raises BodyError when the transport cannot deliver it (bad chunking, or bad gzip when
    the server inflates bodies itself)."""
    if request.content_length is not None and request.content_length > limit:
        return None
    chunks: list[bytes] = []
    total = 0
    while True:
        try:
            chunk = await request.content.read(64 * 1024)
        except RequestPayloadError as exc:
            raise BodyError(str(exc)[:200]) from None
        if not chunk:
            return b"".join(chunks)
        total += len(chunk)
        if total > limit:
            return None
        chunks.append(chunk)


def client_address(request: web.Request) -> str:
    """The caller's address: the peer, or what a trusted proxy says it forwarded for
    (shadowmap.collector.middlewares sets request.remote then)."""
    return request.remote or "unknown"


def bearer_token(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()
