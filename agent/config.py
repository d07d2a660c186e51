"""Agent settings: CLI options over environment over the managed config (agent/managed.py:
/etc/shadowmap/agent.toml, macOS managed preferences, Windows policy key) over
enrollment.json over defaults.

Settings are declared as data (``SETTINGS``) so the CLI, the environment and the docs all
read the same names, defaults and help texts.
"""
from __future__ import annotations

import json
import ntpath
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shadowmap.agent import managed
from shadowmap.contract import host  # the agent's addresses (schema/host.v1.json)

ENROLLMENT_FILE = "enrollment.json"
SPOOL_FILE = "spool.db"
POLICY_FILE = "policy.json"
SYSTEM_STATE_DIR = Path("/var/lib/shadowmap")
# Windows: the service's state under %ProgramData% (the MSI locks it to SYSTEM and
# Administrators), a per-user agent's under %LOCALAPPDATA%; the address is a named pipe
WINDOWS_PROGRAM_DATA = r"C:\ProgramData"
MODES = ("user", "system")
# managed-config keys that are not tunables (strings)
MANAGED_KEYS = ("mode", "state_dir", "socket_path", "collector_url", "enroll_secret_file")


def _boolean(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError(value)


def _paths(value: str) -> tuple[str, ...]:
    return tuple(p for p in value.split(os.pathsep) if p)


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
    Setting("discovery", True, "SHADOWMAP_DISCOVERY", _boolean,
            "discover AI tools: processes, sockets, browser extensions, configs and workspaces"),
    Setting("process_interval", 60.0, "SHADOWMAP_PROCESS_INTERVAL", float,
            "seconds between process-table passes"),
    Setting("network_interval", 120.0, "SHADOWMAP_NETWORK_INTERVAL", float,
            "seconds between passes over listening sockets and connections"),
    Setting("dns_refresh_interval", 1800.0, "SHADOWMAP_DNS_REFRESH_INTERVAL", float,
            "seconds between resolutions of the catalog's API hosts"),
    Setting("extension_interval", 3600.0, "SHADOWMAP_EXTENSION_INTERVAL", float,
            "seconds between browser-profile passes"),
    Setting("config_rescan_interval", 900.0, "SHADOWMAP_CONFIG_RESCAN_INTERVAL", float,
            "seconds between full passes over AI tool configs and workspaces (changes are seen at once)"),
    Setting("watch_poll_interval", 60.0, "SHADOWMAP_WATCH_POLL_INTERVAL", float,
            "seconds between polls of the config files in folders the OS refused to watch (inotify limits)"),
    Setting("workspace_roots", ("~/src", "~/code", "~/projects", "~/dev", "~/git", "~/repos", "~/work"),
            "SHADOWMAP_WORKSPACE_ROOTS", _paths,
            "folders (two levels deep) searched for AI workspaces; ~ is each user's home"),
    Setting("discovery_homes", (), "SHADOWMAP_DISCOVERY_HOMES", _paths,
            "home folders to look in; empty: the agent's user's, or every user's when run as root"),
    Setting("footprint_interval", 30.0, "SHADOWMAP_FOOTPRINT_INTERVAL", float,
            "seconds per footprint-guard window"),
    Setting("cpu_budget_percent", 5.0, "SHADOWMAP_CPU_BUDGET_PERCENT", float,
            "percent of one core the agent may use before it slows discovery down"),
    Setting("rss_budget_mb", 300.0, "SHADOWMAP_RSS_BUDGET_MB", float,
            "resident memory (MB) the agent may use before it sheds optional work"),
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
    discovery: bool = True
    process_interval: float = 60.0
    network_interval: float = 120.0
    dns_refresh_interval: float = 1800.0
    extension_interval: float = 3600.0
    config_rescan_interval: float = 900.0
    watch_poll_interval: float = 60.0
    workspace_roots: tuple[str, ...] = ("~/src", "~/code", "~/projects", "~/dev", "~/git", "~/repos", "~/work")
    discovery_homes: tuple[str, ...] = ()
    footprint_interval: float = 30.0
    cpu_budget_percent: float = 5.0
    rss_budget_mb: float = 300.0

    @property
    def enrollment_path(self) -> Path:
        return self.state_dir / ENROLLMENT_FILE

    @property
    def spool_path(self) -> Path:
        return self.state_dir / SPOOL_FILE

    @property
    def policy_path(self) -> Path:
        return self.state_dir / POLICY_FILE


def default_mode(platform: str = sys.platform) -> str:
    """POSIX: root runs the machine-wide service, anyone else a per-user agent. Windows has
    no euid: the service asks for "system" itself (agent/winservice.py, and the MSI's
    policy key says mode = system), so a plain command-line run is per user."""
    if platform == "win32":
        return "user"
    return "system" if os.geteuid() == 0 else "user"


def default_state_dir(mode: str, env: Mapping[str, str] | None = None, platform: str = sys.platform) -> Path:
    env = os.environ if env is None else env
    if platform == "win32":
        if mode == "system":
            return Path(ntpath.join(env.get("ProgramData") or WINDOWS_PROGRAM_DATA, "shadowmap"))
        local = env.get("LOCALAPPDATA") or ntpath.join(str(Path.home()), "AppData", "Local")
        return Path(ntpath.join(local, "shadowmap"))
    if mode == "system":
        return SYSTEM_STATE_DIR
    return Path.home() / ".local" / "state" / "shadowmap"


def default_socket_path(mode: str, env: Mapping[str, str], platform: str = sys.platform,
                        user_sid: Callable[[], str] | None = None) -> Path:
    """Unix: the per-user socket under $XDG_RUNTIME_DIR, else the system socket. Windows:
    the system pipe, or the per-user pipe named after the user's SID (user_sid asks
    Windows for it; only called for a per-user agent)."""
    if platform == "win32":
        from shadowmap.bridge import winpipe  # stdlib only: the SID lookup
        if mode == "system":
            return Path(host.SYSTEM_PIPE)
        return Path(host.USER_PIPE_PREFIX + (user_sid or winpipe.current_user_sid)())
    runtime = env.get(host.RUNTIME_DIR_ENV)
    if mode == "user" and runtime:
        return Path(runtime) / host.USER_SOCKET_RELATIVE
    return Path(host.system_socket(host.platform_of(platform)))


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
    platform: str = sys.platform,
    **overrides: Any,
) -> AgentConfig:
    """Build the config. Explicit arguments win, then the environment, then the managed
    config, then enrollment.json. Raises ValueError (ManagedConfigError) naming a bad key.
    ``platform`` picks the OS's defaults and managed location (tests pass "win32")."""
    env = os.environ if env is None else env
    raw, source = managed.read_managed(env, platform)
    unknown = sorted(set(raw) - set(MANAGED_KEYS) - {s.name for s in SETTINGS})
    if unknown:
        raise managed.ManagedConfigError(f"{source}: unknown setting {unknown[0]!r}")
    for key in MANAGED_KEYS:
        if key in raw and not isinstance(raw[key], str):
            raise managed.ManagedConfigError(f"{source}: {key} must be a string, not {raw[key]!r}")
    mode = mode or env.get("SHADOWMAP_AGENT_MODE") or raw.get("mode") or default_mode(platform)
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    state = Path(state_dir or env.get("SHADOWMAP_STATE_DIR") or raw.get("state_dir")
                 or default_state_dir(mode, env, platform))
    sock = Path(socket_path or env.get("SHADOWMAP_AGENT_SOCKET") or raw.get("socket_path")
                or default_socket_path(mode, env, platform))
    url = collector_url or env.get("SHADOWMAP_COLLECTOR_URL") or raw.get("collector_url") \
        or read_enrollment_file(state / ENROLLMENT_FILE).get("collector_url")
    secret = enroll_secret_file or env.get("SHADOWMAP_ENROLL_SECRET_FILE") or raw.get("enroll_secret_file")
    values: dict[str, Any] = {}
    for setting in SETTINGS:
        given = overrides.pop(setting.name, None)
        if given is None and setting.env and env.get(setting.env):
            try:
                given = setting.convert(env[setting.env])
            except ValueError:
                kind = "true or false" if isinstance(setting.default, bool) else "a number"
                raise ValueError(f"{setting.env} must be {kind}, not {env[setting.env]!r}") from None
        if given is None and setting.name in raw:
            given = managed.convert(source, setting.name, raw[setting.name], setting.convert, setting.default)
        values[setting.name] = setting.default if given is None else given
    if overrides:
        raise TypeError(f"unknown settings: {', '.join(sorted(overrides))}")
    return AgentConfig(
        state_dir=state, socket_path=sock, mode=mode,
        collector_url=str(url).rstrip("/") if url else None,
        enroll_secret_file=Path(secret) if secret else None,
        **values,
    )
