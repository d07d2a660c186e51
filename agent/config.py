"""Agent settings: CLI options over environment over the managed config (agent/managed.py:
/etc/shadowmap/agent.toml, macOS managed preferences, Windows policy key) over
enrollment.json over defaults.

The settings themselves (names, types, defaults, environment variables, options, help)
are declared once, in agent/settings.py; this module resolves them.
"""
from __future__ import annotations

import json
import ntpath
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from shadowmap.agent import managed
from shadowmap.agent.settings import ENROLLMENT_FILE, MANAGED_KEYS, MODES, SETTINGS, AgentConfig, Setting
from shadowmap.contract import host  # the agent's addresses (schema/host.v1.json)

__all__ = ["ENROLLMENT_FILE", "MANAGED_KEYS", "SETTINGS", "AgentConfig", "default_mode", "default_socket_path",
           "default_state_dir", "load_config", "read_enrollment_file"]

SYSTEM_STATE_DIR = Path("/var/lib/shadowmap")
# Windows: the service's state under %ProgramData% (the MSI locks it to SYSTEM and
# Administrators), a per-user agent's under %LOCALAPPDATA%; the address is a named pipe
WINDOWS_PROGRAM_DATA = r"C:\ProgramData"


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
        from shadowmap.ipc import winpipe  # stdlib only: the SID lookup
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
    unknown = sorted(set(raw) - set(MANAGED_KEYS))
    if unknown:
        raise managed.ManagedConfigError(f"{source}: unknown setting {unknown[0]!r}")
    texts = [s for s in SETTINGS if s.text]
    for setting in texts:
        if setting.name in raw and not isinstance(raw[setting.name], str):
            raise managed.ManagedConfigError(f"{source}: {setting.name} must be a string, not {raw[setting.name]!r}")
    explicit = {"state_dir": state_dir, "socket_path": socket_path, "collector_url": collector_url, "mode": mode,
                "enroll_secret_file": enroll_secret_file}
    text = {s.name: explicit.get(s.name) or env.get(s.env) or raw.get(s.name) for s in texts}
    given_mode = text["mode"]
    mode = str(given_mode) if given_mode else default_mode(platform)
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    state = Path(text["state_dir"] or default_state_dir(mode, env, platform))
    sock = Path(text["socket_path"] or default_socket_path(mode, env, platform))
    url = text["collector_url"] or read_enrollment_file(state / ENROLLMENT_FILE).get("collector_url")
    secret = text["enroll_secret_file"]
    values = {s.name: _value(s, overrides.pop(s.name, None), env, raw, source) for s in SETTINGS if not s.text}
    if overrides:
        raise TypeError(f"unknown settings: {', '.join(sorted(overrides))}")
    return AgentConfig(
        state_dir=state, socket_path=sock, mode=mode,
        collector_url=str(url).rstrip("/") if url else None,
        enroll_secret_file=Path(secret) if secret else None,
        **values,
    )


def _value(setting: Setting, given: Any, env: Mapping[str, str], raw: Mapping[str, Any], source: str) -> Any:
    """A setting that is not a string or path: given (not None) > environment > managed > default."""
    if given is None and env.get(setting.env):
        try:
            given = setting.convert(env[setting.env])
        except ValueError:
            kind = "true or false" if setting.kind is bool else "a number"
            raise ValueError(f"{setting.env} must be {kind}, not {env[setting.env]!r}") from None
    if given is None and setting.name in raw:
        given = managed.convert(source, setting.name, raw[setting.name], setting.convert, setting.default)
    return setting.default if given is None else given
