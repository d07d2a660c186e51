"""OTLP/HTTP bodies read into what the session record keeps: per (tool, session) counts, names,
models and times. Never a prompt, a response or a tool's parameters: only the attributes named
below are read, so anything else a tool exports (Claude Code's `prompt` with
OTEL_LOG_USER_PROMPTS=1, Codex's with log_user_prompt = true, Copilot's captured content) is
dropped unread.

Both OTLP encodings are read into the same generated protobuf classes (opentelemetry-proto):
binary as it is, JSON through protobuf's JSON mapping (OTLP/JSON is that mapping with camelCase
names; trace and span ids, which OTLP/JSON writes as hex, are not used here).

What each tool exports (as documented; see docs/sessions.md):
- Claude Code (service.name claude-code): log events claude_code.user_prompt, .tool_result,
  .api_request, .api_error, .tool_decision with session.id, user.email, user.account_uuid,
  organization.id, app.version, model (api_request), tool_name, decision; metrics
  claude_code.lines_of_code.count (type=added|removed), claude_code.session.count, ...
- Codex (service.name codex-cli / codex_exec): log events codex.conversation_starts (model,
  approval_policy, sandbox_policy), codex.user_prompt, codex.api_request, codex.tool_decision,
  codex.tool_result (tool_name) with conversation.id, user.account_id, user.email, model.
- Copilot (service.name copilot-chat in VS Code, the Copilot CLI runtime): GenAI semantic
  conventions, gen_ai.conversation.id, gen_ai.request.model, gen_ai.tool.name; events such as
  copilot_chat.session.start.

Each session's timeline steps ({at, kind, name?, count}, as the agent's readers make them) come
from the same events: `prompt` (a user prompt), `mcp` (a tool result of mcp__<server>__<tool>:
the server), `tool` (any other tool result: the tool's name), `refused` (a tool decision the
user refused: the tool's name), `model` (an API request whose model differs from the one before).
No tool parameter is read, so shell programs and edited paths are not known here."""
from __future__ import annotations

import gzip
import zlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import DecodeError, Message
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
from opentelemetry.proto.metrics.v1 import metrics_pb2

from shadowmap.collector.store.sqlite import session_steps

MAX_WIRE_BYTES = 4 * 1024 * 1024        # what a client may send (compressed)
MAX_BODY_BYTES = 4 * 1024 * 1024        # what it may inflate to (an exporter batch is far smaller: 512 records by default)
MAX_SESSIONS_PER_REQUEST = 1_000

# The attributes read; no other attribute's value is ever looked at.
SESSION_KEYS = ("session.id", "conversation.id", "gen_ai.conversation.id")
USER_KEYS = ("user.email", "enduser.id", "user.account_uuid", "user.account_id", "user.id")
MODEL_KEYS = ("model", "gen_ai.request.model", "gen_ai.response.model")
TOOL_NAME_KEYS = ("tool_name", "gen_ai.tool.name")
VERSION_KEYS = ("app.version", "service.version")


class OtlpError(ValueError):
    """The body is not an OTLP export request in an encoding we read."""


@dataclass
class SessionSeen:
    """What one request says of one session (added to what the collector already has)."""
    tool_id: str
    session_id: str
    user: str = ""
    version: str = ""
    models: set[str] = field(default_factory=set)
    first_ns: int = 0                                         # the earliest and latest record times
    last_ns: int = 0
    prompts: int = 0
    turns: int = 0
    calls: Counter[str] = field(default_factory=Counter)      # tool name -> calls
    mcp: Counter[str] = field(default_factory=Counter)        # MCP server -> calls
    rejected: int = 0                                         # tool uses the user refused
    permission_mode: str = ""
    lines_added: int = 0                                      # delta points, summed
    lines_added_total: int = 0                                # cumulative points, the highest
    steps: list[dict[str, Any]] = field(default_factory=list)  # the timeline: {at, kind, name?, count}
    steps_dropped: int = 0                                    # steps left out past the bound
    at: str = ""                                              # the time of the record being read

    def saw(self, nanos: int) -> None:
        self.at = ""
        if _PLAUSIBLE_NS[0] < nanos < _PLAUSIBLE_NS[1]:          # else a clock or encoding slip
            self.first_ns = min(self.first_ns or nanos, nanos)
            self.last_ns = max(self.last_ns, nanos)
            self.at = _iso(nanos)

    def step(self, kind: str, name: str = "") -> None:
        """One timeline step at the current record's time (none when its time is not plausible)."""
        if not self.at:
            return
        self.steps.append({"at": self.at, "kind": kind, **({"name": name[:100]} if name else {}), "count": 1})
        if len(self.steps) >= 4 * session_steps.MAX_STEPS:   # bounded while reading, as when kept
            self.steps, self.steps_dropped = session_steps.bounded(self.steps, self.steps_dropped)

    def as_slice(self) -> dict[str, Any]:
        """What the store adds to the session's row (collector/store/sqlite/otel_sessions.py)."""
        fields = {k: v for k, v in vars(self).items() if k not in ("first_ns", "last_ns", "at", "steps")}
        steps, dropped = session_steps.bounded(self.steps, self.steps_dropped)
        return fields | {"models": sorted(self.models), "started": _iso(self.first_ns), "ended": _iso(self.last_ns),
                         "steps": steps, "steps_dropped": dropped}


