"""Harden every response (nosniff; HSTS when it came over HTTPS, directly or from a trusted
proxy), and every HTML page (CSP, no framing, no caching). Errors are answered by
shadowmap.collector.errors."""
from __future__ import annotations

from aiohttp import web

HSTS = "max-age=31536000"
HTML_SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


@web.middleware
async def security_headers_middleware(request: web.Request, handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        _harden(exc, request.secure)
        raise
    _harden(response, request.secure)
    return response


def _harden(response: web.StreamResponse, secure: bool) -> None:
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    if secure:  # browsers honour HSTS only when it arrives over HTTPS
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    if (response.content_type or "").startswith("text/html"):
        for name, value in HTML_SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
