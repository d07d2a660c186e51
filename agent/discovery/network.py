"""Network source: local model servers listening on their catalog ports, and connections to
the catalog's API hosts (resolved periodically to address sets), each attributed to its
process. Where the OS hides other users' sockets (macOS without root), only the agent's own
user's processes are seen, and ``limitation`` says so."""
from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import psutil

from shadowmap.agent.discovery import Observation
from shadowmap.detectors.ai_names import GENERIC_MODEL_PORTS, model_server_listener

if TYPE_CHECKING:
    from shadowmap.agent.discovery.tls_names import Hello

if TYPE_CHECKING:
    from shadowmap.detectors.catalog import Catalog

log = logging.getLogger(__name__)

Resolver = Callable[[str], Iterable[str]]
MAX_API_DOMAINS = 200            # bounded DNS work per refresh
RESOLVE_BUDGET = 10.0            # seconds of resolving per refresh at most
PARTIAL_RETRY = 60.0
MAX_STUCK_LOOKUPS = 2            # hung lookup threads tolerated before refreshes pause
CONNECTED = {psutil.CONN_ESTABLISHED, psutil.CONN_SYN_SENT}


def system_resolver(host: str) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, 443, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return []
    return sorted({str(info[4][0]) for info in infos})     # the address of (address, port, ...)


@dataclass(frozen=True)
class SocketMatch:
    tool_id: str | None       # None: a model-server port outside the catalog
    kind: str                 # "listener" | "network"
    pid: int | None
    process: str | None
    user: str | None
    port: int | None = None
    domain: str | None = None
    via: str | None = None    # how a "network" match was made: remote_address (default) or tls_server_name


class AddressBook:
    """API host -> addresses, refreshed at most every ``refresh_seconds``. Lookups run in a
    worker thread that the refresh waits for at most ``budget`` seconds: a resolver that
    hangs (no network, a dead DNS server) never holds discovery up longer than that, and the
    hosts it did not reach keep the addresses they had."""

    def __init__(self, catalog: Catalog, resolver: Resolver = system_resolver, refresh_seconds: float = 1800,
                 budget: float = RESOLVE_BUDGET):
        self.catalog = catalog
        self.resolver = resolver
        self.refresh_seconds = refresh_seconds
        self.budget = budget
        self.by_address: dict[str, tuple[str, str]] = {}
        self.limitation: str | None = None
        self._refreshed = float("-inf")
        self._cursor = 0
        self._stuck: list[threading.Thread] = []      # workers still inside a hung lookup

    def refresh(self, force: bool = False) -> None:
        if not force and time.monotonic() - self._refreshed < self.refresh_seconds:
            return
        hosts = [(tool.id, host) for tool in self.catalog.tools for host in tool.api_domains][:MAX_API_DOMAINS]
        self._stuck = [t for t in self._stuck if t.is_alive()]
        if not hosts:
            return
        if len(self._stuck) >= MAX_STUCK_LOOKUPS:       # do not pile threads on a dead resolver
            self.limitation = "DNS lookups of the AI API hosts hang: the previous addresses are kept"
            self._refreshed = time.monotonic() - self.refresh_seconds + min(self.refresh_seconds, PARTIAL_RETRY)
            return
        order = [hosts[(self._cursor + i) % len(hosts)] for i in range(len(hosts))]
        run = _Lookups(order, self.resolver, time.monotonic() + self.budget)
        worker = threading.Thread(target=run, name="dns-refresh", daemon=True)
        worker.start()
        worker.join(self.budget)
        done, resolved, hung = run.finish()
        if worker.is_alive():
            self._stuck.append(worker)
        fresh = {host for _, host in order[:done]}
        # keep what the hosts not reached this time resolved to before
        table = {a: v for a, v in self.by_address.items() if v[1] not in fresh}
        table.update(resolved)
        self.by_address = table
        skipped = done + (1 if hung else 0)            # a host that hung goes to the back
        self._cursor = (self._cursor + skipped) % len(hosts)
        self.limitation = None if done >= len(hosts) else (
            f"DNS resolution of the AI API hosts stopped after {self.budget:g} s ({done} of {len(hosts)} "
            "resolved): the previous addresses are kept")
        # all resolved: rest for refresh_seconds; some left: go on within a minute
        wait = self.refresh_seconds if done >= len(hosts) else min(self.refresh_seconds, PARTIAL_RETRY)
        self._refreshed = time.monotonic() - self.refresh_seconds + wait


class _Lookups:
    """One refresh's lookups, in order, until the deadline; ``finish`` takes what is done and
    makes a lookup that returns after it a no-op (its result is not used)."""

    def __init__(self, hosts: list[tuple[str, str]], resolver: Resolver, deadline: float):
        self.hosts = hosts
        self.resolver = resolver
        self.deadline = deadline
        self.done = 0
        self.resolved: dict[str, tuple[str, str]] = {}
        self.in_lookup = False
        self.abandoned = False
        self.lock = threading.Lock()

    def __call__(self) -> None:
        for tool_id, host in self.hosts:
            if time.monotonic() >= self.deadline:
                return
            with self.lock:
                if self.abandoned:
                    return
                self.in_lookup = True
            try:
                addresses = list(self.resolver(host) or ())
            except Exception:       # an injected or system resolver failing is not fatal
                log.debug("cannot resolve %s", host, exc_info=True)
                addresses = []
            with self.lock:
                self.in_lookup = False
                if self.abandoned:
                    return
                for address in addresses:
                    self.resolved.setdefault(str(address), (tool_id, host))
                self.done += 1

    def finish(self) -> tuple[int, dict[str, tuple[str, str]], bool]:
        """(hosts done, addresses found, whether a lookup was still running)."""
        with self.lock:
            self.abandoned = True
            return self.done, dict(self.resolved), self.in_lookup


