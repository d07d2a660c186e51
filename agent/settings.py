"""The agent's settings, declared once: the fields of ``AgentConfig``.

Each field says its environment variable, command-line option and help text
(``setting(...)``, or ``derived(...)`` where the default depends on the mode and OS).
Everything else is made from them:

- ``SETTINGS``, the table (one ``Setting`` row per field): how load_config
  (agent/config.py) reads the environment and the managed configuration;
- ``MANAGED_KEYS``: the keys of the managed configuration (agent/managed.py: TOML file,
  macOS managed preferences plist, Windows policy registry values);
- ``cli_options(...)``: the click options of the `shadowmap agent` commands;
- ``settings_markdown()``: the settings table (docs/agent-settings.md, written by
  ``make docs``: shadowmap/devdocs.py).

Precedence: command-line option > environment > managed configuration > enrollment.json
(the collector URL only) > default. Import-light: no click at import time.
"""
from __future__ import annotations

import os
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from shadowmap.contract import host

if TYPE_CHECKING:
    import click

ENROLLMENT_FILE = "enrollment.json"
SPOOL_FILE = "spool.db"
POLICY_FILE = "policy.json"
MODES = ("user", "system")

_T = TypeVar("_T")
_SPEC = "shadowmap.setting"          # the dataclass field metadata key


@dataclass(frozen=True)
class _Spec:
    env: str
    help: str
    flag: str | None
    choices: tuple[str, ...]
    default_doc: str
    directory: bool


def setting(default: _T, env: str, help: str, *, flag: str | None = None, choices: tuple[str, ...] = (),
            default_doc: str = "", directory: bool = False) -> _T:
    """A field of AgentConfig with its default, environment variable and help text.
    ``flag``: the command-line option (default: ``--`` and the name with dashes);
    ``default_doc``: the default in words where it is decided when the agent starts;
    ``directory``: a path option names a folder (else a file)."""
    return field(default=default, metadata={_SPEC: _Spec(env, help, flag, choices, default_doc, directory)})


def derived(env: str, help: str, *, default_doc: str, flag: str | None = None, directory: bool = False) -> Path:
    """A path field without a static default: load_config works it out from the mode and
    the OS (``default_doc`` says how)."""
    return field(metadata={_SPEC: _Spec(env, help, flag, (), default_doc, directory)})


