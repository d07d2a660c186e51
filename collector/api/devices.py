"""Authenticating an agent's requests by its node key (Authorization: Bearer)."""
from __future__ import annotations

from aiohttp import web

from shadowmap.collector.errors import ApiError
from shadowmap.collector.http import bearer_token
from shadowmap.collector.state import STORE
from shadowmap.collector.store.sqlite import devices
from shadowmap.collector.store.sqlite.devices import Device

MAX_NODE_KEY_LENGTH = 256


async def authenticate_device(request: web.Request) -> Device:
    """The device whose node key is in the Authorization header; ApiError 401 (re-enroll)
    when there is none or it is refused."""
    token = bearer_token(request)
    device = None
    if token is not None and len(token) <= MAX_NODE_KEY_LENGTH:
        device = await request.app[STORE].read(devices.device_by_node_key_hash, devices.hash_node_key(token))
    if device is None:
        raise ApiError(401, "invalid_node_key", "the node key is unknown or revoked; enroll again", reenroll=True)
    return device