def _all_connections() -> tuple[list[tuple[int | None, Any]], str | None]:
    """(pid, socket) for every TCP socket, or (without the right) the agent user's own,
    with the reason."""
    try:
        return [(c.pid, c) for c in psutil.net_connections(kind="tcp")], None
    except psutil.AccessDenied:
        own: list[tuple[int | None, Any]] = []
        for proc in psutil.process_iter(["pid"]):
            try:
                own.extend((proc.pid, c) for c in proc.net_connections(kind="tcp"))
            except (psutil.AccessDenied, psutil.NoSuchProcess, psutil.ZombieProcess):
                continue
        return own, "other users' sockets need root on this OS: only the agent user's own are seen"


def _owner(pid: int | None) -> tuple[str | None, str | None]:
    if not pid:
        return None, None
    try:
        proc = psutil.Process(pid)
        with proc.oneshot():
            return proc.name(), _safe_user(proc)
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return None, None


def _safe_user(proc: psutil.Process) -> str | None:
    try:
        return proc.username()
    except (psutil.AccessDenied, KeyError):
        return None


def scan(catalog: Catalog, book: AddressBook | None, ports: dict[int, str] | None = None,
         skip_pids: Iterable[int] = (), unknown: bool = True) -> tuple[list[SocketMatch], str | None]:
    """Listeners on local-model ports and connections to API addresses. ``ports`` overrides
    the catalog's local_ports (tool id per port); ``unknown``: also listeners outside the
    catalog on model-server ports."""
    if ports is None:
        ports = {port: tool.id for tool in catalog.tools for port in tool.local_ports}
    conns, limitation = _all_connections()
    skip = set(skip_pids)
    found: list[SocketMatch] = []
    for pid, conn in conns:
        if pid in skip:
            continue
        if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port in ports:
            name, user = _owner(pid)
            found.append(SocketMatch(ports[conn.laddr.port], "listener", pid, name, user,
                                     port=conn.laddr.port))
        elif unknown and conn.status == psutil.CONN_LISTEN and conn.laddr and unknown_model_port(conn.laddr.port, pid):
            name, user = _owner(pid)
            found.append(SocketMatch(None, "listener", pid, name, user, port=conn.laddr.port))
        elif book is not None and conn.status in CONNECTED and conn.raddr \
                and conn.raddr.ip in book.by_address:
            tool_id, host = book.by_address[conn.raddr.ip]
            name, user = _owner(pid)
            found.append(SocketMatch(tool_id, "network", pid, name, user, domain=host))
    if any(m.pid is None for m in found) and limitation is None:
        limitation = "some sockets' processes are hidden without root: reported without a process"
    return found, limitation


def tls_matches(hellos: Iterable[Hello]) -> list[SocketMatch]:
    """TLS connections to AI-looking hosts outside the catalog (tls_names.HelloWatch), each
    with the process whose local port sent the hello while its connection still stands."""
    hellos = list(hellos)
    if not hellos:
        return []
    conns, _ = _all_connections()
    by_port = {conn.laddr.port: pid for pid, conn in conns if conn.laddr and conn.raddr}
    found = []
    for hello in hellos:
        pid = by_port.get(hello.source_port) if hello.source_port is not None else None
        name, user = _owner(pid)
        found.append(SocketMatch(None, "network", pid, name, user, domain=hello.host, via="tls_server_name"))
    return found


def unknown_model_port(port: int, pid: int | None) -> bool:
    """A listener outside the catalog worth reporting (detectors/ai_names.py's rule); the
    process's name is looked up only for a generic web port."""
    name = (_owner(pid)[0] or "") if port in GENERIC_MODEL_PORTS else ""
    return model_server_listener(name, port)


def observations(matches: Iterable[SocketMatch], fallback_user: str) -> list[Observation]:
    seen: dict[tuple, Observation] = {}
    for m in matches:
        user = m.user or fallback_user
        process = m.process or "unknown (needs root)"
        where = m.port if m.kind == "listener" else m.domain
        key = (m.kind, m.tool_id, user, process, where)
        if key in seen:
            continue
        data: dict[str, Any] = {"tool_id": m.tool_id, "source": m.kind, "process": process[:256]}
        if m.kind == "listener":
            data.update(port=m.port, matched_by="port")
        else:
            data.update(domain=m.domain, matched_by=m.via or "remote_address")
        if m.user:
            data["process_user"] = m.user[:256]
        seen[key] = Observation("ai_tool.observed", key, "", user, data)
    return list(seen.values())