@dataclass(frozen=True)
class AgentConfig:
    state_dir: Path = derived(
        "SHADOWMAP_STATE_DIR", "agent state directory (enrollment, spool, policy)", directory=True,
        default_doc="user: `~/.local/state/shadowmap` (Windows `%LOCALAPPDATA%\\shadowmap`); "
                    "system: `/var/lib/shadowmap` (Windows `%ProgramData%\\shadowmap`)")
    socket_path: Path = derived(
        host.AGENT_SOCKET_ENV, "IPC socket path (Windows: the named pipe)", flag="--socket",
        default_doc=f"user: `${host.RUNTIME_DIR_ENV}/{host.USER_SOCKET_RELATIVE}`, else "
                    f"`{host.system_socket('linux')}` (macOS `{host.system_socket('macos')}`); "
                    f"Windows: `{host.SYSTEM_PIPE}` (system), `{host.USER_PIPE_PREFIX}<user SID>` (user)")
    mode: str = setting(
        "user", "SHADOWMAP_AGENT_MODE", "per-user or machine-wide agent", choices=MODES,
        default_doc="`system` for root (POSIX), else `user`")
    collector_url: str | None = setting(
        None, "SHADOWMAP_COLLECTOR_URL", "collector base URL", flag="--collector",
        default_doc="the one in `enrollment.json`")
    enroll_secret_file: Path | None = setting(
        None, "SHADOWMAP_ENROLL_SECRET_FILE", "enroll (and re-enroll when told to) with the secret in this file")
    upload_interval: float = setting(
        5.0, "SHADOWMAP_UPLOAD_INTERVAL", "seconds between upload attempts when nothing new was spooled")
    upload_batch: int = setting(
        500, "SHADOWMAP_UPLOAD_BATCH", "events per upload request (the collector accepts at most 1000)")
    spool_max_bytes: int = setting(
        50 * 1024 * 1024, "SHADOWMAP_SPOOL_MAX_BYTES", "spool size bound; the oldest events are dropped beyond it")
    heartbeat_interval: float = setting(
        300.0, "SHADOWMAP_HEARTBEAT_INTERVAL", "seconds between agent.heartbeat events")
    policy_refresh_interval: float = setting(
        300.0, "SHADOWMAP_POLICY_REFRESH_INTERVAL", "seconds between policy pulls from the collector")
    backoff_base: float = setting(
        1.0, "SHADOWMAP_BACKOFF_BASE", "first retry delay after a failed upload, doubled on each failure")
    backoff_max: float = setting(
        300.0, "SHADOWMAP_BACKOFF_MAX", "longest retry delay after failed uploads")
    request_timeout: float = setting(
        10.0, "SHADOWMAP_REQUEST_TIMEOUT", "seconds before an HTTP request to the collector is abandoned")
    discovery: bool = setting(
        True, "SHADOWMAP_DISCOVERY",
        "discover AI tools: processes, sockets, browser extensions, configs and workspaces")
    tls_server_names: bool = setting(
        True, "SHADOWMAP_TLS_SERVER_NAMES",
        "read the server name of TLS connections leaving the laptop (Linux, as root) to find AI tools outside "
        "the catalog; names that do not look like AI are dropped at once")
    process_interval: float = setting(
        60.0, "SHADOWMAP_PROCESS_INTERVAL", "seconds between process-table passes")
    network_interval: float = setting(
        120.0, "SHADOWMAP_NETWORK_INTERVAL", "seconds between passes over listening sockets and connections")
    dns_refresh_interval: float = setting(
        1800.0, "SHADOWMAP_DNS_REFRESH_INTERVAL", "seconds between resolutions of the catalog's API hosts")
    extension_interval: float = setting(
        3600.0, "SHADOWMAP_EXTENSION_INTERVAL", "seconds between browser-profile passes")
    session_interval: float = setting(
        1.0, "SHADOWMAP_SESSION_INTERVAL",
        "seconds between looks at coding agents' session stores (new lines are read where the last look stopped)")
    config_rescan_interval: float = setting(
        900.0, "SHADOWMAP_CONFIG_RESCAN_INTERVAL",
        "seconds between full passes over AI tool configs and workspaces (changes are seen at once)")
    watch_poll_interval: float = setting(
        60.0, "SHADOWMAP_WATCH_POLL_INTERVAL",
        "seconds between polls of the config files in folders the OS refused to watch (inotify limits)")
    workspace_roots: tuple[str, ...] = setting(
        ("~/src", "~/code", "~/projects", "~/dev", "~/git", "~/repos", "~/work"), "SHADOWMAP_WORKSPACE_ROOTS",
        "folders (two levels deep) searched for AI workspaces; ~ is each user's home")
    discovery_homes: tuple[str, ...] = setting(
        (), "SHADOWMAP_DISCOVERY_HOMES",
        "home folders to look in; empty: the agent's user's, or every user's when run as root")
    footprint_interval: float = setting(
        30.0, "SHADOWMAP_FOOTPRINT_INTERVAL", "seconds per footprint-guard window")
    cpu_budget_percent: float = setting(
        5.0, "SHADOWMAP_CPU_BUDGET_PERCENT",
        "percent of one core the agent may use before it slows discovery down")
    rss_budget_mb: float = setting(
        300.0, "SHADOWMAP_RSS_BUDGET_MB", "resident memory (MB) the agent may use before it sheds optional work")

    @property
    def spool_path(self) -> Path:
        return self.state_dir / SPOOL_FILE

    @property
    def policy_path(self) -> Path:
        return self.state_dir / POLICY_FILE


