"""`shadowmap agent run | enroll | status | inventory`: a thin shell over the agent package."""
from __future__ import annotations

import logging
import os
import signal
import sqlite3
import stat
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from shadowmap.agent.config import AgentConfig, load_config
from shadowmap.agent.settings import cli_options
from shadowmap.contract import enums, host
from shadowmap.ipc.winpipe import is_pipe

if TYPE_CHECKING:
    from shadowmap.detectors.hashing import Scan, Summarize

# SIGBREAK: Ctrl+Break in a Windows console (Windows has no SIGHUP/SIGQUIT to add)
STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGINT", "SIGBREAK") if hasattr(signal, name))
PROBE_TIMEOUT_S = 5.0      # `status` asks for a ping; a busy agent answers one at once


@click.group()
def agent() -> None:
    """The workstation agent: scans pastes, applies policy, spools and uploads events."""


@agent.command()
@cli_options()
def run(**settings: Any) -> None:
    """Run the agent until SIGTERM/SIGINT; prints `agent ready on <socket>` once listening.
    Every setting has an option (docs/agent.md, "Settings"); an option not given leaves the
    setting to the environment, the managed configuration and the default."""
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        config = load_config(**settings)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    try:
        # heavy imports only here: `status` and `enroll` never load Presidio
        from shadowmap.detectors.catalog import load_catalog
        from shadowmap.detectors.engine import DetectorSettings, ScanEngine
        from shadowmap.detectors.hashing import summarize
        engine = ScanEngine(DetectorSettings())
        catalog = load_catalog()
    except Exception as exc:
        raise click.ClickException(f"cannot load the detection engine: {exc}") from None

    from shadowmap.agent.daemon import AgentDaemon
    from shadowmap.agent.ipc import SocketInUse
    stop = threading.Event()
    for signum in STOP_SIGNALS:
        signal.signal(signum, lambda *_: stop.set())
    try:
        daemon = AgentDaemon(config, engine, catalog, summarize)
    except (sqlite3.DatabaseError, OSError) as exc:
        raise click.ClickException(f"cannot open the agent state in {config.state_dir}: {exc}") from None
    try:
        daemon.start()
    except (SocketInUse, OSError) as exc:
        daemon.stop(flush_timeout=0)
        raise click.ClickException(f"cannot listen on {daemon.ipc.path}: {exc}") from None
    click.echo(f"agent ready on {daemon.ipc.path}")     # on Windows, the pipe's name
    sys.stdout.flush()
    _note_address(config.state_dir, str(daemon.ipc.path))
    while not stop.wait(1.0):
        pass
    logging.getLogger(__name__).info("shutting down")
    daemon.stop(flush_timeout=5.0)


@agent.command()
@cli_options("collector_url", required=True, help="collector base URL")
@click.option("--secret-file", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="file holding the enroll secret")
@cli_options("state_dir")
def enroll(collector_url: str, secret_file: Path, state_dir: Path | None) -> None:
    """Enroll this device with a collector; writes enrollment.json (0600)."""
    from shadowmap.agent.enroll import EnrollError, read_secret
    from shadowmap.agent.enroll import enroll as do_enroll
    try:
        config = load_config(state_dir, collector_url=collector_url)
        result = do_enroll(collector_url, read_secret(secret_file), config.state_dir, mode=config.mode)
    except (EnrollError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"enrolled as device {result.device_id} with {result.collector_url}")


@agent.command()
@click.option("--reason", type=click.Choice(enums.RETIRE_REASONS), default="uninstall", show_default=True,
              help="why the agent stops (the package's removal scripts pass uninstall)")
@cli_options("state_dir")
def retire(reason: str, state_dir: Path | None) -> None:
    """Tell the collector this device stops reporting on purpose (an MDM uninstall, a retired
    laptop), so its silence raises no "Protection disabled" alert. Never fails an uninstall."""
    from shadowmap.agent.retire import retire as do_retire

    try:
        done = do_retire(load_config(state_dir), reason)
    except (OSError, ValueError, sqlite3.Error) as exc:
        click.echo(f"could not tell the collector ({exc}); its 'Protection disabled' alert will say why", err=True)
        return
    if not done.enrolled:
        click.echo("not enrolled: nothing to tell the collector")
    elif done.delivered:
        click.echo(f"the collector knows this device is retiring ({reason})")
    else:
        click.echo("the collector could not be reached; the retirement stays spooled", err=True)


