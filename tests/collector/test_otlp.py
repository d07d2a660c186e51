"""OTLP/HTTP intake over the real server: real OTLP requests built with opentelemetry-proto, sent
as protobuf and as OTLP/JSON (gzip too), become sessions with their timeline steps (added slice by
slice, bounded like the agent's); nothing is taken without a node key or an analyst token; a
prompt exported with OTEL_LOG_USER_PROMPTS=1 never reaches the database."""
from __future__ import annotations

import calendar
import gzip
import json

import pytest
from google.protobuf import json_format
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
from opentelemetry.proto.common.v1 import common_pb2
from opentelemetry.proto.logs.v1 import logs_pb2
from opentelemetry.proto.metrics.v1 import metrics_pb2
from opentelemetry.proto.resource.v1 import resource_pb2

from shadowmap.collector.state import STORE
from shadowmap.collector.store.sqlite import session_steps
from shadowmap.collector.store.sqlite.accounts import create_api_token

pytestmark = pytest.mark.both_backends

CANARY = "CANARY-prompt-7f3a91 please add the refund endpoint"
T0 = calendar.timegm((2026, 12, 5, 9, 0, 0)) * 10**9          # 2026-12-05T09:00:00Z


def kv(key: str, value: str | int) -> common_pb2.KeyValue:
    any_value = common_pb2.AnyValue(int_value=value) if isinstance(value, int) else common_pb2.AnyValue(string_value=value)
    return common_pb2.KeyValue(key=key, value=any_value)


def claude_logs(session: str = "cc-sess-1", start: int = T0) -> logs_service_pb2.ExportLogsServiceRequest:
    """What Claude Code exports: events named in the body (claude_code.*) and event.name, with
    session.id, user.email, user.account_uuid; the prompt itself when OTEL_LOG_USER_PROMPTS=1."""
    common = [kv("session.id", session), kv("user.email", "dana@acme.test"),
              kv("user.account_uuid", "acc-123"), kv("organization.id", "org-1"), kv("terminal.type", "vscode")]

    def event(name: str, offset_s: int, *extra: common_pb2.KeyValue) -> logs_pb2.LogRecord:
        return logs_pb2.LogRecord(time_unix_nano=start + offset_s * 10**9, body=common_pb2.AnyValue(
            string_value=f"claude_code.{name}"), attributes=[kv("event.name", name), *common, *extra])

    records = [
        event("user_prompt", 0, kv("prompt_length", len(CANARY)), kv("prompt", CANARY)),
        event("api_request", 5, kv("model", "claude-sonnet-4-5"), kv("cost_usd", "0.01"), kv("input_tokens", 900)),
        event("tool_result", 9, kv("tool_name", "Edit"), kv("success", "true"),
              kv("tool_parameters", '{"file_path": "/src/shop/refund.py"} ' + CANARY)),
        event("tool_result", 11, kv("tool_name", "mcp__github__create_pull_request")),
        event("tool_decision", 12, kv("tool_name", "Bash"), kv("decision", "reject"), kv("source", "user_reject")),
        event("user_prompt", 60, kv("prompt_length", 12)),
        event("api_request", 70, kv("model", "claude-haiku-4-5")),
    ]
    resource = resource_pb2.Resource(attributes=[kv("service.name", "claude-code"), kv("service.version", "2.1.0")])
    return logs_service_pb2.ExportLogsServiceRequest(resource_logs=[logs_pb2.ResourceLogs(
        resource=resource, scope_logs=[logs_pb2.ScopeLogs(log_records=records)])])


def claude_metrics(value: int, session: str = "cc-sess-1") -> metrics_service_pb2.ExportMetricsServiceRequest:
    point = metrics_pb2.NumberDataPoint(time_unix_nano=T0 + 80 * 10**9, as_int=value, attributes=[
        kv("session.id", session), kv("user.email", "dana@acme.test"), kv("type", "added")])
    removed = metrics_pb2.NumberDataPoint(time_unix_nano=T0 + 80 * 10**9, as_int=3, attributes=[
        kv("session.id", session), kv("type", "removed")])
    metric = metrics_pb2.Metric(name="claude_code.lines_of_code.count", unit="count", sum=metrics_pb2.Sum(
        data_points=[point, removed], is_monotonic=True,
        aggregation_temporality=metrics_pb2.AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE))
    resource = resource_pb2.Resource(attributes=[kv("service.name", "claude-code")])
    return metrics_service_pb2.ExportMetricsServiceRequest(resource_metrics=[metrics_pb2.ResourceMetrics(
        resource=resource, scope_metrics=[metrics_pb2.ScopeMetrics(metrics=[metric])])])


