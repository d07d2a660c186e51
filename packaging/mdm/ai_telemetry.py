"""Managed settings that point AI coding tools' OpenTelemetry export at the collector's OTLP/HTTP
intake (collector/api/otlp.py: POST /v1/logs, /v1/metrics), written as separate artifacts for the
MDM to place (docs/sessions.md):

- `claude-code-managed-settings.json`: Claude Code's managed settings file. Claude Code reads it
  from /etc/claude-code/managed-settings.json (Linux, WSL), /Library/Application
  Support/ClaudeCode/managed-settings.json (macOS), C:\\ProgramData\\ClaudeCode\\managed-settings.json
  (Windows); managed settings win over user and project settings. Its `env` key sets environment
  variables for every session (docs.anthropic.com/docs/claude-code/settings). The variables are
  the ones Claude Code's monitoring page documents (docs.anthropic.com/docs/claude-code/
  monitoring-usage): CLAUDE_CODE_ENABLE_TELEMETRY (required), OTEL_LOGS_EXPORTER and
  OTEL_METRICS_EXPORTER (otlp), OTEL_EXPORTER_OTLP_PROTOCOL (grpc | http/json | http/protobuf),
  OTEL_EXPORTER_OTLP_ENDPOINT (all signals; the SDK appends /v1/logs and /v1/metrics),
  OTEL_EXPORTER_OTLP_HEADERS ("Authorization=Bearer token"). OTEL_LOG_USER_PROMPTS is left unset:
  prompts are not exported (the collector drops them anyway).
- `codex-otel.toml`: Codex's `[otel]` table (openai/codex docs/config.md, "otel"): `exporter =
  { otlp-http = { endpoint, protocol = "binary", headers } }` sends its log events to the given
  endpoint (the full /v1/logs URL), `log_user_prompt = false` keeps prompt text out, `environment`
  labels the events. Merge it into the config Codex reads (~/.codex/config.toml).

Both carry a collector API token with the analyst role (the intake refuses viewer tokens): it can
also read the console's data, so the files are written readable by their owner only."""
from __future__ import annotations

import json
from pathlib import Path

from shadowmap.mdm.spec import check_url

CLAUDE_FILE = "claude-code-managed-settings.json"
CODEX_FILE = "codex-otel.toml"
CLAUDE_PATHS = {"linux": "/etc/claude-code/managed-settings.json",
                "macos": "/Library/Application Support/ClaudeCode/managed-settings.json",
                "windows": "C:\\ProgramData\\ClaudeCode\\managed-settings.json"}


def claude_managed_settings(collector_url: str, token: str) -> dict:
    endpoint = check_url(collector_url, "collector URL").rstrip("/")
    return {"env": {
        "CLAUDE_CODE_ENABLE_TELEMETRY": "1",
        "OTEL_LOGS_EXPORTER": "otlp",
        "OTEL_METRICS_EXPORTER": "otlp",
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
        "OTEL_EXPORTER_OTLP_HEADERS": f"Authorization=Bearer {token}",
    }}


def _toml_string(value: str) -> str:
    return json.dumps(value)          # a JSON string is a valid TOML basic string (same escapes)


def codex_otel_toml(collector_url: str, token: str, environment: str = "prod") -> str:
    endpoint = check_url(collector_url, "collector URL").rstrip("/") + "/v1/logs"
    return ("# shadowmap: Codex's OpenTelemetry log events to the collector (merge into ~/.codex/config.toml)\n"
            "[otel]\n"
            f"environment = {_toml_string(environment)}\n"
            "log_user_prompt = false\n"
            "\n"
            '[otel.exporter."otlp-http"]\n'
            f"endpoint = {_toml_string(endpoint)}\n"
            'protocol = "binary"\n'
            "\n"
            '[otel.exporter."otlp-http".headers]\n'
            f'"Authorization" = {_toml_string("Bearer " + token)}\n')


def write_artifacts(collector_url: str, token: str, out_dir: Path) -> list[Path]:
    token = token.strip()
    if not token or any(c in token for c in "\r\n,=\""):
        raise ValueError("the API token is empty or holds characters a header cannot carry")
    written = []
    for name, text in ((CLAUDE_FILE, json.dumps(claude_managed_settings(collector_url, token), indent=2) + "\n"),
                       (CODEX_FILE, codex_otel_toml(collector_url, token))):
        path = out_dir / name
        path.write_text(text, encoding="utf-8")
        path.chmod(0o600)
        written.append(path)
    return written
