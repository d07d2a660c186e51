"""Every route of the app, called without credentials: only the few public ones answer 200;
every other one refuses (401/403) or sends the browser to the login page."""
from __future__ import annotations

import re

from aiohttp import web

# Routes that are public by design, and what they answer to an anonymous caller.
PUBLIC = {
    ("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/login"), ("POST", "/login"),
    ("GET", "/static/style.css"), ("GET", "/"),
    ("POST", "/api/v1/enroll"),  # the enroll secret in the body is the credential (403 without it)
    # the self-hosted extension: browsers' updaters send no credentials; public packages (404 until published)
    ("GET", "/extension/info.json"), ("GET", "/extension/1/1"),
}
DYNAMIC = re.compile(r"\{[^}]+\}")


def app_routes(app: web.Application) -> list[tuple[str, str]]:
    routes = set()
    for route in app.router.routes():
        if route.method in ("HEAD", "*"):
            continue
        info = route.resource.get_info() if route.resource is not None else {}
        path = info.get("path") or info.get("formatter") or info.get("prefix")
        if path:
            routes.add((route.method, DYNAMIC.sub("1", path)))
    return sorted(routes)


def refused(method: str, status: int, location: str) -> bool:
    if status in (401, 403):
        return True
    return status in (302, 303) and location.startswith("/login")


async def test_every_protected_route_refuses_anonymous_callers(client, device):
    routes = app_routes(client.app)
    paths = {path for _, path in routes}
    # the console is all here (so the enumeration really covers it)
    for expected in ("/alerts", "/alerts/1", "/alerts/1/triage", "/register", "/register/import", "/admin",
                     "/admin/tokens", "/unknown-tools", "/api/v1/scm/github", "/api/v1/scm/gitlab", "/api/v1/alerts"):
        assert expected in paths, expected
    checked = 0
    for method, path in routes:
        if (method, path) in PUBLIC:
            continue
        for headers in ({}, {"Authorization": "Bearer forged-token"}, {"Cookie": "shadowmap_session=forged"}):
            response = await client.request(method, path, headers=headers, allow_redirects=False, data=b"")
            assert refused(method, response.status, response.headers.get("Location", "")), \
                (method, path, headers, response.status)
            checked += 1
    assert checked >= 3 * 25


async def test_public_routes_are_harmless(client):
    assert (await client.get("/healthz")).status == 200
    response = await client.get("/", allow_redirects=False)
    assert response.status == 302 and response.headers["Location"] == "/overview"
    assert (await client.post("/api/v1/enroll", json={"enroll_secret": "wrong"})).status == 403
    # nothing published: the extension's routes serve nothing, and never a path outside their folder
    for path in ("/extension/info.json", "/extension/chromium/updates.xml", "/extension/chromium/..%2f..%2fenroll_secret",
                 "/extension/other/x.crx"):
        assert (await client.get(path)).status == 404, path