def codex_logs() -> logs_service_pb2.ExportLogsServiceRequest:
    common = [kv("conversation.id", "cx-conv-9"), kv("user.account_id", "acct-cx"), kv("model", "gpt-5-codex"),
              kv("app.version", "0.46.0")]
    records = [logs_pb2.LogRecord(time_unix_nano=T0 + i * 10**9, attributes=[kv("event.name", name), *common, *extra])
               for i, (name, extra) in enumerate([
                   ("codex.conversation_starts", [kv("approval_policy", "never"),
                                                  kv("sandbox_policy", "danger-full-access")]),
                   ("codex.user_prompt", [kv("prompt", CANARY)]),
                   ("codex.api_request", []), ("codex.tool_result", [kv("tool_name", "shell")])])]
    resource = resource_pb2.Resource(attributes=[kv("service.name", "codex_cli_rs")])
    return logs_service_pb2.ExportLogsServiceRequest(resource_logs=[logs_pb2.ResourceLogs(
        resource=resource, scope_logs=[logs_pb2.ScopeLogs(log_records=records)])])


async def post(client, path: str, message, token: str | None, as_json: bool = False, gzipped: bool = False):
    body = json_format.MessageToJson(message).encode() if as_json else message.SerializeToString()
    headers = {"Content-Type": "application/json" if as_json else "application/x-protobuf"}
    if gzipped:
        body, headers["Content-Encoding"] = gzip.compress(body), "gzip"
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return await client.post(path, data=body, headers=headers)


def sessions(make, config) -> dict[str, dict]:
    return {r["session_id"]: r for r in make.select_rows(config.db_path, "SELECT * FROM ai_sessions")}


async def test_claude_code_protobuf_from_a_device_becomes_a_session(client, config, device, make):
    response = await post(client, "/v1/logs", claude_logs(), device["node_key"])
    assert response.status == 200, await response.text()
    assert response.content_type == "application/x-protobuf"
    logs_service_pb2.ExportLogsServiceResponse().ParseFromString(await response.read())
    assert (await post(client, "/v1/metrics", claude_metrics(41), device["node_key"])).status == 200
    assert (await post(client, "/v1/metrics", claude_metrics(57), device["node_key"])).status == 200  # cumulative

    row = sessions(make, config)["cc-sess-1"]
    assert row["device_id"] == f"otlp:{device['device_id']}" and row["tool_id"] == "claude-code"
    assert row["user"] == "dana@acme.test" and row["tool_version"] == "2.1.0"
    assert sorted(json.loads(row["models"])) == ["claude-haiku-4-5", "claude-sonnet-4-5"]
    assert (row["prompts"], row["turns"], row["lines_written"]) == (2, 2, 57)
    assert (row["started"], row["ended"]) == ("2026-12-05T09:00:00.000Z", "2026-12-05T09:01:20.000Z")
    tools = json.loads(row["tools"])
    assert tools["calls"] == {"Edit": 1} and tools["mcp"] == {"github": 1} and tools["rejected"] == 1

    # the exporter sends the next slice: counts add up, times widen
    assert (await post(client, "/v1/logs", claude_logs(), device["node_key"])).status == 200
    assert sessions(make, config)["cc-sess-1"]["prompts"] == 4


async def test_otlp_json_gzip_with_an_analyst_token(client, config, make):
    token = await client.app[STORE].write(lambda db: create_api_token(db, "fleet-otel", "analyst"))
    response = await post(client, "/v1/logs", codex_logs(), token, as_json=True, gzipped=True)
    assert response.status == 200, await response.text()
    assert response.content_type == "application/json"
    row = sessions(make, config)["cx-conv-9"]
    assert row["device_id"] == "otlp:token:fleet-otel" and row["tool_id"] == "codex-cli"
    assert row["user"] == "acct-cx" and row["permission_mode"] == "never/danger-full-access"
    assert (row["prompts"], row["turns"]) == (1, 1) and json.loads(row["models"]) == ["gpt-5-codex"]
    assert (await post(client, "/v1/metrics", claude_metrics(9, "cc-json"), token, as_json=True)).status == 200
    assert sessions(make, config)["cc-json"]["lines_written"] == 9