def inflate(raw: bytes, encoding: str) -> bytes:
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return raw
    if encoding not in ("gzip", "deflate"):
        raise OtlpError(f"Content-Encoding {encoding[:20]!r} is not read (gzip or none)")
    try:
        inflater = zlib.decompressobj(wbits=31 if encoding == "gzip" else 15)
        out = inflater.decompress(raw, MAX_BODY_BYTES + 1)
    except (zlib.error, gzip.BadGzipFile):
        raise OtlpError("the body is not valid gzip") from None
    if len(out) > MAX_BODY_BYTES or inflater.unconsumed_tail:
        raise OtlpError(f"the body inflates past {MAX_BODY_BYTES} bytes")
    return out


def parse(raw: bytes, content_type: str, message: type[Message]) -> Any:
    kind = content_type.split(";")[0].strip().lower()
    request = message()
    try:
        if kind == "application/x-protobuf":
            request.ParseFromString(raw)
        elif kind == "application/json":
            json_format.Parse(raw.decode("utf-8"), request, ignore_unknown_fields=True)
        else:
            raise OtlpError("Content-Type must be application/x-protobuf or application/json")
    except (DecodeError, json_format.ParseError, UnicodeDecodeError, RecursionError):
        raise OtlpError("the body is not an OTLP export request") from None
    return request


def _value(any_value: Any) -> str | int | float | bool | None:
    kind = any_value.WhichOneof("value")
    if kind in ("string_value", "int_value", "double_value", "bool_value"):
        return getattr(any_value, kind)
    return None                                              # arrays, maps and bytes are never read


def _attrs(key_values: Any, wanted: set[str] | frozenset[str]) -> dict[str, Any]:
    found = {}
    for kv in key_values:
        key = kv.key
        if key in wanted:
            found[key] = _value(kv.value)
    return found


WANTED = {*SESSION_KEYS, *USER_KEYS, *MODEL_KEYS, *TOOL_NAME_KEYS, *VERSION_KEYS, "service.name", "event.name",
          "event.timestamp", "decision", "approval_policy", "sandbox_policy", "type"}


def _first(attrs: dict[str, Any], keys: tuple[str, ...]) -> str:
    for key in keys:
        value = attrs.get(key)
        if isinstance(value, str | int) and not isinstance(value, bool) and str(value).strip():
            return str(value).strip()[:256]
    return ""


def tool_of(service: str, name: str) -> str:
    """The tool id (as the agent's readers name it) from service.name or the event's prefix."""
    text = f"{service} {name}".lower()
    if "claude" in text:
        return "claude-code"
    if "codex" in text:
        return "codex-cli"
    if "copilot" in text:
        return "copilot-cli" if "cli" in service.lower() else "copilot-chat"
    return ""


_PLAUSIBLE_NS = (946_684_800 * 10**9, 4_102_444_800 * 10**9)          # 2000..2100