@agent.command()
@cli_options("state_dir", "socket_path")
def status(state_dir: Path | None, socket_path: Path | None) -> None:
    """Print enrollment, spool depth, dead letters and the socket."""
    from shadowmap.agent.enroll import load_enrollment
    from shadowmap.agent.spool import Spool
    try:
        config = load_config(state_dir, socket_path)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    current = load_enrollment(config.state_dir)
    click.echo(f"state dir:    {config.state_dir}")
    if current:
        click.echo(f"enrolled:     device {current.device_id} with {current.collector_url}")
    else:
        click.echo("enrolled:     no (run `shadowmap agent enroll`)")
    if config.spool_path.exists():
        spool = Spool(config.spool_path, config.spool_max_bytes)
        try:
            click.echo(f"spool:        {spool.depth()} events waiting, {spool.size_bytes()} bytes")
            click.echo(f"dead letters: {len(spool.dead_letters())}")
            click.echo(f"dropped:      {spool.dropped()} (spool was full)")
        finally:
            spool.close()
    else:
        click.echo("spool:        none yet")
    address = ipc_address(config)
    if socket_path is None and not os.environ.get(host.AGENT_SOCKET_ENV):
        address = started_socket(config.state_dir, address)
    label = "pipe:" if is_pipe(address) else "socket:"
    click.echo(f"{label:<14}{address} ({_probe(address)})")
    _print_last_heartbeat(config.state_dir / "status.json")


STATE_DIR_SOCKET = "agent.sock"  # where `make run` starts its agent listening: beside its state
STATE_DIR_ADDRESS = "agent.address"  # the address a running agent of this state listens on


def _note_address(state_dir: Path, address: str) -> None:
    """Write where this agent listens into its state dir, for `agent status` (a socket too
    deep for AF_UNIX's 107 bytes lives in the runtime dir, not beside the state)."""
    try:
        (state_dir / STATE_DIR_ADDRESS).write_text(address + "\n", "utf-8")
    except OSError as exc:
        logging.getLogger(__name__).warning("cannot note the agent's address in %s: %s", state_dir, exc)


def started_socket(state_dir: Path, default: str) -> str:
    """The socket the agent of this state dir was started on, when no socket was named: a
    live socket inside the state dir (`make run`'s agent, or any started with --socket
    there), else the one its last start noted, win over the default address, where no agent
    of this state listens."""
    candidates = [state_dir / STATE_DIR_SOCKET]
    try:
        noted = (state_dir / STATE_DIR_ADDRESS).read_text("utf-8").strip()
    except (OSError, UnicodeDecodeError):
        noted = ""
    if noted:
        candidates.append(Path(noted))
    for candidate in candidates:
        try:
            if stat.S_ISSOCK(candidate.stat().st_mode):
                return str(candidate)
        except OSError:
            pass
    return default


def _print_last_heartbeat(path: Path) -> None:
    """Discovery limits (inotify, sockets without root, unreadable configs) and footprint, as
    of the running agent's last heartbeat."""
    import json
    try:
        last = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return
    if not isinstance(last, dict):
        return
    click.echo(f"heartbeat:    {last.get('ts', '?')}")
    limits = last.get("discovery") or {}
    for source, limitation in (limits.items() if isinstance(limits, dict) else ()):
        click.echo(f"limit:        {source}: {limitation}")
    if not limits:
        click.echo("limits:       none")
    footprint = last.get("footprint")
    if isinstance(footprint, dict):
        click.echo(f"footprint:    {footprint.get('cpu_percent', '?')} % CPU, {footprint.get('rss_mb', '?')} MB RSS, "
                   f"throttle x{footprint.get('throttle', 1)}")


def ipc_address(config: AgentConfig, platform: str = sys.platform) -> str:
    """Where the agent of this config listens: its socket, or on Windows the pipe the
    agent's PipeServer serves (a socket path in a shared config means the default pipe)."""
    if platform != "win32":
        return str(config.socket_path)
    from shadowmap.agent.ipc_windows import server_address
    from shadowmap.ipc.winpipe import current_user_sid
    address = str(config.socket_path)
    if is_pipe(address) or config.mode == "system":
        return server_address(address, config.mode)
    return server_address(address, config.mode, current_user_sid())


def _probe(address: str) -> str:
    """Whether an agent answers a ping there: through the native host's own link, so on
    Windows the pipe's server is checked exactly as the host checks it."""
    from shadowmap.ipc.agent_link import AgentBadReply, AgentLink, AgentUnavailable, AgentUntrusted
    link = AgentLink(address if is_pipe(address) else Path(address), reply_timeout_s=PROBE_TIMEOUT_S)
    try:
        reply = link.request({"type": "ping"})
    except AgentUntrusted as exc:
        return f"NOT the agent: {exc}"
    except (AgentUnavailable, AgentBadReply):
        return "no agent answering"
    finally:
        link.close()
    return f"agent {reply.get('agent_version', '?')} answering"


