"""Notices after a console action ("account bob created"), carried in the redirect's query
string but signed for the session that made the action: the page shows `msg` only when
`sig` is its HMAC keyed by the session cookie, a secret only that browser holds (the
database keeps a hash of it). A `?msg=` link made by anyone else (a phishing mail) shows nothing; the console never
renders text from a query string on its own. With no key of its own, a notice signed on
one collector node shows on another."""
from __future__ import annotations

import hashlib
import hmac
from urllib.parse import urlencode

from aiohttp import web

from shadowmap.collector.principals import SESSION_COOKIE

MAX_MESSAGE = 300


def _sign(request: web.Request, message: str) -> str:
    key = hashlib.sha256(b"shadowmap flash\0" + request.cookies.get(SESSION_COOKIE, "").encode()).digest()
    return hmac.new(key, message.encode("utf-8", "replace"), hashlib.sha256).hexdigest()


def query(request: web.Request, message: str) -> str:
    """The `msg=...&sig=...` query string that shows ``message`` to this session."""
    message = message[:MAX_MESSAGE]
    return urlencode({"msg": message, "sig": _sign(request, message)})


def redirect(request: web.Request, path: str, message: str, fragment: str = "") -> web.HTTPSeeOther:
    """A 303 to ``path`` (no query string of its own) showing ``message`` there; raise it."""
    return web.HTTPSeeOther(f"{path}?{query(request, message)}" + (f"#{fragment}" if fragment else ""))


def message_of(request: web.Request) -> str:
    """The notice to show on this page: a `msg` signed for this session, else nothing."""
    message, signature = request.query.get("msg", ""), request.query.get("sig", "")
    if not message or len(message) > MAX_MESSAGE or not request.cookies.get(SESSION_COOKIE):
        return ""
    return message if hmac.compare_digest(signature.encode("ascii", "replace"), _sign(request, message).encode()) else ""
