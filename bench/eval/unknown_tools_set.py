"""The labelled set of bench/unknown_tools.py: tools (a process, a host, a listener) known to be
AI or not, each with the signals the collector would give a sighting of it.

AI: the catalog's process names and web/API hosts; as listeners, the catalog's local_ports
with the tool's process names, and the model servers whose default ports the catalog's
comments and detectors/ai_names.py document but the catalog does not claim (RUNTIME_PORTS).
Not AI: this machine's executables (/usr/bin, /usr/sbin) and Debian package names as processes;
the hosts named in /usr/share/doc/*/copyright; as listeners, the TCP services of /etc/services
(Debian's netbase) on their registered ports, the web servers installed here on the
default port their own source sets (WEB_SERVERS), and developer tools whose documentation
puts their server on a model server's port (NON_AI_DEFAULT_PORTS).

Signals are the collector's own (collector/alerts/unknown_tools.py) for the event the agent
sends: a process seen running, a host connected to, a listener found. The agent reports an
uncatalogued listener only on a port model servers use (agent/discovery/network.py
unknown_model_port: a distinct one, or a generic web port with an AI-looking name); a listener
it would not report has no sighting, so no signals. Behaviour (pastes, the extension, devices)
is not in these facts, so no tool here carries those signals."""
from __future__ import annotations

import hashlib
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from shadowmap.collector.alerts import unknown_tools
from shadowmap.detectors.ai_names import model_server_listener
from shadowmap.detectors.catalog import load_catalog

HOST = re.compile(r"https?://([a-z0-9][a-z0-9.-]+\.[a-z]{2,})", re.I)
SERVICES = Path("/etc/services")
# Model servers on their documented default ports, under the process name the agent would see,
# that the catalog does not claim by port (its comments and detectors/ai_names.py name them).
RUNTIME_PORTS = (("llama-server", 8080, "llama.cpp's server (runtimes.yaml)"),
                 ("local-ai", 8080, "LocalAI (runtimes.yaml)"),
                 ("vllm", 8000, "vLLM (runtimes.yaml)"),
                 ("python3", 7860, "text-generation-webui, Gradio (runtimes.yaml)"),
                 ("tabby", 8080, "Tabby's server (coding.yaml)"),
                 ("koboldcpp", 5001, "KoboldCpp (ai_names.py)"),
                 ("python3", 8188, "ComfyUI (ai_names.py)"))
# Programs that are not AI listening by default on ports model servers use, under the process
# name the agent would see, with the documentation that sets the port.
NON_AI_DEFAULT_PORTS = (("node", 3001, "Browsersync's UI (browser-sync lib/default-config.js: ui.port 3001)"),
                        ("iperf", 5001, "iperf2's server (lwIP's iperf docs: the default TCP port (5001))"))
# Web servers installed here: (process, source file, pattern whose group is the default port)
WEB_SERVERS = (("python3", "http/server.py", r"add_argument\('port', default=(\d+)", "python -m http.server"),
               ("python3", "aiohttp/web.py", r"default=(\d+),", "python -m aiohttp.web"))


@dataclass(frozen=True)
class Tool:
    kind: str                 # process | host | listener
    name: str                 # a process name or a host; a listener's process name
    ai: bool
    signals: frozenset[str]
    source: str               # where its label comes from
    port: int | None = None   # listeners

    @property
    def half(self) -> str:
        return half(self.name)

    @property
    def label(self) -> str:
        return f"{self.name}:{self.port}" if self.port is not None else self.name


def half(name: str) -> str:
    """tune or report, by a hash of the name (the name rule was tuned on the same halves)."""
    return "tune" if hashlib.sha256(name.encode()).digest()[0] % 2 == 0 else "report"