@agent.command()
@click.option("--json", "as_json", is_flag=True, help="print JSON (the default is a short table)")
@click.option("--home", "homes", multiple=True, type=click.Path(file_okay=False, path_type=Path),
              help="look only in this home folder (repeatable; default: the agent's user, or every user as root)")
@click.option("--no-scan", is_flag=True, help="do not scan config files for secrets (skips loading the NER model)")
@cli_options("state_dir")
def inventory(as_json: bool, homes: tuple[Path, ...], no_scan: bool, state_dir: Path | None) -> None:
    """One discovery pass, printed: AI tool processes, local model servers listening,
    connections to AI APIs, browser extensions, MCP servers and secrets in AI tool configs."""
    import json

    from shadowmap.agent.daemon import agent_user
    from shadowmap.agent.discovery.service import Discovery
    from shadowmap.agent.enroll import load_enrollment
    from shadowmap.detectors.catalog import load_catalog
    try:
        config = load_config(state_dir)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    scan: Scan | None = None
    summarize: Summarize | None = None
    if not no_scan:
        try:
            from shadowmap.detectors.engine import DetectorSettings, ScanEngine
            from shadowmap.detectors.hashing import summarize as summarize_findings
            scan, summarize = ScanEngine(DetectorSettings()).scan, summarize_findings
        except Exception as exc:
            raise click.ClickException(f"cannot load the detection engine: {exc} (try --no-scan)") from None
    enrollment = load_enrollment(config.state_dir)
    key = enrollment.org_key_bytes if enrollment else os.urandom(32)
    finder = Discovery(config, load_catalog(), user=agent_user(), org_key=lambda: key, scan=scan,
                       summarize=summarize,
                       homes=[(p.name, p) for p in homes] if homes else None)
    found = finder.collect()
    if as_json:
        click.echo(json.dumps(found, indent=2, sort_keys=True))
        return
    for section in ("processes", "repo_activity", "listeners", "connections", "browser_extensions",
                    "ai_browsers", "mcp_servers", "config_findings"):
        click.echo(f"{section}: {len(found[section])}")
        for row in found[section]:
            label = ":".join(str(v) for v in (row.get("tool_id"), row.get("name")) if v) or "?"
            where = row.get("exe") or row.get("repo") or row.get("port") or row.get("domain") or row.get("config_path") \
                or row.get("path") or row.get("extension_id") or ""
            click.echo(f"  {label:<20} {row.get('user', '')} {where}")
    for source, limitation in found["limitations"].items():
        click.echo(f"limited: {source}: {limitation}")


@agent.command()
@click.option("--json", "as_json", is_flag=True, help="print one JSON object per session (the default is a table)")
@click.option("--home", "homes", multiple=True, type=click.Path(file_okay=False, path_type=Path),
              help="read this home folder's session stores (repeatable; default: the agent's user, or every user as root)")
@click.option("--no-scan", is_flag=True, help="do not scan prompts and tool output (skips loading the NER model)")
def sessions(as_json: bool, homes: tuple[Path, ...], no_scan: bool) -> None:
    """One pass over the coding agents' session stores (Claude Code, Codex CLI, Gemini CLI,
    aider): per session the tool, models, repository, times, prompts, files and lines written,
    permission mode and what the detectors found. Never a prompt, code or secret."""
    import json

    from shadowmap.agent.discovery.extensions import user_homes
    from shadowmap.agent.sessions.collect import collect

    scanner: Callable[[str], list[dict]] | None = None
    if not no_scan:
        try:
            from shadowmap.detectors.engine import DetectorSettings, ScanEngine
            from shadowmap.detectors.hashing import summarize as summarize_findings
            engine, key = ScanEngine(DetectorSettings()), os.urandom(32)   # hashes shown nowhere: any key

            def scanner(text: str) -> list[dict]:
                return summarize_findings(engine.scan(text), text, key)
        except Exception as exc:
            raise click.ClickException(f"cannot load the detection engine: {exc} (try --no-scan)") from None
    found = collect(list(homes) or [home for _user, home in user_homes()], scanner)
    rows = [c.record.summary(c.repo, c.findings) for c in found]
    if as_json:
        for row in rows:
            click.echo(json.dumps(row, sort_keys=True))
        return
    for row in rows:
        click.echo(f"{row['tool']:<12} {row['session_id'][:36]:<36} {row['repo'] or '-':<40} "
                   f"prompts {row['prompts']:>4}  lines {row['lines_written']:>6}  {','.join(row['models'])}")
