"""Exception requests over the real server, on both backends: a device's exception.requested
events are listed on the console's Exception requests page (each read recorded); an analyst
approves or denies one with the session's CSRF token (a viewer cannot, a request is decided
once), the decision goes to the record, and an approved one is served, time-limited, in the
policy of that device only (with a new ETag), never a denied or expired one. An analyst's API
token decides too (JSON answers); a viewer's cannot."""
from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest

from shadowmap import contract
from shadowmap.collector.state import STORE
from shadowmap.collector.store.sqlite.accounts import create_api_token

pytestmark = pytest.mark.both_backends


def exception_event(device: dict, *, user: str = "alice", tool_id: str = "chatgpt", classes=("pii",),
                    reason: str = "Support case 4711: drafting the reply to <EMAIL_1>") -> dict:
    event = {"schema": "shadowmap.event/1", "id": str(uuid.uuid4()), "type": "exception.requested",
             "device_id": device["device_id"], "user": user,
             "ts": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
             "data": {"scan_id": str(uuid.uuid4()), "tool_id": tool_id, "domain": "chatgpt.com",
                      "data_classes": list(classes), "reason": reason, "channel": "paste",
                      "account_tier": "personal"}}
    contract.validate_event(event)
    return event


async def served(client, device: dict, etag: str | None = None):
    headers = {**device["headers"], **({"If-None-Match": etag} if etag else {})}
    response = await client.get("/api/v1/policy", headers=headers)
    return response.status, (await response.json() if response.status == 200 else None), response.headers["ETag"]


async def decide(client, csrf: str, request_id: str, decision: str, **fields):
    return await client.post("/exceptions/decide", data={"csrf_token": csrf, "request_id": request_id,
                                                         "decision": decision, **fields}, allow_redirects=False)


async def test_an_analyst_approves_and_the_device_gets_the_exception(client, config, device, console, make):
    other = await make.enroll(client, config, "host-uuid-2")
    other["headers"] = {"Authorization": f"Bearer {other['node_key']}"}
    wanted = exception_event(device)
    refused = exception_event(device, user="bob", tool_id="claude", classes=("production",), reason="testing")
    await console.post_events(client, device, [wanted, refused])
    _, before, etag = await served(client, device)
    assert "exceptions" not in before

    anonymous = await client.get("/exceptions", allow_redirects=False)
    assert anonymous.status == 302 and anonymous.headers["Location"].startswith("/login")
    await console.add_account(client, "vera", "viewer")
    viewer_csrf = await console.sign_in(client, "vera")
    page = await (await client.get("/exceptions")).text()
    assert wanted["id"] in page and "Support case 4711" in page and "&lt;EMAIL_1&gt;" in page   # escaped
    assert 'action="/exceptions/decide"' not in page                    # a viewer sees no decision form
    assert (await decide(client, viewer_csrf, wanted["id"], "approved")).status == 403

    await console.add_account(client, "ana", "analyst")
    csrf = await console.sign_in(client, "ana")
    assert 'action="/exceptions/decide"' in await (await client.get("/exceptions")).text()
    assert (await client.post("/exceptions/decide", data={"request_id": wanted["id"], "decision": "approved"},
                              allow_redirects=False)).status == 403      # no CSRF token
    assert (await decide(client, csrf, wanted["id"], "maybe")).status == 400
    assert (await decide(client, csrf, wanted["id"], "approved", hours="0")).status == 400
    assert (await decide(client, csrf, wanted["id"], "approved", hours="721")).status == 400
    assert (await decide(client, csrf, "no-such-request", "approved")).status == 404
    approved = await decide(client, csrf, wanted["id"], "approved", hours="8", note="ok for case 4711")
    assert approved.status == 303 and approved.headers["Location"].startswith("/exceptions?")
    assert (await decide(client, csrf, wanted["id"], "denied")).status == 409     # decided once
    assert (await decide(client, csrf, refused["id"], "denied")).status == 303

    pending = await (await client.get("/exceptions")).text()
    assert wanted["id"] not in pending and refused["id"] not in pending
    listed = await (await client.get("/exceptions", params={"status": "approved"})).text()
    assert wanted["id"] in listed and "ana" in listed and "ok for case 4711" in listed
    assert (await client.get("/exceptions", params={"status": "bogus"})).status == 400

    status, policy, new_etag = await served(client, device, etag)
    assert status == 200 and new_etag != etag
    contract.validate_policy(policy)
    (grant,) = policy["exceptions"]
    assert {k: grant[k] for k in ("id", "user", "tool", "data_class")} == {
        "id": wanted["id"], "user": "alice", "tool": "chatgpt", "data_class": "pii"}
    hours = (datetime.fromisoformat(grant["expires_at"].replace("Z", "+00:00")) - datetime.now(UTC)).total_seconds() / 3600
    assert 7.9 < hours <= 8
    assert (await served(client, device, new_etag))[0] == 304
    assert "exceptions" not in (await served(client, other))[1]          # another device's policy: not there

    entries = make.select_rows(config.db_path, "SELECT kind, subject, actor, detail FROM record_entries "
                                               "WHERE subject LIKE 'exception%' ORDER BY seq")
    decisions = [(e["subject"], e["actor"], json.loads(e["detail"])["decision"]) for e in entries if e["kind"] == "admin"]
    assert decisions == [(f"exception:{wanted['id']}", "ana", "approved"), (f"exception:{refused['id']}", "ana", "denied")]
    reads = [(e["subject"], e["actor"]) for e in entries if e["kind"] == "read"]
    assert ("exception-requests", "vera") in reads and ("exception-requests", "ana") in reads

    # an expired exception is no longer served (the agent also checks expires_at itself)
    await client.app[STORE].write(lambda db: db.execute(
        "UPDATE exception_decisions SET expires_at = ? WHERE request_id = ?", ("2020-01-01T00:00:00.000000Z", wanted["id"])))
    assert "exceptions" not in (await served(client, device))[1]



