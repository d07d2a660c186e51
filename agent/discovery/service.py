"""The discovery loop: one thread runs each source on its interval (lengthened by the
footprint guard), rescans changed config files as soon as watchdog reports them, and hands
observations to the tracker, which spools events. ``collect()`` is one pass of every source
without the tracker: what `shadowmap agent inventory` prints."""
from __future__ import annotations

import json
import logging
import os
import stat
import sys
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from shadowmap.agent.config import AgentConfig
from shadowmap.agent.discovery import (
    Observation,
    ai_browsers,
    budget,
    configs,
    editors,
    extensions,
    managed_codex,
    managed_drift,
    network,
    processes,
    protection,
    repos,
    tls_names,
)
from shadowmap.agent.discovery.processes import ProcessMatch, RunDrift
from shadowmap.agent.discovery.tracker import Tracker
from shadowmap.agent.discovery.watcher import ConfigWatcher
from shadowmap.agent.footprint import FootprintGuard
from shadowmap.agent.sessions import offsets as session_offsets
from shadowmap.agent.sessions.tail import SessionTail
from shadowmap.detectors.catalog import Catalog
from shadowmap.detectors.hashing import Scan, Summarize
from shadowmap.detectors.scan_result import ScanResult

if TYPE_CHECKING:
    from shadowmap.agent.handlers import Engine

log = logging.getLogger(__name__)
MAX_SESSION_TEXT = 100_000     # characters of one prompt or tool output scanned (pastes keep priority)

Emit = Callable[[str, str, dict], None]


