"""POST /api/v1/events: auth, limits, validation, idempotency, gzip."""
from __future__ import annotations

import gzip
import json
import os
import random
from datetime import UTC, datetime

import pytest
from aiohttp import web

from shadowmap import contract
from shadowmap.collector.api.ingest_parse import parse_batch
from shadowmap.collector.app import create_app
from shadowmap.collector.config import CollectorConfig
from shadowmap.collector.state import ERRORS
from shadowmap.collector.timestamps import normalise_ts

# each test here that opens a store runs on both backends (tests/collector/conftest.py)
pytestmark = pytest.mark.both_backends


async def post_events(client, headers, body, *, gzipped: bool = False):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {**headers, "Content-Type": "application/json"}
    if gzipped:
        data = gzip.compress(data)
        headers["Content-Encoding"] = "gzip"
    return await client.post("/api/v1/events", data=data, headers=headers)


async def test_valid_batch_is_acked_and_stored(client, device, config, make):
    events = [make.paste(device["device_id"]), make.heartbeat(device["device_id"]), make.observed(device["device_id"])]
    response = await post_events(client, device["headers"], {"events": events})
    assert response.status == 200
    assert await response.json() == {"acked": [e["id"] for e in events], "rejected": []}
    assert make.count_rows(config.db_path, "events") == 3
    assert make.count_rows(config.db_path, "devices", "last_seen IS NOT NULL") == 1


async def test_same_batch_twice_is_acked_and_stored_once(client, device, config, make):
    events = [make.paste(device["device_id"]) for _ in range(5)]
    first = await (await post_events(client, device["headers"], {"events": events})).json()
    second_response = await post_events(client, device["headers"], {"events": events})
    assert second_response.status == 200
    second = await second_response.json()
    assert first["acked"] == second["acked"] == [e["id"] for e in events]
    assert make.count_rows(config.db_path, "events") == 5
    # duplicates do not raise alerts again either
    assert make.count_rows(config.db_path, "alerts", "finding_id = 'copied_secrets' AND count = 5") == 1


async def test_same_id_twice_in_one_batch_is_stored_once(client, device, config, make):
    event = make.paste(device["device_id"])
    response = await post_events(client, device["headers"], {"events": [event, event]})
    assert (await response.json())["acked"] == [event["id"]]
    assert make.count_rows(config.db_path, "events") == 1


async def test_gzip_batch(client, device, config, make):
    events = [make.heartbeat(device["device_id"]) for _ in range(50)]
    response = await post_events(client, device["headers"], {"events": events}, gzipped=True)
    assert response.status == 200
    assert len((await response.json())["acked"]) == 50
    assert make.count_rows(config.db_path, "events") == 50


@pytest.mark.parametrize("body, error", [
    (b"{not json", "bad_json"),
    (b'"just a string"', "bad_request"),
    (b'{"events": {"a": 1}}', "bad_request"),
    (b'{"nothing": []}', "bad_request"),
    (b"[" * 100000 + b"]" * 100000, "bad_json"),
    (b"\xff\xfe\x00", "bad_json"),
])
async def test_malformed_bodies_are_400(client, device, config, make, body, error):
    response = await post_events(client, device["headers"], body)
    assert response.status == 400
    assert (await response.json())["error"]["code"] == error
    assert make.count_rows(config.db_path, "events") == 0
    assert client.app[ERRORS].internal_errors == 0


async def test_bad_gzip_is_400(client, device):
    headers = {**device["headers"], "Content-Encoding": "gzip"}
    for data in (b"\x1f\x8bnot really gzip", gzip.compress(b'{"events": []}')[:-6]):
        response = await client.post("/api/v1/events", data=data, headers=headers)
        assert response.status == 400
        assert (await response.json())["error"]["code"] == "bad_gzip"
    response = await client.post("/api/v1/events", data=b"{}", headers={**device["headers"], "Content-Encoding": "br"})
    assert response.status == 415
    assert client.app[ERRORS].internal_errors == 0


async def test_too_many_events_is_400(client, device, config, make):
    event = make.heartbeat(device["device_id"])
    response = await post_events(client, device["headers"], {"events": [event] * 1001})
    assert response.status == 400
    assert (await response.json())["error"]["code"] == "too_many_events"
    assert make.count_rows(config.db_path, "events") == 0


async def test_oversized_body_is_413(client, device, config, make):
    padding = "x" * (config.max_body_bytes + 10)
    response = await post_events(client, device["headers"], {"events": [], "pad": padding})
    assert response.status == 413
    assert make.count_rows(config.db_path, "events") == 0


