"""Console errors inside the console: every 4xx and 5xx of a console page or form is
answered with an HTML page in the console's layout, with its navigation (for whoever is
signed in) and the reason, instead of a bare text/plain line. The API (/api/, /metrics),
/healthz, redirects, and callers with an API token keep their own answers."""
from __future__ import annotations

from collections.abc import Awaitable, Callable

import aiohttp_jinja2
from aiohttp import web

from shadowmap.collector.errors import is_api_path
from shadowmap.collector.http import bearer_token
from shadowmap.collector.principals import current_principal

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
NOT_CONSOLE = ("/healthz", "/readyz", "/static/")
TITLES = {400: "That request cannot be served", 401: "Sign in first", 403: "Not allowed", 404: "Not found",
          405: "Not allowed here", 409: "Not possible now", 413: "Too large", 429: "Too many requests"}
MAX_DETAIL = 500


def _is_console(request: web.Request) -> bool:
    return not (is_api_path(request.path) or request.path.startswith(NOT_CONSOLE) or bearer_token(request) is not None)


async def _page(request: web.Request, status: int, detail: str, headers: dict[str, str] | None = None) -> web.Response:
    try:
        principal = await current_principal(request)
    except Exception:  # the store itself may be what failed: the page still renders, without a name
        principal = None
    title = TITLES.get(status, "Something went wrong" if status >= 500 else "That request cannot be served")
    context = {"status": status, "title": title, "detail": detail[:MAX_DETAIL], "message": "",
               "signed_in": principal is not None, "username": principal.name if principal else "",
               "role": principal.role if principal else "", "csrf_token": (principal.csrf_token or "") if principal else "",
               "is_admin": bool(principal and principal.can("admin")), "can_triage": bool(principal and principal.can("analyst")),
               "current_path": request.path}
    response = aiohttp_jinja2.render_template("error.html", request, context, status=status)
    for name in ("Allow", "Retry-After"):
        if headers and name in headers:
            response.headers[name] = headers[name]
    return response


@web.middleware
async def console_error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Between the security headers (outermost) and the API's error answers (innermost)."""
    if not _is_console(request):
        return await handler(request)
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return await _page(request, exc.status, exc.text or exc.reason, dict(exc.headers))
    if response.status >= 500 and (response.content_type or "") == "text/plain":
        text = response.text if isinstance(response, web.Response) else ""
        return await _page(request, response.status, text or "")
    return response
