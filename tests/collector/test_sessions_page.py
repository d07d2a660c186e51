"""The console's sessions page over the real server: sessions (read by the agent, and told by
OpenTelemetry) filtered by user, repository, tool and model; a session's detail with its files,
tools, permission mode, findings and the alerts naming it, and the timeline of a session told only by
OpenTelemetry; every read recorded."""
from __future__ import annotations

import json
import re
from urllib.parse import quote

import pytest
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.common.v1 import common_pb2
from opentelemetry.proto.logs.v1 import logs_pb2
from opentelemetry.proto.resource.v1 import resource_pb2

from shadowmap.collector.state import STORE
from shadowmap.collector.store.sqlite import ai_sessions

pytestmark = pytest.mark.both_backends


def claude_logs(session: str) -> logs_service_pb2.ExportLogsServiceRequest:
    def kv(key: str, value: str) -> common_pb2.KeyValue:
        return common_pb2.KeyValue(key=key, value=common_pb2.AnyValue(string_value=value))
    def record(offset: int, name: str, *extra: common_pb2.KeyValue) -> logs_pb2.LogRecord:
        return logs_pb2.LogRecord(time_unix_nano=(1_796_461_200 + offset) * 10**9, attributes=[
            kv("event.name", name), kv("session.id", session), kv("user.email", "dana@acme.test"), *extra])
    records = [record(0, "user_prompt"), record(4, "api_request", kv("model", "claude-opus-4-1")),
               record(7, "tool_result", kv("tool_name", "Grep")),
               record(8, "tool_result", kv("tool_name", "mcp__linear__create_issue")),
               record(9, "tool_decision", kv("tool_name", "WebFetch"), kv("decision", "reject"))]
    return logs_service_pb2.ExportLogsServiceRequest(resource_logs=[logs_pb2.ResourceLogs(
        resource=resource_pb2.Resource(attributes=[kv("service.name", "claude-code")]),
        scope_logs=[logs_pb2.ScopeLogs(log_records=records)])])


def _seed(db):
    tools = json.dumps({"shell": {"pytest": 2}, "edits": {"payments/charge.py": 1}, "mcp": {"github": 1}})
    ai_sessions.upsert(db, [
        ("dev-1", "claude-code", "s-pay-1", "dana@acme.test", "dana", "2.1.0", '["claude-sonnet-4-5"]',
         "github.com/acme/shop", "feature/pay", "2026-12-05T09:00:00Z", "2026-12-05T09:30:00Z", 3, 5,
         "bypassPermissions", tools, 4, json.dumps([{"entity_type": "AWS_ACCESS_KEY", "data_class": "secret",
                                                     "count": 1}]), "ev-1", "2026-12-05T09:30:00Z"),
        ("dev-2", "codex-cli", "cx-7", "lee@acme.test", "lee", "0.46.0", '["gpt-5-codex"]', "github.com/acme/api",
         "main", "2026-12-04T09:00:00Z", "2026-12-04T10:00:00Z", 1, 2, "never/workspace-write", "{}", 0, "[]",
         "ev-2", "2026-12-04T10:00:00Z")])
    ai_sessions.add_lines(db, [(f"{i:032x}", "dev-1", "claude-code", "s-pay-1", "payments/charge.py") for i in range(4)])
    db.execute("INSERT INTO alerts (dedupe_key, finding_id, finding, severity, user, device_ids, entity_types, "
               "data_classes, count, first_seen, last_seen, facts) VALUES (?, 'unreviewed_ai_code', "
               "'Generated code deployed without human review', 'high', 'dana', '[]', '[]', '[]', 1, ?, ?, ?)",
               ("k1", "2026-12-05T10:00:00Z", "2026-12-05T10:00:00Z",
                json.dumps({"sessions": [{"session_id": "s-pay-1"}]})))


