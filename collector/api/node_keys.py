"""Node-key authentication for the two requests every agent makes all day (uploads and
policy polls), with the key's lookup cached in this node for CACHE_SECONDS.

The cache only saves the lookup; it is never what lets a request through. Revocation stays
immediate on every node: the request's own transaction checks the key again, for free
where it writes anyway (ingest: the device's `last_seen` touch matches the key and
`revoked = 0`, else the batch rolls back and nothing is acknowledged) and in the same read
that serves the policy. A refused key is dropped from the cache and the agent gets the
usual 401 (re-enroll)."""
from __future__ import annotations

import time
import weakref
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from shadowmap.collector.api.devices import MAX_NODE_KEY_LENGTH, authenticate_device
from shadowmap.collector.errors import ApiError
from shadowmap.collector.http import bearer_token
from shadowmap.collector.state import STORE
from shadowmap.collector.store.sqlite import devices
from shadowmap.collector.store.sqlite.devices import Device

CACHE_SECONDS = 60.0
MAX_ENTRIES = 200_000  # ~200 bytes each: a few tens of MB at most, for the largest fleets


@dataclass(frozen=True)
class Authenticated:
    device: Device
    key_hash: str  # what the request's transaction checks again


class NodeKeyCache:
    """key hash -> (device, monotonic expiry); cleared whole when full (simple, and rare)."""

    def __init__(self, seconds: float = CACHE_SECONDS, max_entries: int = MAX_ENTRIES) -> None:
        self.seconds, self.max_entries = seconds, max_entries
        self._entries: dict[str, tuple[Device, float]] = {}

    def get(self, key_hash: str) -> Device | None:
        entry = self._entries.get(key_hash)
        if entry is None:
            return None
        if entry[1] < time.monotonic():
            del self._entries[key_hash]
            return None
        return entry[0]

    def put(self, key_hash: str, device: Device) -> None:
        if len(self._entries) >= self.max_entries:
            self._entries.clear()
        self._entries[key_hash] = (device, time.monotonic() + self.seconds)

    def forget(self, key_hash: str) -> None:
        self._entries.pop(key_hash, None)


# one cache per open store (a store is one collector's database), as api/ingest_rekey's pepper
_CACHES: weakref.WeakKeyDictionary[Any, NodeKeyCache] = weakref.WeakKeyDictionary()


def cache_of(store: Any) -> NodeKeyCache:
    cache = _CACHES.get(store)
    if cache is None:
        cache = _CACHES[store] = NodeKeyCache()
    return cache


async def authenticate_node_key(request: web.Request) -> Authenticated:
    """The device of the request's node key: from this node's cache, else looked up (and
    refused with a 401 as authenticate_device does). The caller's transaction must check
    the key again (store/sqlite/node_keys.py)."""
    token = bearer_token(request)
    if token is not None and len(token) <= MAX_NODE_KEY_LENGTH:
        key_hash = devices.hash_node_key(token)
        cache = cache_of(request.app[STORE])
        device = cache.get(key_hash)
        if device is not None:
            return Authenticated(device, key_hash)
    device = await authenticate_device(request)  # the lookup, or the 401
    key_hash = devices.hash_node_key(bearer_token(request) or "")
    cache_of(request.app[STORE]).put(key_hash, device)
    return Authenticated(device, key_hash)


async def refuse(request: web.Request, who: Authenticated) -> ApiError:
    """The key was found revoked or replaced inside the request's transaction: forget it
    here, and answer as a fresh lookup does (401, re-enroll)."""
    cache_of(request.app[STORE]).forget(who.key_hash)
    await authenticate_device(request)  # raises the 401: the key is no longer current
    # the key came back between the two reads (an admin re-instated it): let the agent retry
    return ApiError(503, "retry", "the node key changed during the request; try again")
