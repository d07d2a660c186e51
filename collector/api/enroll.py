"""POST /api/v1/enroll: enroll secret in, device id + node key + org key out.

A device is (host_identifier, mode, os_user in user mode). The enroll secret ships in every
package, so it only enrolls an identity the collector has not seen. A known device is
re-enrolled only with its current node key; otherwise the answer is 202 "pending": a
request an admin approves in the console or with `shadowmap collector devices approve`,
and the device, its key and any revocation stay as they were."""
from __future__ import annotations

import hmac
import logging

from aiohttp import web

from shadowmap.collector.errors import ApiError
from shadowmap.collector.http import read_small_json
from shadowmap.collector.state import ENROLL_SECRET, STORE
from shadowmap.collector.store.sqlite import devices, org
from shadowmap.collector.store.sqlite.devices import MODES, Identity

log = logging.getLogger(__name__)

# field -> max length; all required, non-empty strings
ENROLL_FIELDS = {"host_identifier": 256, "hostname": 253, "os": 128}
# field -> max length; optional strings
OPTIONAL_FIELDS = {"os_user": 256, "node_key": 256, "request_token": 256}


def _optional(body: dict, name: str) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > OPTIONAL_FIELDS[name]:
        raise ApiError(400, "bad_request", f"{name} must be a non-empty string of at most {OPTIONAL_FIELDS[name]} characters")
    return value.strip()


def _identity(body: dict, host_identifier: str) -> Identity:
    mode = body.get("mode", "system")       # agents before device identities sent no mode
    if mode not in MODES:
        raise ApiError(400, "bad_request", f"mode must be one of {', '.join(MODES)}")
    os_user = _optional(body, "os_user")
    if mode == "user" and os_user is None:
        raise ApiError(400, "bad_request", "a user-mode agent must send its os_user")
    return Identity(host_identifier, mode, os_user if mode == "user" and os_user else "")


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
    identity = _identity(body, values["host_identifier"])
    node_key, request_token = _optional(body, "node_key"), _optional(body, "request_token")
    store = request.app[STORE]
    enrollment = await store.write(devices.enroll, identity, values["hostname"], values["os"],
                                   node_key, request_token, request.remote or "")
    if enrollment.pending:
        log.warning("re-enrollment of a known device (%s, %s mode) from %s needs an admin's approval: request %s",
                    values["hostname"], identity.mode, request.remote, enrollment.request_id)
        if enrollment.request_id is None:
            raise ApiError(409, "approval_needs_request_token",
                           "this device is enrolled already; re-enrolling needs its node key or an approved "
                           "request, and this agent sent no request token (upgrade it)")
        return web.json_response({"status": "pending", "request_id": enrollment.request_id}, status=202)
    org_key = await store.read(org.org_key_b64)
    log.info("enrolled device %s (%s, %s mode)", enrollment.device_id, values["hostname"], identity.mode)
    return web.json_response(
        {"device_id": enrollment.device_id, "node_key": enrollment.node_key, "org_key": org_key}
    )
