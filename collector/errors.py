"""One error style for the HTTP API: a handler raises ApiError(status, code, message) and
`error_middleware` answers it as `{"error": {"code": ..., "message": ...}}` (plus any extra
top-level fields the error carries, e.g. `"reenroll": true` for an agent whose node key is
refused). An unexpected exception becomes a logged 500 with an opaque reference: JSON in the
same shape under /api/ and /metrics, plain text on console pages (which answer their own
errors with HTML or text pages)."""
from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable, Mapping

from aiohttp import web

from shadowmap.collector.state import ERRORS

log = logging.getLogger(__name__)

API_PREFIXES = ("/api/", "/metrics")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class ApiError(Exception):
    """An API request that cannot be served; ``extra`` goes into the body beside `error`."""

    def __init__(self, status: int, code: str, message: str = "", *,
                 headers: Mapping[str, str] | None = None, **extra: object) -> None:
        super().__init__(message or code)
        self.status, self.code, self.message = status, code, message
        self.headers = dict(headers or {})
        self.extra = extra

    def body(self) -> dict[str, object]:
        return {"error": {"code": self.code, "message": self.message}, **self.extra}

    def response(self) -> web.Response:
        return web.json_response(self.body(), status=self.status, headers=self.headers)


def is_api_path(path: str) -> bool:
    return path.startswith(API_PREFIXES)


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError as exc:
        return exc.response()
    except web.HTTPException:
        raise
    except Exception:
        reference = secrets.token_hex(6)
        request.app[ERRORS].internal_errors += 1
        log.exception("internal error %s on %s %s", reference, request.method, request.path)
        message = f"internal error, reference {reference}"
        if is_api_path(request.path):
            return ApiError(500, "internal", message).response()
        return web.Response(status=500, text=message)
