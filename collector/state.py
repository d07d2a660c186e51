"""Typed application state keys, shared by the handlers and the app factory."""
from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from shadowmap.collector.config import CollectorConfig
from shadowmap.collector.store import Storage


@dataclass
class ErrorCounter:
    """How many requests ended in an unexpected exception (should stay 0 on bad input)."""
    internal_errors: int = 0


CONFIG = web.AppKey("config", CollectorConfig)
STORE = web.AppKey("store", Storage)
ENROLL_SECRET = web.AppKey("enroll_secret", str)
ERRORS = web.AppKey("errors", ErrorCounter)
