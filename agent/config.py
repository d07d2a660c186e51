"""Agent settings: CLI options over environment over enrollment.json over defaults.

Settings are declared as data (``SETTINGS``) so the CLI, the environment and the docs all
read the same names, defaults and help texts.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

ENROLLMENT_FILE = "enrollment.json"
SPOOL_FILE = "spool.db"
POLICY_FILE = "policy.json"
SYSTEM_STATE_DIR = Path("/var/lib/shadowmap")
SYSTEM_SOCKET = Path("/run/shadowmap/agent.sock")
MODES = ("user", "system")


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    env: str | None
    convert: Callable[[str], Any]
    help: str


# Tunables with a default; the paths (state dir, socket) depend on the mode, see below.
SETTINGS: tuple[Setting, ...] = (
    Setting("upload_interval", 5.0, "SHADOWMAP_UPLOAD_INTERVAL", float,
            "seconds between upload attempts when nothing new was spooled"),
    Setting("upload_batch", 500, "SHADOWMAP_UPLOAD_BATCH", int,
            "events per upload request (the collector accepts at most 1000)"),
    Setting("spool_max_bytes", 50 * 1024 * 1024, "SHADOWMAP_SPOOL_MAX_BYTES", int,
            "spool size bound; the oldest events are dropped beyond it"),
    Setting("heartbeat_interval", 300.0, "SHADOWMAP_HEARTBEAT_INTERVAL", float,
            "seconds between agent.heartbeat events"),
    Setting("policy_refresh_interval", 300.0, "SHADOWMAP_POLICY_REFRESH_INTERVAL", float,
            "seconds between policy pulls from the collector"),
    Setting("backoff_base", 1.0, "SHADOWMAP_BACKOFF_BASE", float,
            "first retry delay after a failed upload, doubled on each failure"),
    Setting("backoff_max", 300.0, "SHADOWMAP_BACKOFF_MAX", float,
            "longest retry delay after failed uploads"),
    Setting("request_timeout", 10.0, "SHADOWMAP_REQUEST_TIMEOUT", float,
            "seconds before an HTTP request to the collector is abandoned"),
)


@dataclass(frozen=True)
class AgentConfig:
    state_dir: Path
    socket_path: Path
    mode: str = "user"
    collector_url: str | None = None
    enroll_secret_file: Path | None = None
    upload_interval: float = 5.0
    upload_batch: int = 500
    spool_max_bytes: int = 50 * 1024 * 1024
    heartbeat_interval: float = 300.0
    policy_refresh_interval: float = 300.0
    backoff_base: float = 1.0
    backoff_max: float = 300.0
    request_timeout: float = 10.0

    @property
    def enrollment_path(self) -> Path:
        return self.state_dir / ENROLLMENT_FILE

    @property
    def spool_path(self) -> Path:
        return self.state_dir / SPOOL_FILE

    @property
    def policy_path(self) -> Path:
        return self.state_dir / POLICY_FILE


def default_mode() -> str:
    # root runs the machine-wide service; anyone else runs a per-user agent
    return "system" if os.geteuid() == 0 else "user"


def default_state_dir(mode: str) -> Path:
    if mode == "system":
        return SYSTEM_STATE_DIR
    return Path.home() / ".local" / "state" / "shadowmap"


def default_socket_path(mode: str, env: Mapping[str, str]) -> Path:
    runtime = env.get("XDG_RUNTIME_DIR")
    if mode == "user" and runtime:
        return Path(runtime) / "shadowmap" / "agent.sock"
    return SYSTEM_SOCKET


def read_enrollment_file(path: Path) -> dict:
    """The stored enrollment, or {} when absent or unreadable (the agent then runs unenrolled)."""
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def load_config(
    state_dir: str | Path | None = None,
    socket_path: str | Path | None = None,
    collector_url: str | None = None,
    mode: str | None = None,
    enroll_secret_file: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    **overrides: Any,
) -> AgentConfig:
    """Build the config. Explicit arguments win, then the environment, then enrollment.json."""
    env = os.environ if env is None else env
    mode = mode or env.get("SHADOWMAP_AGENT_MODE") or default_mode()
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    state = Path(state_dir or env.get("SHADOWMAP_STATE_DIR") or default_state_dir(mode))
    sock = Path(socket_path or env.get("SHADOWMAP_AGENT_SOCKET") or default_socket_path(mode, env))
    url = collector_url or env.get("SHADOWMAP_COLLECTOR_URL") \
        or read_enrollment_file(state / ENROLLMENT_FILE).get("collector_url")
    secret = enroll_secret_file or env.get("SHADOWMAP_ENROLL_SECRET_FILE")
    values: dict[str, Any] = {}
    for setting in SETTINGS:
        given = overrides.pop(setting.name, None)
        if given is None and setting.env and env.get(setting.env):
            try:
                given = setting.convert(env[setting.env])
            except ValueError:
                raise ValueError(f"{setting.env} must be a number, not {env[setting.env]!r}") from None
        values[setting.name] = setting.default if given is None else given
    if overrides:
        raise TypeError(f"unknown settings: {', '.join(sorted(overrides))}")
    return AgentConfig(
        state_dir=state, socket_path=sock, mode=mode,
        collector_url=str(url).rstrip("/") if url else None,
        enroll_secret_file=Path(secret) if secret else None,
        **values,
    )