class SerializedEngine:
    """The detector engine behind one lock, shared by the paste path and config scans (its
    spaCy pipeline is not promised to be thread-safe); config scans take it per chunk."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self._lock = threading.Lock()

    def scan(self, text: str) -> ScanResult:
        with self._lock:
            return self.engine.scan(text)

    def data_class_of(self, entity_type: str) -> str:
        return self.engine.data_class_of(entity_type)   # lookups in the engine's tables: no lock

    def severity_of(self, entity_type: str) -> str:
        return self.engine.severity_of(entity_type)


class Discovery:
    def __init__(self, config: AgentConfig, catalog: Catalog, *, user: str, org_key: Callable[[], bytes],
                 scan: Scan | None = None, summarize: Summarize | None = None,
                 resolver: network.Resolver = network.system_resolver,
                 homes: Iterable[tuple[str, Path]] | None = None, ports: dict[int, str] | None = None,
                 guard: FootprintGuard | None = None):
        self.config = config
        self.catalog = catalog
        self.user = user
        if homes is None and config.discovery_homes:
            homes = [(Path(h).name, Path(h)) for h in config.discovery_homes]
        self.homes = list(homes) if homes is not None else None
        self.ports = ports
        self.guard = guard
        self.matcher = processes.ProcessMatcher(catalog)
        self.coding_agents = repos.agent_tools(catalog)
        self.book = network.AddressBook(catalog, resolver, config.dns_refresh_interval)
        self.hellos = tls_names.HelloWatch(lambda host: catalog.match_domain(host) is not None)
        self._hellos_started = False
        self.extensions = extensions.ExtensionInventory(catalog)
        self.unknown = budget.UnknownBudget()
        self.managed_root = Path("/")                  # where managed settings are looked for (tests: a fake root)
        self.scanner = configs.ConfigScanner(scan, summarize, org_key,
                                             lambda host: catalog.match_domain(host) is not None)
        self.sessions_tail = SessionTail(self._homes, self._session_scanner() if scan and summarize else None)
        self.limitations: dict[str, str] = {}
        self.process_cwds: dict[str, str] = {}        # folder -> user, from AI tool processes
        self.targets: dict[str, configs.Target] = {}
        self._file_cache: dict[str, tuple[tuple, list[Observation]]] = {}
        self.unreadable: list[str] = []
        self.workspaces: list[str] = []
        self._workspace_users: dict[str, str] = {}

    def _session_scanner(self) -> Callable[[str], list[dict]]:
        scan, summarize, org_key = self.scanner.scan_text, self.scanner.summarize, self.scanner.org_key

        def scanner(text: str) -> list[dict]:
            piece = text[:MAX_SESSION_TEXT]
            return summarize(scan(piece), piece, org_key()) if scan and summarize else []
        return scanner

    def sessions(self) -> list[Observation]:
        """AI coding sessions that grew since the last look, as ai_session.recorded observations."""
        found = []
        for session in self.sessions_tail.poll():
            record = session.record
            repository = repos.repository_of(record.cwd) if record.cwd and Path(record.cwd).is_dir() else None
            if repository and not record.branch:
                record.branch = repository.branch
            findings = sorted(session.findings.values(), key=lambda f: f["entity_type"])
            data = record.as_event_data(self.scanner.org_key(), repository.repo if repository else None,
                                        findings, session.user)
            fingerprint = json.dumps([record.prompts, record.turns, data["lines_written"], record.ended,
                                      [(f["entity_type"], f["count"]) for f in findings]])
            found.append(Observation("ai_session.recorded", ("ai_session", record.tool_id, record.session_id),
                                     fingerprint, session.user, data, daily=False))
        return found

    def _homes(self) -> list[tuple[str, Path]]:
        return self.homes if self.homes is not None else extensions.user_homes()

    def extension_states(self) -> list[dict[str, str]]:
        """The extension in each profile of each browser whose policy force-installs it."""
        try:
            return protection.extension_states(self._homes())
        except OSError:                 # a home or policy folder gone while read: next heartbeat
            log.debug("extension states unreadable", exc_info=True)
            return []

    def _sheds(self, work: str) -> bool:
        return self.guard is not None and self.guard.sheds(work)

    # -- sources --------------------------------------------------------------
    def processes(self) -> list[Observation]:
        matches = self.matcher.scan(skip_pids=[os.getpid()])
        self.process_cwds = {m.cwd: (m.user or self.user) for m in matches
                             if m.cwd and m.cwd != "/" and m.tool_id is not None}
        known = [m for m in matches if m.tool_id is not None]
        found = self.unknown.admit(processes.observations(matches, self.user, self._run_drift(matches)))
        self._limit("unknown_tools", self.unknown.limitation())
        return [*found, *repos.observations(known, self.coding_agents, self.user)]

    def _run_drift(self, matches: list[ProcessMatch]) -> RunDrift | None:
        """How running codex flags are judged this pass: the requirements are read once, and
        only when some codex asks for a setting they could forbid."""
        if not any(m.run_settings for m in matches):
            return None
        required = managed_codex.load(sys.platform, self.managed_root)
        if required is None:
            return None
        return lambda match: managed_codex.run_drift(required, match.run_settings)

    def network(self) -> list[Observation]:
        book = None
        if not self._sheds("network_connections"):
            self.book.refresh()
            book = self.book
            self._limit("dns", self.book.limitation)
        # ports given (a site's or a test's): they alone say what a model server is
        matches, limitation = network.scan(self.catalog, book, self.ports, skip_pids=[os.getpid()],
                                           unknown=self.ports is None)
        self._limit("network", limitation)
        if self.ports is None and self.config.tls_server_names:
            if not self._hellos_started:  # the reader starts with the first pass, and runs until close()
                self._hellos_started = True
                self.hellos.start()
                self._limit("tls_server_names", self.hellos.limitation)
            matches += network.tls_matches(self.hellos.take())
        return self.unknown.admit(network.observations(matches, self.user))

    def close(self) -> None:
        """Stop what runs between passes (the TLS server-name reader)."""
        self.hellos.close()

    def browser_extensions(self) -> list[Observation]:
        """AI extensions in every browser profile, and AI browsers with or without ours."""
        homes = self._homes()
        return [*self.extensions.scan(homes), *ai_browsers.scan(homes, protection.all_our_ids())]

    def plan_targets(self) -> list[configs.Target]:
        homes = self._homes()
        targets = configs.tool_config_targets(self.catalog, homes, self.user)
        folders: dict[Path, str] = {}
        for user, home in homes:
            if not self._sheds("workspace_roots"):
                roots = [configs.expand(r, home) if r.startswith("~") else Path(r)
                         for r in self.config.workspace_roots]
                for folder in configs.find_workspaces([r for r in roots if r is not None]):
                    folders.setdefault(folder, user)
            for folder in configs.claude_code_projects(home):
                folders.setdefault(folder, user)
            for folder in editors.recent_folders(home):      # VS Code / Cursor / Windsurf windows
                folders.setdefault(folder, user)
        for cwd, user in self.process_cwds.items():
            folders.setdefault(Path(cwd), user)
        for folder, user in folders.items():
            targets.extend(configs.workspace_targets(folder, user))
        self.targets = {str(t.path): t for t in targets}
        self.workspaces = sorted(str(f) for f in folders if configs.workspace_tool(f))
        self._workspace_users = {str(f): u for f, u in folders.items()}
        return targets

    def workspace_files(self, folder: Path) -> list[configs.Target]:
        """The target files of one known workspace now (new .env files included)."""
        found = configs.workspace_targets(folder, self._workspace_users.get(str(folder), self.user))
        for target in found:
            self.targets.setdefault(str(target.path), target)
        return found

    def scan_target(self, target: configs.Target) -> list[Observation]:
        """A config file's observations; an unchanged file is not read again."""
        key = str(target.path)
        try:
            st = target.path.stat()
        except OSError as exc:
            self._file_cache.pop(key, None)
            if not isinstance(exc, FileNotFoundError):      # a symlink loop, no permission
                self.unreadable.append(key)
            return []
        if not stat.S_ISREG(st.st_mode):      # a FIFO or device would block or never end
            self._file_cache.pop(key, None)
            self.unreadable.append(key)
            return []
        stamp = (st.st_mtime_ns, st.st_size, st.st_ino, st.st_mode)  # a chmod changes the file's risks
        cached = self._file_cache.get(key)
        if cached and cached[0] == stamp:
            return cached[1]
        found, readable = self.scanner.scan(target)
        if not readable:
            self.unreadable.append(key)
        self._file_cache[key] = (stamp, found)
        return found

    def config_files(self) -> list[Observation]:
        managed = managed_drift.load(root=self.managed_root)
        if managed != self.scanner.managed:           # every Claude Code config is judged again
            self.scanner.managed = managed
            self._file_cache.clear()
        self.unreadable = []
        found: list[Observation] = []
        for target in self.plan_targets():
            found.extend(self.scan_target(target))
        live = set(self.targets)
        for stale in set(self._file_cache) - live:
            del self._file_cache[stale]
        self._limit("configs", f"{len(self.unreadable)} config files could not be read"
                    if self.unreadable else None)
        return found

    def _limit(self, source: str, limitation: str | None) -> None:
        if limitation:
            if self.limitations.get(source) != limitation:
                log.warning("%s discovery: %s", source, limitation)
            self.limitations[source] = limitation
        else:
            self.limitations.pop(source, None)

    # -- one pass, printed by `shadowmap agent inventory` ---------------------------
    def collect(self) -> dict:
        started = time.perf_counter()
        procs = self.processes()
        sockets = self.network()
        exts = self.browser_extensions()
        cfg = self.config_files()

        def rows(items: list[Observation], keep: Callable[[Observation], bool]) -> list[dict]:
            return [dict(o.data, user=o.user) for o in items if keep(o)]
        return {
            "processes": rows(procs, lambda o: o.event_type == "ai_tool.observed"),
            "repo_activity": rows(procs, lambda o: o.event_type == "ai_agent.repo_activity"),
            "listeners": rows(sockets, lambda o: o.data["source"] == "listener"),
            "connections": rows(sockets, lambda o: o.data["source"] == "network"),
            "browser_extensions": rows(exts, lambda o: o.event_type == "browser_extension.observed"),
            "ai_browsers": rows(exts, lambda o: o.event_type == "ai_browser.observed"),
            "mcp_servers": rows(cfg, lambda o: o.event_type == "mcp_server.observed"),
            "config_findings": rows(cfg, lambda o: o.event_type == "ai_config.finding"),
            "config_files": sorted(p for p in self.targets if Path(p).is_file()),
            "workspaces": self.workspaces,
            "unreadable": sorted(self.unreadable),
            "limitations": dict(self.limitations),
            "elapsed_ms": round((time.perf_counter() - started) * 1000, 1),
        }


