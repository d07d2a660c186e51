"""Changing the AI acceptable-use policy the agents pull (admin role): a console page with
the policy as JSON, `POST /admin/policy` (session + CSRF, or an admin API token), and the
one writer both it and `shadowmap collector policy set` use. Every change is validated
against schema/policy.v1.json before it is stored and is appended to the record, so an
auditor sees who changed what the laptops enforce, and when."""
from __future__ import annotations

import hashlib
import json

import sqlite_utils
from aiohttp import web

from shadowmap import contract
from shadowmap.collector import record
from shadowmap.collector.console import flash
from shadowmap.collector.console.auth import require_form, require_page
from shadowmap.collector.console.pages import render
from shadowmap.collector.console.policy_summary import summary
from shadowmap.collector.errors import ApiError
from shadowmap.collector.state import STORE
from shadowmap.collector.store.sqlite import org

MAX_POLICY_BYTES = 256 * 1024


class PolicyInputError(ValueError):
    """The text is not a policy; the message says why (naming the offending field)."""


def parse_policy(text: str) -> dict:
    if len(text.encode("utf-8", "surrogatepass")) > MAX_POLICY_BYTES:
        raise PolicyInputError(f"the policy exceeds {MAX_POLICY_BYTES} bytes")
    try:
        policy = json.loads(text)
    except ValueError as exc:
        raise PolicyInputError(f"not JSON: {exc}") from None
    try:
        contract.validate_policy(policy)
    except contract.ContractError as exc:
        raise PolicyInputError(str(exc)) from None
    return policy


def replace_policy(db: sqlite_utils.Database, policy: dict, actor: str) -> str:
    """Writer fn: store the policy and record the change in the same transaction; returns
    the new ETag (agents pick it up at their next refresh)."""
    previous_etag = org.current_policy(db)[1]
    etag = org.set_policy(db, policy)
    digest = hashlib.sha256(json.dumps(policy, sort_keys=True).encode()).hexdigest()
    record.append(db, "admin", "policy", actor,
                  {"etag": etag, "previous_etag": previous_etag, "policy_sha256": digest,
                   "rules": len(policy["rules"])})
    return etag


async def policy_page_handler(request: web.Request) -> web.Response:
    principal = await require_page(request, "admin")
    policy_json, etag = await request.app[STORE].read(org.current_policy)
    policy = json.loads(policy_json)
    return render(request, "policy.html", principal, policy_text=json.dumps(policy, indent=2), etag=etag, error=None,
                  summary=summary(policy))


async def set_policy_handler(request: web.Request) -> web.StreamResponse:
    principal, form = await require_form(request, "admin")
    text = form.get("policy", "")
    api = principal.via != "session"
    if not isinstance(text, str):
        raise web.HTTPBadRequest(text="policy must be a text field")
    try:
        policy = parse_policy(text)
    except PolicyInputError as exc:
        if api:
            raise ApiError(400, "invalid_policy", str(exc)) from None
        etag = (await request.app[STORE].read(org.current_policy))[1]
        return render(request, "policy.html", principal, http_status=400, policy_text=text, etag=etag,
                      error=str(exc))
    etag = await request.app[STORE].write(replace_policy, policy, principal.name)
    if api:
        return web.json_response({"ok": True, "etag": etag})
    raise flash.redirect(request, "/admin/policy", f"policy saved (ETag {etag.strip(chr(34))})")


ROUTES = [
    web.get("/admin/policy", policy_page_handler),
    web.post("/admin/policy", set_policy_handler),
]