def signals_of(kind: str, name: str, port: int | None = None) -> frozenset[str]:
    if kind == "process":
        data: dict = {"source": "process", "process": name}
    elif kind == "host":
        data = {"source": "network", "process": "unknown (needs root)", "domain": name}
    elif port is not None and model_server_listener(name, port):
        data = {"source": "listener", "process": name, "port": port}
    else:
        return frozenset()
    sighting = unknown_tools._sighting({"type": "ai_tool.observed", "data": {"tool_id": None, **data}})
    return frozenset(sighting[2]) if sighting else frozenset()


def tool(kind: str, name: str, ai: bool, source: str, port: int | None = None) -> Tool:
    return Tool(kind, name, ai, signals_of(kind, name, port), source, port)


def ai_tools() -> list[Tool]:
    tools: list[Tool] = []
    for t in load_catalog().tools:
        tools += [tool("process", p, True, f"catalog {t.id}") for p in t.process_names]
        tools += [tool("host", h, True, f"catalog {t.id}") for h in (*t.domains, *t.api_domains)]
        tools += [tool("listener", p, True, f"catalog {t.id}", port) for p in t.process_names for port in t.local_ports]
    tools += [tool("listener", p, True, source, port) for p, port, source in RUNTIME_PORTS]
    return tools


def services() -> tuple[list[tuple[str, int]], str | None]:
    """(name, port) of /etc/services' TCP entries, or a note why there are none."""
    try:
        text = SERVICES.read_text("utf-8", errors="replace")
    except OSError:
        return [], f"{SERVICES} is missing (Debian's netbase package provides it): no registered services"
    found = []
    for line in text.splitlines():
        fields = line.split("#", 1)[0].split()
        if len(fields) >= 2 and fields[1].endswith("/tcp") and fields[1].split("/")[0].isdigit():
            found.append((fields[0], int(fields[1].split("/")[0])))
    return found, None


def web_servers() -> list[tuple[str, int, str]]:
    """(process, default port, what) of the web servers whose source is installed here."""
    import http

    import aiohttp

    roots = {"http": Path(http.__file__).parent.parent, "aiohttp": Path(aiohttp.__file__).parent.parent}
    found = []
    for process, relative, pattern, what in WEB_SERVERS:
        try:
            match = re.search(pattern, (roots[relative.split("/")[0]] / relative).read_text("utf-8"))
        except OSError:
            continue
        if match:
            found.append((process, int(match.group(1)), what))
    return found


def non_ai_tools(limit: int | None) -> tuple[list[Tool], list[str]]:
    """Tools known not to be AI (``limit``: the first so many names of each source), and notes
    about sources that were missing."""
    catalog, notes = load_catalog(), []
    executables = {p.name for folder in ("/usr/bin", "/usr/sbin") for p in Path(folder).glob("*")}
    try:
        packages = set(subprocess.run(["dpkg-query", "-W", "-f", "${Package}\n"], capture_output=True, text=True,
                                      timeout=60).stdout.split())
    except (OSError, subprocess.SubprocessError):
        packages = set()
        notes.append("dpkg-query failed: no Debian package names")
    hosts: set[str] = set()
    for path in sorted(Path("/usr/share/doc").glob("*/copyright"))[:limit]:
        try:
            hosts.update(h.lower().rstrip(".") for h in HOST.findall(path.read_text("utf-8", errors="replace")))
        except OSError:
            continue
    names = sorted(executables | packages)
    tools = [tool("process", n, False, "this machine's programs") for n in (names[:limit] if limit else names)
             if catalog.match_process(n) is None]
    tools += [tool("host", h, False, "copyright files") for h in sorted(hosts) if catalog.match_domain(h) is None]
    registered, note = services()
    if note:
        notes.append(note)
    tools += [tool("listener", n, False, "/etc/services", port) for n, port in registered[:limit]]
    tools += [tool("listener", p, False, what, port) for p, port, what in web_servers()]
    tools += [tool("listener", p, False, what, port) for p, port, what in NON_AI_DEFAULT_PORTS]
    return tools, notes
