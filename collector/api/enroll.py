"""POST /api/v1/enroll: enroll secret in, device id + node key + org key out."""
from __future__ import annotations

import hmac
import logging

from aiohttp import web

from shadowmap.collector.errors import ApiError
from shadowmap.collector.http import read_small_json
from shadowmap.collector.state import ENROLL_SECRET, STORE
from shadowmap.collector.store.sqlite import devices, org

log = logging.getLogger(__name__)

# field -> max length; all required, non-empty strings
ENROLL_FIELDS = {"host_identifier": 256, "hostname": 253, "os": 128}


async def enroll_handler(request: web.Request) -> web.Response:
    body = await read_small_json(request)
    secret = body.get("enroll_secret")
    if not isinstance(secret, str) or not hmac.compare_digest(
        secret.encode("utf-8"), request.app[ENROLL_SECRET].encode("utf-8")
    ):
        log.warning("enroll refused from %s: bad enroll secret", request.remote)
        raise ApiError(403, "invalid_enroll_secret", "the enroll secret is wrong")
    values: dict[str, str] = {}
    for name, max_length in ENROLL_FIELDS.items():
        value = body.get(name)
        if not isinstance(value, str) or not value.strip() or len(value) > max_length:
            raise ApiError(400, "bad_request", f"{name} must be a non-empty string of at most {max_length} characters")
        values[name] = value.strip()
    store = request.app[STORE]
    enrollment = await store.write(devices.enroll, values["host_identifier"], values["hostname"], values["os"])
    org_key = await store.read(org.org_key_b64)
    log.info("enrolled device %s (%s)", enrollment.device_id, values["hostname"])
    return web.json_response(
        {"device_id": enrollment.device_id, "node_key": enrollment.node_key, "org_key": org_key}
    )
