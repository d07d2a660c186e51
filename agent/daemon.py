"""The agent process: wires spool, policy, enrollment, IPC server, uploader, heartbeat,
policy refresher, discovery and the footprint guard together, and takes them down cleanly."""
from __future__ import annotations

import json
import logging
import os
import platform
import socket
import threading
from collections.abc import Callable
from typing import Any

import psutil

from shadowmap import __version__
from shadowmap.agent import events
from shadowmap.agent.config import AgentConfig
from shadowmap.agent.discovery.service import Discovery, DiscoveryService, SerializedEngine
from shadowmap.agent.discovery.tracker import Tracker
from shadowmap.agent.enroll import EnrollmentHolder
from shadowmap.agent.footprint import FootprintGuard
from shadowmap.agent.handlers import Engine, RequestHandlers, Summarize
from shadowmap.agent.ipc import make_server
from shadowmap.agent.org_detectors import OrgDetectorSync, OrgSwappable
from shadowmap.agent.policy import PolicyStore
from shadowmap.agent.spool import Spool
from shadowmap.agent.uploader import Uploader
from shadowmap.detectors.catalog import Catalog

log = logging.getLogger(__name__)

DISCOVERY_STATE = "discovery.json"
STATUS_FILE = "status.json"       # the last heartbeat's data, for `shadowmap agent status`


def agent_user() -> str:
    if os.name != "posix":          # Windows service: the account the agent runs as
        import getpass
        return getpass.getuser()
    import pwd
    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:
        return f"uid:{os.geteuid()}"


def logged_in_users() -> list[str]:
    try:
        return sorted({u.name for u in psutil.users() if u.name})
    except (OSError, psutil.Error):
        return []


def write_status(path: os.PathLike, heartbeat: dict) -> None:
    """Keep the last heartbeat (limits, footprint, spool) where `agent status` can read it."""
    tmp = f"{os.fspath(path)}.tmp"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump({"ts": heartbeat["ts"], **heartbeat["data"]}, fh)
        os.replace(tmp, path)
    except OSError as exc:
        log.warning("cannot write %s: %s", path, exc)


class AgentDaemon:
    def __init__(self, config: AgentConfig, engine: Engine, catalog: Catalog, summarize: Summarize,
                 **discovery_options: Any):
        """``discovery_options`` go to shadowmap.agent.discovery.service.Discovery (tests inject a
        resolver, homes and ports)."""
        self.config = config
        config.state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.spool = Spool(config.spool_path, config.spool_max_bytes)
        self.identity = EnrollmentHolder(config.state_dir, config.enroll_secret_file, config.mode)
        self.policy = PolicyStore(config.policy_path)
        # the org detectors the policy carries (cached from the last pull) replace the engine's
        self.org_detectors = OrgDetectorSync(engine) if isinstance(engine, OrgSwappable) else None
        if self.org_detectors is not None:
            self.org_detectors.apply(self.policy.policy)
        engine = SerializedEngine(engine)     # shared by pastes and config scans
        self.handlers = RequestHandlers(engine, catalog, summarize, self.policy, self.spool, self.identity)
        self.ipc = make_server(config.socket_path, self.handlers.handle, config.mode)
        self.uploader = Uploader(config, self.spool, self.identity)
        self.guard = FootprintGuard(config.cpu_budget_percent, config.rss_budget_mb)
        self._local_key = os.urandom(32)
        self.discovery: DiscoveryService | None = None
        if config.discovery:
            finder = Discovery(config, catalog, user=agent_user(), org_key=self._org_key,
                               scan=engine.scan, summarize=summarize, guard=self.guard, **discovery_options)
            tracker = Tracker(config.state_dir / DISCOVERY_STATE, self._emit)
            self.discovery = DiscoveryService(finder, tracker, self.guard)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def _device_id(self) -> str:
        current = self.identity.current
        return current.device_id if current else events.UNENROLLED_DEVICE

    def _org_key(self) -> bytes:
        # until enrollment gives the org key, hashes use a per-process key (not correlatable)
        current = self.identity.current
        return current.org_key_bytes if current else self._local_key

    def _emit(self, event_type: str, user: str, data: dict) -> None:
        self.spool.put(events.discovered(event_type, device_id=self._device_id(), user=user, data=data))

    def start(self) -> None:
        self.ipc.start()
        self.uploader.start()
        if self.discovery is not None:
            self.discovery.start()
        self._every("heartbeat", self.config.heartbeat_interval, self.heartbeat)
        self._every("policy", self.config.policy_refresh_interval, self.refresh_policy)

    def stop(self, flush_timeout: float = 5.0) -> None:
        """Stop taking requests first, then give the uploader a bounded last chance."""
        self._stop.set()
        self.ipc.stop()
        if self.discovery is not None:
            self.discovery.stop()
        for thread in self._threads:
            thread.join(timeout=2)
        self.uploader.stop(flush_timeout)
        self.spool.close()

    def _every(self, name: str, interval: float, job: Callable[[], object]) -> None:
        def loop() -> None:
            while not self._stop.is_set():
                try:
                    job()
                except Exception:      # a failed tick must not end the loop
                    log.exception("%s failed", name)
                self._stop.wait(interval)
        thread = threading.Thread(target=loop, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def heartbeat(self) -> dict:
        if not self.guard.over_budget_count and not self.guard.rss_mb:
            self.guard.sample()           # first heartbeat: a figure since start
        event = events.agent_heartbeat(
            device_id=self._device_id(),
            user=agent_user(), agent_version=__version__, hostname=socket.gethostname(),
            os_name=platform.system() or "unknown", os_version=platform.release(),
            spool_depth=self.spool.depth(), users=logged_in_users(),
            spool_dropped=self.spool.dropped(), footprint=self.guard.report(),
            discovery=self.discovery.limitations if self.discovery else None,
            extensions=self.discovery.extension_states() if self.discovery else None)
        self.spool.put(event)
        write_status(self.config.state_dir / STATUS_FILE, event)
        if self.spool.dropped():
            log.warning("%d events were dropped because the spool was full", self.spool.dropped())
        return event

    def refresh_policy(self) -> bool:
        current = self.identity.current
        url = self.config.collector_url or (current.collector_url if current else None)
        if current is None or not url:
            return False
        changed = self.policy.refresh(url, current.node_key, self.config.request_timeout)
        if changed and self.org_detectors is not None:
            self.org_detectors.apply(self.policy.policy)
        return changed