async def test_sessions_page_filters_shows_a_session_and_records_reads(client, config, device, console, make):
    await client.app[STORE].write(_seed)
    assert (await client.post("/v1/logs", data=claude_logs("otel-9").SerializeToString(), headers={
        "Authorization": f"Bearer {device['node_key']}", "Content-Type": "application/x-protobuf"})).status == 200

    anonymous = await client.get("/sessions", allow_redirects=False)
    assert anonymous.status == 302 and anonymous.headers["Location"].startswith("/login")

    await console.add_account(client, "vera", "viewer")
    await console.sign_in(client, "vera")
    page = await (await client.get("/sessions")).text()
    assert all(s in page for s in ("s-pay-1", "cx-7", "otel-9", 'href="/sessions"', "bypassPermissions"))

    by_model = await (await client.get("/sessions", params={"model": "gpt-5-codex"})).text()
    assert "cx-7" in by_model and "s-pay-1" not in by_model and "otel-9" not in by_model
    by_user = await (await client.get("/sessions", params={"user": "dana@acme.test", "tool": "claude-code"})).text()
    assert "s-pay-1" in by_user and "otel-9" in by_user and "cx-7" not in by_user
    by_repo = await (await client.get("/sessions", params={"repo": "github.com/acme/api"})).text()
    assert "cx-7" in by_repo and "s-pay-1" not in by_repo
    assert "No sessions match" in await (await client.get("/sessions", params={"model": "claude"})).text()

    detail = await client.get("/sessions/dev-1/claude-code/s-pay-1")
    text = await detail.text()
    assert detail.status == 200
    for expected in ("payments/charge.py", "bypassPermissions", "AWS_ACCESS_KEY", "pytest", "github",
                     "Generated code deployed without human review", "claude-sonnet-4-5", "feature/pay"):
        assert expected in text, expected
    otel = await client.get(f"/sessions/{quote('otlp:' + device['device_id'], safe='')}/claude-code/otel-9")
    otel_page = await otel.text()
    assert otel.status == 200 and "OpenTelemetry from" in otel_page
    # its timeline: the steps the telemetry told, in time order between the start and the last activity
    timeline = otel_page.split('id="timeline"')[1].split("</table>")[0]
    rows = [row.split('"')[0] for row in timeline.split('<tr class="step-')[1:]]
    assert rows == ["started", "prompt", "model", "tool", "mcp", "refused", "ended"], rows
    for shown in ("claude-opus-4-1", "<code>Grep</code>", "<code>linear</code>", "tool refused by the user",
                  "<code>WebFetch</code>"):
        assert shown in timeline, shown
    assert (await client.get("/sessions/dev-1/claude-code/nope")).status == 404

    reads = make.select_rows(config.db_path, "SELECT subject, actor, detail FROM record_entries WHERE kind = 'read' "
                                             "AND (subject = 'sessions' OR subject LIKE 'session:%') ORDER BY seq")
    assert [r["subject"] for r in reads].count("sessions") == 5 and all(r["actor"] == "vera" for r in reads)
    assert "session:claude-code:s-pay-1" in [r["subject"] for r in reads]
    assert json.loads(reads[1]["detail"])["filters"] == {"model": "gpt-5-codex"}


def listed(html: str) -> set[str]:
    """The session ids the sessions table lists."""
    table = html.split('<table id="sessions">')[1].split("</table>")[0]
    return set(re.findall(r'<td data-label="Session"><a href="[^"]+">([^<]+)</a>', table))


async def test_sessions_free_text_search(client, config, device, console):
    def seed(db):
        _seed(db)
        ai_sessions.upsert(db, [(device["device_id"], "aider", "ai-3", "kim@acme.test", "kim", "0.86.0",
                                 '["o4-mini"]', "github.com/acme/web", "main", "2026-12-03T09:00:00Z",
                                 "2026-12-03T09:10:00Z", 1, 1, "", "{}", 0, "[]", "ev-3", "2026-12-03T09:10:00Z")])

    await client.app[STORE].write(seed)
    await console.sign_in(client, "admin", console.admin_password)

    async def search(**params: str) -> tuple[int, str]:
        response = await client.get("/sessions", params=params)
        return response.status, await response.text()

    for text, expected in (("CODEX", {"cx-7"}),             # tool and model, any case
                           ("Claude Code", {"s-pay-1"}),    # the catalog's name of claude-code
                           ("feature/pay", {"s-pay-1"}),    # branch
                           ("acme/api", {"cx-7"}),          # repository
                           ("sonnet", {"s-pay-1"}),         # model
                           ("bypass", {"s-pay-1"}),         # permission mode
                           ("laptop-1", {"ai-3"}),          # the device's host name
                           ("kim", {"ai-3"}),               # user, OS user
                           ("%", set()), ("_", set()),      # wildcards are literal
                           ("nothing like it", set())):
        status, html = await search(text=text)
        assert status == 200 and listed(html) == expected, text
        assert f'name="text" value="{text}"' in html.replace("&#34;", '"'), text
    status, html = await search(text="acme", user="lee@acme.test")
    assert listed(html) == {"cx-7"}
    assert "No sessions match these filters" in (await search(text="nothing like it"))[1]

    status, html = await search(text="x" * 257, user="lee@acme.test")
    assert status == 400 and listed(html) == set()
    assert 'id="err-text"' in html and 'aria-invalid="true"' in html and "at most 256 characters" in html
    assert '<option value="lee@acme.test" selected>' in html  # the other filters kept
    assert "No sessions are listed until the search is fixed." in html
    status, html = await search(text="pay\x00ments")
    assert status == 400 and "search cannot hold control characters" in html and listed(html) == set()
