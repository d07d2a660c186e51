"""Issue 16 item 12: no unauthenticated request gets a 500. Deeply nested JSON and lone
surrogates (in enroll_secret, host_identifier or any field) are answered 4xx in the
`{"error": {code, message}}` shape, never with a traceback."""
from __future__ import annotations

import pytest

from shadowmap.collector.state import ERRORS

NESTED = ("[" * 100_000 + "]" * 100_000).encode()
NESTED_OBJECT = ('{"a":' * 50_000 + "1" + "}" * 50_000).encode()


def surrogate_body(field: str, secret: str) -> bytes:
    fields = {"enroll_secret": f'"{secret}"', "host_identifier": '"host-1"', "hostname": '"laptop"', "os": '"linux"'}
    fields[field] = '"abc\\ud800def"'
    return ("{" + ",".join(f'"{k}":{v}' for k, v in fields.items()) + "}").encode()


async def assert_refused(response) -> None:
    assert 400 <= response.status < 500, (response.status, await response.text())
    body = await response.json()
    assert set(body["error"]) == {"code", "message"} and "Traceback" not in body["error"]["message"]


@pytest.mark.parametrize("path", ["/api/v1/enroll", "/api/v1/events", "/api/v1/scm/github", "/api/v1/scm/gitlab"])
@pytest.mark.parametrize("body", [NESTED, NESTED_OBJECT], ids=["array", "object"])
async def test_deeply_nested_json_is_a_4xx(client, path, body):
    response = await client.post(path, data=body, headers={"Content-Type": "application/json"})
    assert response.status < 500, await response.text()
    assert client.app[ERRORS].internal_errors == 0


@pytest.mark.parametrize("field", ["enroll_secret", "host_identifier", "hostname", "os"])
async def test_lone_surrogates_in_enroll_are_a_4xx(client, config, field):
    secret = config.enroll_secret_path.read_text().strip()
    response = await client.post("/api/v1/enroll", data=surrogate_body(field, secret),
                                 headers={"Content-Type": "application/json"})
    await assert_refused(response)
    assert client.app[ERRORS].internal_errors == 0


async def test_lone_surrogates_in_an_event_batch_are_a_4xx_or_rejected(client, device):
    body = ('{"events":[{"schema":"shadowmap.event/1","id":"\\ud800","type":"agent.heartbeat",'
            '"device_id":"' + device["device_id"] + '","user":"\\udfff","ts":"2026-01-01T00:00:00Z","data":{}}]}')
    response = await client.post("/api/v1/events", data=body.encode(),
                                 headers={**device["headers"], "Content-Type": "application/json"})
    assert response.status < 500, await response.text()
    assert client.app[ERRORS].internal_errors == 0