async def test_oversized_body_without_content_length_is_413(client, device, config):
    async def chunks():
        chunk = b" " * 65536
        for _ in range(config.max_body_bytes // len(chunk) + 2):
            yield chunk
    response = await client.post("/api/v1/events", data=chunks(), headers=device["headers"])
    assert response.status == 413


async def test_gzip_bomb_is_413_not_inflated(aiohttp_client, tmp_path, make):
    config = CollectorConfig(db_path=tmp_path / "small.db", admin_password="pw-for-tests",
                             max_body_bytes=64 * 1024, max_decompressed_bytes=256 * 1024)
    small_client = await make.start_client(aiohttp_client, config)
    enrolled = await make.enroll(small_client, config)
    headers = {"Authorization": f"Bearer {enrolled['node_key']}"}
    # ~1 MiB of JSON whitespace compresses to ~1 KiB: under the wire limit, over the inflated one
    bomb = b'{"events": [], "pad": "' + b" " * (1024 * 1024) + b'"}'
    response = await post_events(small_client, headers, bomb, gzipped=True)
    assert response.status == 413
    # the same bytes uncompressed are over the wire limit
    response = await post_events(small_client, headers, bomb)
    assert response.status == 413


async def test_missing_or_unknown_node_key_is_401_reenroll(client, device, config, make):
    event = make.heartbeat(device["device_id"])
    for headers in ({}, {"Authorization": "Bearer " + "k" * 43}, {"Authorization": "Bearer " + "k" * 5000},
                    {"Authorization": device["node_key"]}):
        response = await post_events(client, headers, {"events": [event]})
        assert response.status == 401
        assert await response.json() == {"error": {"code": "invalid_node_key", "message": "the node key is unknown or revoked; enroll again"}, "reenroll": True}
    assert make.count_rows(config.db_path, "events") == 0


async def test_revoked_device_is_told_to_reenroll(client, device, config, make):
    from shadowmap.collector.state import STORE
    from shadowmap.collector.store.sqlite.devices import revoke
    await client.app[STORE].write(lambda db: revoke(db, device["device_id"]))
    response = await post_events(client, device["headers"], {"events": [make.heartbeat(device["device_id"])]})
    assert response.status == 401
    assert (await response.json())["reenroll"] is True


async def test_event_with_raw_text_or_other_device_is_rejected_not_stored(client, device, config, make, backend):
    good = make.paste(device["device_id"])
    with_text = make.paste(device["device_id"])
    with_text["text"] = "AKIAIOSFODNN7EXAMPLE the raw paste"
    with_data_text = make.paste(device["device_id"])
    with_data_text["data"]["text"] = "raw text smuggled into data"
    other_device = make.paste("some-other-device")
    bad_shape = {"id": "not-a-uuid", "type": "paste.scanned"}
    response = await post_events(client, device["headers"],
                                 {"events": [good, with_text, with_data_text, other_device, bad_shape, 42]})
    assert response.status == 200
    body = await response.json()
    assert body["acked"] == [good["id"]]
    rejected_ids = [r["id"] for r in body["rejected"]]
    assert rejected_ids == [with_text["id"], with_data_text["id"], other_device["id"], "not-a-uuid", None]
    assert all(r["error"] for r in body["rejected"])
    assert make.count_rows(config.db_path, "events") == 1
    if backend == "sqlite":  # not even in the file's free pages
        assert b"the raw paste" not in config.db_path.read_bytes()
        wal = config.db_path.with_name(config.db_path.name + "-wal")
        assert not wal.exists() or b"the raw paste" not in wal.read_bytes()
    assert not make.select_rows(config.db_path, "SELECT id FROM events WHERE body LIKE '%the raw paste%'")


async def test_bad_inputs_never_reach_the_error_middleware(client, device):
    headers = device["headers"]
    for body in (b"", b"null", b"{}", b'{"events": [null, [], "x", {"id": 5}]}', os.urandom(2048)):
        response = await client.post("/api/v1/events", data=body, headers=headers)
        assert response.status in (200, 400)
    assert client.app[ERRORS].internal_errors == 0


async def test_served_with_aiohttp_defaults_gzip_still_works(aiohttp_client, config, make):
    """If someone serves the app with plain aiohttp (which inflates bodies itself), gzip
    batches still ingest and broken gzip is still a 400, not a 500."""
    client = await aiohttp_client(create_app(config))
    enrolled = await make.enroll(client, config)
    headers = {"Authorization": f"Bearer {enrolled['node_key']}"}
    event = make.heartbeat(enrolled["device_id"])
    response = await post_events(client, headers, {"events": [event]}, gzipped=True)
    assert (await response.json())["acked"] == [event["id"]]
    response = await client.post("/api/v1/events", data=b"\x1f\x8bnot gzip",
                                 headers={**headers, "Content-Encoding": "gzip"})
    assert response.status == 400
    assert client.app[ERRORS].internal_errors == 0


async def test_unexpected_exception_becomes_opaque_500(aiohttp_client, config, make):
    app = create_app(config)

    async def explode(request: web.Request) -> web.Response:
        raise RuntimeError("secret internals /etc/passwd")

    app.router.add_get("/api/v1/explode", explode)
    app.router.add_get("/explode", explode)
    client = await make.start_client(aiohttp_client, config, app)
    response = await client.get("/api/v1/explode")
    assert response.status == 500
    text = await response.text()
    assert "secret internals" not in text and "Traceback" not in text
    assert (await response.json())["error"]["code"] == "internal"
    page = await client.get("/explode")  # a console page: the same reference, in the console's layout
    assert page.status == 500 and page.content_type == "text/html"
    assert "internal error, reference " in await page.text() and "secret" not in await page.text()
    assert client.app[ERRORS].internal_errors == 2


# ---- the fast paths keep the meaning of the slow ones ---------------------------------------

async def test_stored_body_is_the_event_received(client, device, config, make):
    paste = make.paste(device["device_id"], user="Zoë \u2028 \"quoted\" \\ tab\t")
    beat = make.heartbeat(device["device_id"])
    beat["data"]["spool_depth"] = 2**70  # beyond 64 bits: read by the standard library, exactly
    events = [paste, beat]
    response = await post_events(client, device["headers"], {"events": events})
    assert (await response.json())["acked"] == [paste["id"], beat["id"]]
    bodies = {row["id"]: row["body"] for row in make.select_rows(config.db_path, "SELECT id, body FROM events")}
    for event in events:
        assert json.loads(bodies[event["id"]]) == event
    assert '"spool_depth":1180591620717411303424' in bodies[beat["id"]]


async def test_events_the_standard_library_reads_are_judged_one_by_one(client, device, config, make):
    """A body orjson refuses (a lone surrogate) is read by the standard library: the odd
    event is rejected alone, the others of the batch are stored."""
    good = make.heartbeat(device["device_id"])
    odd = make.heartbeat(device["device_id"], user="x")
    text = json.dumps({"events": [good, odd]}).replace('"user": "x"', '"user": "\\ud800"')
    response = await post_events(client, device["headers"], text.encode())
    assert response.status == 200
    body = await response.json()
    assert body["acked"] == [good["id"]]
    assert [r["id"] for r in body["rejected"]] == [odd["id"]]
    assert make.count_rows(config.db_path, "events") == 1
    assert client.app[ERRORS].internal_errors == 0


@pytest.mark.parametrize("ts", ["2026-02-30T10:00:00Z", "2026-13-01T10:00:00Z", "2026-01-01T24:00:00Z",
                                "0000-01-01T00:00:00Z", "0001-01-01T00:30:00+01:00",
                                "\u0662\u0660\u0662\u0666-01-01T10:00:00Z"])
async def test_a_timestamp_that_is_no_real_time_rejects_only_its_event(client, device, config, make, ts):
    good = make.heartbeat(device["device_id"])
    odd = make.heartbeat(device["device_id"])
    odd["ts"] = ts
    response = await post_events(client, device["headers"], {"events": [good, odd]})
    assert response.status == 200
    body = await response.json()
    assert body["acked"] == [good["id"]]
    assert [r["id"] for r in body["rejected"]] == [odd["id"]]
    assert client.app[ERRORS].internal_errors == 0


def test_normalise_ts_fast_path_agrees_with_datetime():
    rng = random.Random(11)

    def by_datetime(value: str) -> str:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
        return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")

    def outcome(fn, value):
        try:
            return fn(value)
        except (ValueError, OverflowError):
            return "refused"

    agreed = 0
    for _ in range(20000):
        fraction = rng.choice(["", "." + "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 6)))])
        value = (f"{rng.choice(['2026', '2024', '1900', '0001', '9999', '0000'])}-{rng.randint(0, 13):02d}-"
                 f"{rng.randint(0, 32):02d}T{rng.randint(0, 25):02d}:{rng.randint(0, 61):02d}:"
                 f"{rng.randint(0, 61):02d}{fraction}{rng.choice(['Z', 'Z', '+02:00', '-00:30'])}")
        assert outcome(normalise_ts, value) == outcome(by_datetime, value), value
        agreed += outcome(by_datetime, value) != "refused"
    assert agreed > 5000


def test_parse_takes_the_fast_check_for_valid_events(make, monkeypatch):
    """Valid events must not fall back to jsonschema (the slow path), or ingest slows ~50x."""
    events = [make.paste("dev-1"), make.heartbeat("dev-1"), make.observed("dev-1")]
    monkeypatch.setattr(contract, "validate_event", lambda event: pytest.fail(f"slow path taken for {event}"))
    batch = parse_batch(json.dumps({"events": events}).encode(), "", "dev-1", CollectorConfig())
    assert batch.acked == [event["id"] for event in events] and not batch.rejected