def _iso(nanos: int) -> str:
    if not nanos:
        return ""
    return datetime.fromtimestamp(nanos / 1e9, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _short(name: str) -> str:
    for prefix in ("claude_code.", "codex.", "copilot_chat.", "github.copilot."):
        if name.startswith(prefix):
            return name[len(prefix):]
    return name


class Sessions(dict[tuple[str, str], SessionSeen]):
    def of(self, tool_id: str, session_id: str) -> SessionSeen | None:
        key = (tool_id, session_id[:128])
        if key not in self:
            if len(self) >= MAX_SESSIONS_PER_REQUEST:
                return None
            self[key] = SessionSeen(tool_id, session_id[:128])
        return self[key]


def _note(seen: SessionSeen, attrs: dict[str, Any]) -> None:
    if not seen.user:
        seen.user = _first(attrs, USER_KEYS)
    if not seen.version:
        seen.version = _first(attrs, VERSION_KEYS)
    model = _first(attrs, MODEL_KEYS)
    if model:
        seen.models.add(model[:128])


def sessions_from_logs(request: logs_service_pb2.ExportLogsServiceRequest) -> Sessions:
    found = Sessions()
    for resource_logs in request.resource_logs:
        resource = _attrs(resource_logs.resource.attributes, WANTED)
        service = str(resource.get("service.name") or "")
        for scope_logs in resource_logs.scope_logs:
            for record in scope_logs.log_records:
                attrs = resource | _attrs(record.attributes, WANTED)
                body = record.body.string_value if record.body.WhichOneof("value") == "string_value" else ""
                # the event's name: the record's own field (newer SDKs), the event.name attribute, or
                # the body (Claude Code writes "claude_code.<event>" there); a body is read only for it
                name = record.event_name or str(attrs.get("event.name") or "") or (body if len(body) <= 64 and " " not in body else "")
                tool_id, session_id = tool_of(service, name), _first(attrs, SESSION_KEYS)
                seen = found.of(tool_id, session_id) if tool_id and session_id else None
                if seen is None:
                    continue
                _note(seen, attrs)
                seen.saw(record.time_unix_nano or record.observed_time_unix_nano)
                _count(seen, _short(name), attrs)
    return found


def _count(seen: SessionSeen, event: str, attrs: dict[str, Any]) -> None:
    if event in ("user_prompt", "user.prompt"):
        seen.prompts += 1
        seen.step("prompt")
    elif event in ("api_request", "llm_request", "chat"):
        seen.turns += 1
        model = _first(attrs, MODEL_KEYS)
        if model:
            seen.step("model", model)                      # kept only where the model changes (session_steps)
    elif event in ("tool_result", "tool.call", "execute_tool"):
        name = _first(attrs, TOOL_NAME_KEYS)
        if name.startswith("mcp__"):
            server = name.split("__")[1][:100] if name.count("__") >= 2 else name[5:100]
            seen.mcp[server] += 1
            seen.step("mcp", server)
        elif name:
            seen.calls[name[:100]] += 1
            seen.step("tool", name[:100])
    elif event == "tool_decision":
        if str(attrs.get("decision") or "").lower() in ("reject", "denied", "deny", "abort"):
            seen.rejected += 1
            seen.step("refused", _first(attrs, TOOL_NAME_KEYS))
    elif event == "conversation_starts":
        policy = "/".join(str(attrs[k])[:64] for k in ("approval_policy", "sandbox_policy") if attrs.get(k))
        seen.permission_mode = policy or seen.permission_mode


LINES_METRIC = "claude_code.lines_of_code.count"


def sessions_from_metrics(request: metrics_service_pb2.ExportMetricsServiceRequest) -> Sessions:
    """Lines added per session (claude_code.lines_of_code.count, type=added): a delta point adds,
    a cumulative one is the session's total so far."""
    found = Sessions()
    for resource_metrics in request.resource_metrics:
        resource = _attrs(resource_metrics.resource.attributes, WANTED)
        service = str(resource.get("service.name") or "")
        for scope_metrics in resource_metrics.scope_metrics:
            for metric in scope_metrics.metrics:
                if metric.WhichOneof("data") != "sum":
                    continue
                cumulative = (metric.sum.aggregation_temporality
                              == metrics_pb2.AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE)
                for point in metric.sum.data_points:
                    attrs = resource | _attrs(point.attributes, WANTED)
                    tool_id, session_id = tool_of(service, metric.name), _first(attrs, SESSION_KEYS)
                    seen = found.of(tool_id, session_id) if tool_id and session_id else None
                    if seen is None:
                        continue
                    _note(seen, attrs)
                    seen.saw(point.time_unix_nano)
                    value = point.as_int if point.WhichOneof("value") == "as_int" else int(point.as_double)
                    if metric.name == LINES_METRIC and attrs.get("type") == "added" and 0 <= value < 10**9:
                        if cumulative:
                            seen.lines_added_total = max(seen.lines_added_total, value)
                        else:
                            seen.lines_added += value
    return found