class DiscoveryService:
    """Runs ``Discovery`` in one background thread and feeds the tracker."""

    def __init__(self, discovery: Discovery, tracker: Tracker, guard: FootprintGuard | None = None):
        self.discovery = discovery
        self.tracker = tracker
        self.guard = guard
        self.config = discovery.config
        # the daemon resumes reading the session stores where it stopped (one-shot passes do not)
        discovery.sessions_tail.keep_offsets(self.config.state_dir / session_offsets.STATE_FILE,
                                             discovery.scanner.org_key)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self.watcher = ConfigWatcher(self._wake, self.config.watch_poll_interval)
        self._thread: threading.Thread | None = None
        # (name, interval setting, source, optional work that may be shed)
        self.jobs: list[tuple[str, str, Callable[[], list[Observation]], str | None]] = [
            ("processes", "process_interval", discovery.processes, None),
            ("configs", "config_rescan_interval", self._configs, None),
            ("watch_fallback", "watch_poll_interval", self._poll_unwatched, None),
            ("browser_extensions", "extension_interval", discovery.browser_extensions, "browser_extensions"),
            ("sessions", "session_interval", discovery.sessions, None),
            ("network", "network_interval", discovery.network, None),     # DNS may be slow: last
        ]
        self.passes: dict[str, int] = {name: 0 for name, *_ in self.jobs}

    def extension_states(self) -> list[dict[str, str]]:
        return self.discovery.extension_states()

    @property
    def limitations(self) -> dict[str, str]:
        found = dict(self.discovery.limitations)
        if self.watcher.limitation:
            found["watch"] = self.watcher.limitation
        return found

    def _configs(self) -> list[Observation]:
        found = self.discovery.config_files()
        self.watcher.plan([Path(p) for p in self.discovery.targets],
                          [Path(w) for w in self.discovery.workspaces])
        return found

    def _poll_unwatched(self) -> list[Observation]:
        """Where the OS refused a watch: the targets are stat-polled (an unchanged file is not
        read again), and a refused workspace folder is listed again for new .env/.aider* files."""
        found: list[Observation] = []
        for path in self.watcher.polled_targets():
            target = self.discovery.targets.get(path)
            if target is not None:
                found.extend(self.discovery.scan_target(target))
            elif path in self.discovery.workspaces:
                for new in self.discovery.workspace_files(Path(path)):
                    found.extend(self.discovery.scan_target(new))
        return found

    def start(self) -> None:
        self.watcher.start()
        self._thread = threading.Thread(target=self._run, name="discovery", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout=10)
        self.watcher.stop()
        self.discovery.close()
        self.tracker.save(force=True)

    def _run(self) -> None:
        due = {name: 0.0 for name, *_ in self.jobs}
        guard_due = time.monotonic() + self.config.footprint_interval
        while not self._stop.is_set():
            now = time.monotonic()
            throttle = self.guard.throttle if self.guard else 1.0
            for name, interval, source, optional in self.jobs:
                if now < due[name] or self._stop.is_set():
                    continue
                due[name] = now + getattr(self.config, interval) * throttle
                if optional and self.guard and self.guard.sheds(optional):
                    continue
                self._run_source(name, source)
            dirty = self.watcher.take_dirty()
            if dirty:
                self._rescan(dirty)
            if self.guard and now >= guard_due:
                guard_due = now + self.config.footprint_interval
                try:
                    if self.guard.check():
                        log.warning("agent over its footprint budget: %s", self.guard.report())
                except Exception:
                    log.exception("footprint check failed")
            self.tracker.save()
            wait = min([*due.values(), guard_due]) - time.monotonic()
            if self._wake.wait(max(0.05, wait)):
                self._wake.clear()
                self._stop.wait(0.2)      # debounce: editors write a file in several steps

    def _run_source(self, name: str, source: Callable[[], list[Observation]]) -> None:
        try:
            self.tracker.observe(source())
            self.passes[name] += 1
        except Exception:                 # a failed pass must never end discovery
            log.exception("%s discovery failed", name)

    def _rescan(self, dirty: set[str]) -> None:
        known = [self.discovery.targets[p] for p in dirty if p in self.discovery.targets
                 and Path(p).is_file()]
        if len(known) == len(dirty):
            found = [o for t in known for o in self.discovery.scan_target(t)]
            try:
                self.tracker.observe(found)
            except Exception:
                log.exception("config rescan failed")
        else:                              # a new file or folder: plan the targets again
            self._run_source("configs", self._configs)