async def test_nothing_is_taken_without_credentials(client, config, make):
    viewer = await client.app[STORE].write(lambda db: create_api_token(db, "ci", "viewer"))
    for path, message in (("/v1/logs", claude_logs()), ("/v1/metrics", claude_metrics(5))):
        assert (await post(client, path, message, None)).status == 401
        assert (await post(client, path, message, "not-a-node-key-or-token")).status == 401
        assert (await post(client, path, message, viewer)).status == 403
    assert make.count_rows(config.db_path, "ai_sessions") == 0


async def test_bodies_that_are_not_otlp_are_refused(client, device):
    headers = {"Authorization": f"Bearer {device['node_key']}"}
    for body, kind, encoding in ((b"\xff\xff\xff", "application/x-protobuf", ""),
                                 (b"{not json", "application/json", ""),
                                 (b"plain", "text/plain", ""),
                                 (b"not gzip at all", "application/x-protobuf", "gzip"),
                                 (gzip.compress(b"\0" * (17 * 1024 * 1024)), "application/x-protobuf", "gzip")):
        response = await client.post("/v1/logs", data=body, headers=headers | {"Content-Type": kind} |
                                     ({"Content-Encoding": encoding} if encoding else {}))
        assert response.status == 400, (kind, encoding, await response.text())


async def test_a_prompt_canary_never_reaches_the_database(client, config, device, make, backend):
    for as_json in (False, True):
        assert (await post(client, "/v1/logs", claude_logs(), device["node_key"], as_json=as_json)).status == 200
        assert (await post(client, "/v1/logs", codex_logs(), device["node_key"], as_json=as_json)).status == 200
    assert len(sessions(make, config)) == 2
    if backend == "sqlite":            # every file of the database, the WAL included
        stored = b"".join(p.read_bytes() for p in config.db_path.parent.glob("collector.db*") if p.is_file())
        assert stored and b"CANARY-prompt-7f3a91" not in stored and b"refund endpoint" not in stored
    else:
        dumped = str(make.select_rows(config.db_path, "SELECT * FROM ai_sessions"))
        assert "CANARY" not in dumped


async def test_the_managed_settings_reach_the_intake(client, config, make, tmp_path):
    """What packaging writes (Claude Code's managed settings, Codex's [otel] table) names this
    collector and a header it accepts, the way each tool's exporter uses them."""
    import tomllib

    from shadowmap.mdm import ai_telemetry

    token = await client.app[STORE].write(lambda db: create_api_token(db, "fleet-otel", "analyst"))
    base = str(client.make_url("/")).rstrip("/")
    written = ai_telemetry.write_artifacts(base + "/", token, tmp_path)
    assert all(oct(p.stat().st_mode)[-3:] == "600" for p in written)
    env = json.loads((tmp_path / ai_telemetry.CLAUDE_FILE).read_text())["env"]
    assert env["CLAUDE_CODE_ENABLE_TELEMETRY"] == "1" and env["OTEL_EXPORTER_OTLP_PROTOCOL"] == "http/protobuf"
    assert "OTEL_LOG_USER_PROMPTS" not in env
    # an OTLP/HTTP exporter: <endpoint>/v1/logs, headers as comma-separated key=value pairs
    name, _, value = env["OTEL_EXPORTER_OTLP_HEADERS"].partition("=")
    url = env["OTEL_EXPORTER_OTLP_ENDPOINT"] + "/v1/logs"
    response = await client.post(url.removeprefix(base), data=claude_logs("from-settings").SerializeToString(),
                                 headers={name: value, "Content-Type": "application/x-protobuf"})
    assert response.status == 200, await response.text()

    codex = tomllib.loads((tmp_path / ai_telemetry.CODEX_FILE).read_text())["otel"]
    assert codex["log_user_prompt"] is False
    exporter = codex["exporter"]["otlp-http"]
    assert exporter["protocol"] == "binary" and exporter["endpoint"] == base + "/v1/logs"
    response = await client.post(exporter["endpoint"].removeprefix(base), data=codex_logs().SerializeToString(),
                                 headers=exporter["headers"] | {"Content-Type": "application/x-protobuf"})
    assert response.status == 200, await response.text()
    assert {"from-settings", "cx-conv-9"} <= set(sessions(make, config))


def steps(make, config, session: str) -> tuple[list[dict], int]:
    rows = make.select_rows(config.db_path, "SELECT device_id, steps, steps_not_sent FROM ai_session_steps "
                                            "WHERE session_id = ?", [session])
    assert len(rows) == 1 and rows[0]["device_id"].startswith("otlp:")
    return json.loads(rows[0]["steps"]), rows[0]["steps_not_sent"]