def _boolean(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError(value)


def _paths(value: str) -> tuple[str, ...]:
    return tuple(p for p in value.split(os.pathsep) if p)


# how an environment value (a string) becomes a value of the setting's kind
_FROM_TEXT: dict[type, Callable[[str], Any]] = {str: str, Path: str, int: int, float: float, bool: _boolean,
                                                tuple: _paths}


@dataclass(frozen=True)
class Setting:
    """One row of the table: a field of AgentConfig and how it is given."""
    name: str
    kind: type                  # str, Path, int, float, bool, or tuple (of strings)
    default: Any                # None where decided at start (default_doc says how)
    env: str
    flag: str                   # the command-line option of `shadowmap agent run`
    help: str
    choices: tuple[str, ...] = ()
    default_doc: str = ""
    directory: bool = False

    @property
    def text(self) -> bool:
        """A string or path: an empty value counts as not given."""
        return self.kind in (str, Path)

    def convert(self, value: str) -> Any:
        """The value of an environment variable (or a managed string) as this kind;
        ValueError when it is not one."""
        return _FROM_TEXT[self.kind](value)


def _kind(hint: Any) -> type:
    """float, Path, ... from a field's annotation (``X | None`` is X, ``tuple[str, ...]`` tuple)."""
    origin = typing.get_origin(hint)
    if origin is tuple:
        return tuple
    if origin in (types.UnionType, typing.Union):
        (inner,) = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        return _kind(inner)
    if not isinstance(hint, type) or hint not in _FROM_TEXT:
        raise TypeError(f"no setting kind for {hint!r}")
    return hint


def _table() -> tuple[Setting, ...]:
    hints = typing.get_type_hints(AgentConfig)
    rows = []
    for f in fields(AgentConfig):
        spec: _Spec = f.metadata[_SPEC]
        default = None if f.default is MISSING else f.default     # MISSING: derived at start
        rows.append(Setting(
            name=f.name, kind=_kind(hints[f.name]), default=default, env=spec.env,
            flag=spec.flag or "--" + f.name.replace("_", "-"), help=spec.help, choices=spec.choices,
            default_doc=spec.default_doc, directory=spec.directory))
    return tuple(rows)


SETTINGS: tuple[Setting, ...] = _table()
BY_NAME: Mapping[str, Setting] = types.MappingProxyType({s.name: s for s in SETTINGS})
# every setting is also a key of the managed configuration, under its own name
MANAGED_KEYS: tuple[str, ...] = tuple(s.name for s in SETTINGS)


# ---- command line ----

def _click_option(setting: Setting, overrides: Mapping[str, Any]) -> Callable[[Any], Any]:
    import click

    def no_empty_tuple(_ctx: click.Context, _param: click.Parameter, value: Any) -> Any:
        return value or None        # an option given no times is not given (not "empty")

    decls = [setting.flag, setting.name]
    given_as = [f"env {setting.env}" + (f", {os.pathsep!r}-separated" if setting.kind is tuple else "")]
    if not setting.default_doc and setting.default not in (None, ()):
        given_as.append(f"default {_default_words(setting, markdown=False)}")
    kwargs: dict[str, Any] = {"default": None, "help": f"{setting.help} ({'; '.join(given_as)})"}
    if setting.choices:
        kwargs["type"] = click.Choice(setting.choices)
    elif setting.kind is Path:
        kwargs["type"] = click.Path(file_okay=not setting.directory, dir_okay=setting.directory, path_type=Path)
    elif setting.kind is bool:
        decls[0] = f"{setting.flag}/--no-{setting.flag.removeprefix('--')}"
    elif setting.kind is tuple:
        kwargs.update(multiple=True, callback=no_empty_tuple)
    elif setting.kind in (int, float):
        kwargs["type"] = setting.kind
    kwargs.update(overrides)
    return click.option(*decls, **kwargs)


_F = TypeVar("_F", bound=Callable[..., Any])


def cli_options(*names: str, **overrides: Any) -> Callable[[_F], _F]:
    """Click options for these settings (all of them when none is named), in table order;
    each passes its value, or None when not given, as the keyword of the setting's name.
    ``overrides`` go to every option made (``required=True``, ``help=...``)."""
    unknown = set(names) - set(BY_NAME)
    if unknown:
        raise KeyError(f"no such settings: {', '.join(sorted(unknown))}")
    chosen = [s for s in SETTINGS if not names or s.name in names]

    def decorate(command: _F) -> _F:
        for row in reversed(chosen):          # the first applied is listed last by --help
            command = _click_option(row, overrides)(command)
        return command
    return decorate


# ---- documentation ----

def _default_words(setting: Setting, markdown: bool = True) -> str:
    if setting.default_doc:
        return setting.default_doc if markdown else setting.default_doc.replace("`", "")
    value = setting.default
    if value is None:
        return "none"
    if isinstance(value, bool):
        words = "true" if value else "false"
    elif isinstance(value, tuple):
        words = ", ".join(value) if value else "empty"
    else:
        words = str(value)
    return f"`{words}`" if markdown and value != () else words


def settings_markdown() -> str:
    """The settings as a Markdown table (docs/agent-settings.md): key (the managed
    configuration's key), environment variable, `shadowmap agent run` option, default,
    and what it does. Ends with a newline."""
    lines = ["| setting | environment | `agent run` option | default | what it does |",
             "|---|---|---|---|---|"]
    for s in SETTINGS:
        what = s.help + (f" ({' or '.join(f'`{c}`' for c in s.choices)})" if s.choices else "")
        if s.kind is tuple:
            what += "; a list (in the environment `:`-separated, `;` on Windows; the option repeated)"
        flag = f"`{s.flag}` / `--no-{s.flag[2:]}`" if s.kind is bool else f"`{s.flag}`"
        lines.append(f"| `{s.name}` | `{s.env}` | {flag} | {_default_words(s)} | {what} |")
    return "\n".join(lines) + "\n"
