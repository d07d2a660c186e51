"""GET /api/v1/alerts: the alert list for automation (an API token with the viewer role)."""
from __future__ import annotations

from aiohttp import web

from shadowmap.collector.alerts.filters import FilterError, parse_filters
from shadowmap.collector.errors import ApiError
from shadowmap.collector.principals import require_api
from shadowmap.collector.state import STORE
from shadowmap.collector.store.sqlite.alert_reads import ALERT_LIST_LIMIT, list_alerts


async def alerts_api_handler(request: web.Request) -> web.Response:
    await require_api(request, "viewer")
    raw_limit = request.query.get("limit", str(ALERT_LIST_LIMIT))
    if not (raw_limit.isascii() and raw_limit.isdigit() and len(raw_limit) <= 4) or not 1 <= int(raw_limit) <= ALERT_LIST_LIMIT:
        raise ApiError(400, "bad_request", f"limit must be 1..{ALERT_LIST_LIMIT}")
    try:
        filters = parse_filters(request.query)
    except FilterError as exc:
        raise ApiError(400, "bad_request", str(exc)) from None
    alerts = await request.app[STORE].read(list_alerts, int(raw_limit), filters)
    return web.json_response({"alerts": alerts})