CLAUDE_STEPS = [("00:00", "prompt", None), ("00:05", "model", "claude-sonnet-4-5"), ("00:09", "tool", "Edit"),
                ("00:11", "mcp", "github"), ("00:12", "refused", "Bash"), ("01:00", "prompt", None),
                ("01:10", "model", "claude-haiku-4-5")]


def expected(hour: int, rows) -> list[dict]:
    return [{"at": f"2026-12-05T{hour:02d}:{at}.000Z", "kind": kind, **({"name": name} if name else {}), "count": 1}
            for at, kind, name in rows]


async def test_claude_code_events_become_timeline_steps_slice_by_slice(client, config, device, make):
    """Protobuf: prompts, model changes, tool calls by name, MCP servers, refusals, at each record's
    time; the next slice is added to the timeline, and a model step only where the model changes."""
    assert (await post(client, "/v1/logs", claude_logs(), device["node_key"])).status == 200
    assert steps(make, config, "cc-sess-1") == (expected(9, CLAUDE_STEPS), 0)

    # an hour later (JSON this time): added after; the first model step stays, it changed from haiku
    later = claude_logs(start=T0 + 3600 * 10**9)
    assert (await post(client, "/v1/logs", later, device["node_key"], as_json=True)).status == 200
    told, not_sent = steps(make, config, "cc-sess-1")
    assert (told, not_sent) == (expected(9, CLAUDE_STEPS) + expected(10, CLAUDE_STEPS), 0)
    # metrics add no steps; the session's row still counts as before
    assert (await post(client, "/v1/metrics", claude_metrics(41), device["node_key"])).status == 200
    assert steps(make, config, "cc-sess-1")[0] == told
    assert sessions(make, config)["cc-sess-1"]["prompts"] == 4


async def test_codex_events_become_timeline_steps_from_json(client, config, make):
    token = await client.app[STORE].write(lambda db: create_api_token(db, "fleet-otel", "analyst"))
    assert (await post(client, "/v1/logs", codex_logs(), token, as_json=True, gzipped=True)).status == 200
    assert steps(make, config, "cx-conv-9") == (expected(9, [("00:01", "prompt", None),
                                                              ("00:02", "model", "gpt-5-codex"),
                                                              ("00:03", "tool", "shell")]), 0)


def many_prompts(count: int, start: int) -> logs_service_pb2.ExportLogsServiceRequest:
    records = [logs_pb2.LogRecord(time_unix_nano=start + i * 10**9, attributes=[
        kv("event.name", "user_prompt"), kv("session.id", "cc-long"), kv("prompt", CANARY)]) for i in range(count)]
    # two records at one time: one step with a count
    records.append(logs_pb2.LogRecord(time_unix_nano=start + (count - 1) * 10**9, attributes=[
        kv("event.name", "user_prompt"), kv("session.id", "cc-long")]))
    return logs_service_pb2.ExportLogsServiceRequest(resource_logs=[logs_pb2.ResourceLogs(
        resource=resource_pb2.Resource(attributes=[kv("service.name", "claude-code")]),
        scope_logs=[logs_pb2.ScopeLogs(log_records=records)])])


async def test_a_long_session_keeps_its_start_and_its_newest_steps(client, config, device, make):
    limit = session_steps.MAX_STEPS
    assert (await post(client, "/v1/logs", many_prompts(700, T0), device["node_key"])).status == 200
    told, not_sent = steps(make, config, "cc-long")
    assert len(told) == limit and not_sent == 700 - limit
    assert told[0]["at"] == "2026-12-05T09:00:00.000Z" and told[limit // 2 - 1]["at"] == "2026-12-05T09:02:29.000Z"
    assert told[-1] == {"at": "2026-12-05T09:11:39.000Z", "kind": "prompt", "count": 2}

    # the next slice: the start stays, the newest replace the middle, what went is counted
    assert (await post(client, "/v1/logs", many_prompts(10, T0 + 3600 * 10**9), device["node_key"],
                       as_json=True)).status == 200
    told, not_sent = steps(make, config, "cc-long")
    assert len(told) == limit and not_sent == 710 - limit
    assert told[0]["at"] == "2026-12-05T09:00:00.000Z" and told[-1]["at"] == "2026-12-05T10:00:09.000Z"
    assert [s["at"] for s in told] == sorted(s["at"] for s in told)
    assert sessions(make, config)["cc-long"]["prompts"] == 701 + 11
