"""Small HTTP helpers: JSON error replies, UTC timestamps, reading a bounded JSON body."""
from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from functools import lru_cache

from aiohttp import web
from aiohttp.web_protocol import RequestPayloadError


class BodyError(Exception):
    """The request body could not be read (broken chunking or content encoding)."""


def json_error(status: int, error: str, detail: str = "", **extra: object) -> web.Response:
    body: dict[str, object] = {"error": error}
    if detail:
        body["detail"] = detail
    body.update(extra)
    return web.json_response(body, status=status)


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


# What agents send: UTC with a Z and at most microseconds. Such a stamp is normalised by
# padding its fraction; any other form goes through datetime (ingest normalises every event).
CANONICAL_UTC = re.compile(
    r"[0-9]{4}-(?:0[1-9]|1[0-2])-[0-3][0-9]T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.([0-9]{1,6}))?Z")


@lru_cache(maxsize=4096)
def _is_real_day(day: str) -> bool:
    try:
        date.fromisoformat(day)
    except ValueError:
        return False
    return True


def normalise_ts(value: str) -> str:
    """An RFC 3339 timestamp (already schema-checked) as UTC with a Z and microseconds, so
    strings sort by time. Raises ValueError (or OverflowError) for a date that does not exist."""
    canonical = CANONICAL_UTC.fullmatch(value)
    if canonical is not None and _is_real_day(value[:10]):
        return f"{value[:19]}.{canonical.group(1) or '':0<6}Z"
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


async def read_small_json(request: web.Request, limit: int = 64 * 1024) -> dict | web.Response:
    """The request body as a JSON object, or an error reply saying what is wrong with it."""
    if request.content_length is not None and request.content_length > limit:
        return json_error(413, "too_large", f"body exceeds {limit} bytes")
    try:
        raw = await read_body(request, limit)
    except BodyError:
        return json_error(400, "bad_body", "the request body could not be read")
    if raw is None:
        return json_error(413, "too_large", f"body exceeds {limit} bytes")
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return json_error(400, "bad_json", "body is not valid JSON")
    if not isinstance(body, dict):
        return json_error(400, "bad_request", "body must be a JSON object")
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


def bearer_token(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()