async def test_an_analyst_api_token_decides_and_a_viewer_token_cannot(client, config, device, console, make):
    request = exception_event(device, classes=("pii", "production"))
    await console.post_events(client, device, [request])
    viewer = await client.app[STORE].write(lambda db: create_api_token(db, "ci-viewer", "viewer"))
    analyst = await client.app[STORE].write(lambda db: create_api_token(db, "ci-analyst", "analyst"))
    form = {"request_id": request["id"], "decision": "approved", "hours": "3"}
    refused = await client.post("/exceptions/decide", data=form, headers={"Authorization": f"Bearer {viewer}"})
    assert refused.status == 403
    bad = await client.post("/exceptions/decide", data={**form, "hours": "x"},
                            headers={"Authorization": f"Bearer {analyst}"})
    assert bad.status == 400 and (await bad.json())["error"]["code"] == "invalid_decision"
    ok = await client.post("/exceptions/decide", data=form, headers={"Authorization": f"Bearer {analyst}"})
    body = await ok.json()
    assert ok.status == 200 and (body["request_id"], body["decision"]) == (request["id"], "approved")
    again = await client.post("/exceptions/decide", data=form, headers={"Authorization": f"Bearer {analyst}"})
    assert again.status == 409 and (await again.json())["error"]["code"] == "not_decided"
    _, policy, _ = await served(client, device)
    assert sorted((g["data_class"], g["expires_at"]) for g in policy["exceptions"]) == [
        ("pii", body["expires_at"]), ("production", body["expires_at"])]           # one entry per data class
    (entry,) = make.select_rows(config.db_path, "SELECT actor, detail FROM record_entries WHERE kind = 'admin'")
    assert entry["actor"] == "token:ci-analyst"
    assert json.loads(entry["detail"])["data_classes"] == ["pii", "production"]
