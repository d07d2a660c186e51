"""Middlewares: never leak a traceback, and harden every HTML page."""
from __future__ import annotations

import logging
import secrets

from aiohttp import web

from shadowmap.collector.http import json_error
from shadowmap.collector.state import ERRORS

log = logging.getLogger(__name__)

HTML_SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


@web.middleware
async def internal_error_middleware(request: web.Request, handler) -> web.StreamResponse:
    """An unexpected exception becomes a logged 500 with an opaque reference, nothing more."""
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except Exception:
        reference = secrets.token_hex(6)
        request.app[ERRORS].internal_errors += 1
        log.exception("internal error %s on %s %s", reference, request.method, request.path)
        return json_error(500, "internal", f"internal error, reference {reference}")


@web.middleware
async def security_headers_middleware(request: web.Request, handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        _harden(exc)
        raise
    _harden(response)
    return response


def _harden(response: web.StreamResponse) -> None:
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    if (response.content_type or "").startswith("text/html"):
        for name, value in HTML_SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
